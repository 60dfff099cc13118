package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// MinMetricsToken is the fewest characters a metrics bearer token has:
// 32 random characters are far beyond guessing over the network.
const MinMetricsToken = 32

// ErrMetricsToken: the token file does not hold a usable token.
var ErrMetricsToken = errors.New("api: the metrics token must be at least 32 visible ASCII characters, with no spaces")

// ParseMetricsToken takes a token file's bytes: surrounding whitespace
// is dropped, and what is left must be at least MinMetricsToken visible
// ASCII characters (it travels in a header). The error quotes nothing of
// the file.
func ParseMetricsToken(b []byte) ([]byte, error) {
	tok := bytes.TrimSpace(b)
	if len(tok) < MinMetricsToken {
		return nil, ErrMetricsToken
	}
	for _, c := range tok {
		if c < 0x21 || c > 0x7e {
			return nil, ErrMetricsToken
		}
	}
	return bytes.Clone(tok), nil
}

// metricsRealm names what the bearer token opens (RFC 6750).
const metricsRealm = `Bearer realm="strongroom-metrics"`

// checkBearer reports whether r carries token in its Authorization header
// (RFC 6750 section 2.1; never a query parameter or a form field, which
// end up in logs and histories); if not, the message and the
// WWW-Authenticate challenge to answer with. The comparison is of SHA-256
// digests in constant time, so neither the token nor its length leaks
// through timing.
func checkBearer(r *http.Request, token []byte) (ok bool, msg, challenge string) {
	scheme, given, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || given == "" {
		return false, "metrics need the token in an Authorization: Bearer header (never in the web address)", metricsRealm
	}
	want, got := sha256.Sum256(token), sha256.Sum256([]byte(strings.TrimSpace(given)))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return false, "the metrics token is wrong", metricsRealm + `, error="invalid_token"`
	}
	return true, "", ""
}

// Protected serves the metrics to requests that carry token as a bearer
// token, and a 401 with the API's JSON error shape to the rest; a nil
// token serves everyone (a listener of its own, on a trusted address).
func (m *Metrics) Protected(token []byte) http.Handler {
	h := m.Handler()
	if token == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, msg, challenge := checkBearer(r, token); !ok {
			w.Header().Set("WWW-Authenticate", challenge)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(errorBody{Error: msg})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsRoute serves GET /metrics on the vault's own listener behind the
// bearer token; refusals go through the one error handler.
func (s *server) metricsRoute(token []byte) echo.HandlerFunc {
	h := s.metrics.Handler()
	return func(c echo.Context) error {
		if ok, msg, challenge := checkBearer(c.Request(), token); !ok {
			c.Response().Header().Set("WWW-Authenticate", challenge)
			return echo.NewHTTPError(http.StatusUnauthorized, msg)
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
