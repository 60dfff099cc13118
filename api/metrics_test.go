package api

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// /healthz answers always; /readyz only while unsealed and committing.
func TestHealthAndReady(t *testing.T) {
	e := newEnv(t)
	if st, body := e.call(t, "GET", "/healthz", "", ""); st != 200 || !strings.Contains(string(body), "alive") {
		t.Fatalf("healthz %d %s", st, body)
	}
	if st, body := e.call(t, "GET", "/readyz", "", ""); st != 200 || !strings.Contains(string(body), "ready") {
		t.Fatalf("readyz unsealed %d %s", st, body)
	}
	if st, body := e.call(t, "POST", "/v1/sys/seal", e.token, ""); st != 200 {
		t.Fatalf("seal %d %s", st, body)
	}
	if st, body := e.call(t, "GET", "/readyz", "", ""); st != 503 || !strings.Contains(string(body), "sealed") {
		t.Fatalf("readyz sealed %d %s", st, body)
	}
}

// Request metrics are labelled by route pattern, never by the path
// (which may hold a credential's or a person's name).
func TestMetricsLabelsArePatterns(t *testing.T) {
	e := newEnv(t)
	m := NewMetrics()
	m.Attach(e.v, nil)
	h := newServer(e.v, Options{Metrics: m}, 1000)
	for _, path := range []string{"/v1/creds/Bank%20of%20Scotland", "/v1/no/such/Alice"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if !strings.Contains(string(body), `route="/v1/creds/:name"`) || !strings.Contains(string(body), `route="unmatched"`) {
		t.Fatalf("routes missing:\n%s", body)
	}
	for _, leak := range []string{"Bank", "Alice", "IT Provider"} {
		if strings.Contains(string(body), leak) {
			t.Fatalf("metrics carry %q", leak)
		}
	}
}
