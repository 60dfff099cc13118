package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"strongroom/audit"
)

func rateLimit(r float64) rate.Limit { return rate.Limit(r) }

// secretBytes is a JSON string decoded into bytes the handler can wipe.
type secretBytes []byte

// UnmarshalJSON reads a JSON string.
func (s *secretBytes) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return errors.New("expected a string")
	}
	*s = []byte(str)
	return nil
}

// String redacts.
func (s secretBytes) String() string { return "(redacted)" }

func (s secretBytes) wipe() {
	for i := range s {
		s[i] = 0
	}
}

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
	base, err := json.Marshal(public)
	if err != nil {
		return nil, err
	}
	n := len(base) + 16
	for i := range fields {
		n += len(fields[i]) + 2*len(values[i]) + 8
	}
	buf := make([]byte, 0, n*2)
	buf = append(buf, base[:len(base)-1]...)
	for i, f := range fields {
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendQuote(buf, f)
		buf = append(buf, ':')
		buf = audit.AppendString(buf, values[i])
	}
	return append(buf, '}'), nil
}

func wipeBytes(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
