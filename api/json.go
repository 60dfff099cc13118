package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"strongroom/api/wire"
)

func rateLimit(r float64) rate.Limit { return rate.Limit(r) }

// bind decodes a JSON body strictly: unknown fields and trailing data are
// errors, reported without echoing the body.
func bind(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errBadRequest("request body must be a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errBadRequest("malformed JSON: the body ends early")
		case errors.As(err, &syn):
			return errBadRequest(fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
		case errors.As(err, &typ):
			return errBadRequest(fmt.Sprintf("field %q has the wrong type", typ.Field))
		default:
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return he
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
			}
			return errBadRequest("malformed request: " + trimJSONErr(err.Error()))
		}
	}
	if dec.More() {
		return errBadRequest("request body has data after the JSON object")
	}
	return nil
}

// trimJSONErr keeps encoding/json's description of unknown fields and the
// like, which names fields, not values.
func trimJSONErr(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		s = s[len(p):]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// secretJSON builds a JSON object from a non-secret value and extra secret
// string fields, in a buffer the caller wipes after writing.
func secretJSON(public any, fields []string, values [][]byte) ([]byte, error) {
	return wire.AppendObject(nil, public, fields, values)
}

func wipeBytes(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
