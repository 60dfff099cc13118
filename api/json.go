package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"strongroom/api/wire"
)

func rateLimit(r float64) rate.Limit { return rate.Limit(r) }

// bind is the one JSON decoder of every route that takes a body. It is
// strict where encoding/json is lenient, so that what a client meant and
// what the vault reads cannot differ:
//   - the Content-Type must be application/json (charset, if given, utf-8):
//     415 otherwise;
//   - the body is one JSON object, with nothing after it;
//   - a member's name must be a field's name exactly: encoding/json would
//     match "NAME" to the field "name" (and let the last of "name" and
//     "NAME" win), so a case variant is refused, and so is an unknown
//     member and a member given twice, at any depth (checkMembers).
//
// Errors are 400s whose JSON names the field and the byte offset, never a
// value from the body. The body is read into one buffer, wiped once
// decoded; no value is copied into a Go string on the way except by the
// destination's own decoding (wire.Secret keeps secrets in []byte).
func bind(c echo.Context, v any) error {
	if err := jsonContentType(c.Request().Header.Get(echo.HeaderContentType)); err != nil {
		return err
	}
	buf, err := io.ReadAll(c.Request().Body)
	defer wipeBytes(buf)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
		}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he
		}
		return errBadRequest("the request body could not be read")
	}
	return decodeStrict(buf, v)
}

// decodeStrict decodes buf, one JSON object, into v under bind's rules.
func decodeStrict(buf []byte, v any) error {
	// First the syntax, with a destination that keeps nothing: encoding/json
	// skips every member's value without making a string of it.
	dec := json.NewDecoder(bytes.NewReader(buf))
	var skip struct{}
	if err := dec.Decode(&skip); err != nil {
		return syntaxError(err)
	}
	end := int(dec.InputOffset())
	if len(bytes.TrimLeft(buf[end:], " \t\r\n")) != 0 {
		return errBadRequest("request body has data after the JSON object")
	}
	if err := checkMembers(buf[:end], v); err != nil {
		return err
	}
	if err := json.Unmarshal(buf[:end], v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return &bodyError{Field: typ.Field, Msg: fmt.Sprintf("field %q has the wrong type", typ.Field)}
		}
		return errBadRequest("malformed request: " + trimJSONErr(err.Error()))
	}
	return nil
}

// jsonContentType accepts application/json, with at most a utf-8 charset.
func jsonContentType(h string) error {
	mt, params, err := mime.ParseMediaType(h)
	cs, hasCS := params["charset"]
	delete(params, "charset")
	if err != nil || mt != "application/json" || len(params) != 0 || hasCS && !strings.EqualFold(cs, "utf-8") {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "the request body must be JSON, sent with Content-Type: application/json")
	}
	return nil
}

func syntaxError(err error) error {
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
		return errBadRequest("request body must be a JSON object")
	}
	return errBadRequest("malformed request: " + trimJSONErr(err.Error()))
}

// bodyError is a 400 about one member of a JSON body: Field is its path
// ("assignees", "items[2].name"), "" when the member has no name we may
// repeat.
type bodyError struct{ Field, Msg string }

func (e *bodyError) Error() string { return e.Msg }

// trimJSONErr keeps encoding/json's description of the failure, which
// names fields and types, not values.
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
