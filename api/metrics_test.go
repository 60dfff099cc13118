package api

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"strongroom/vault"
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

// /metrics on the vault's own listener opens only to the bearer token in
// the Authorization header; the separate listener's handler likewise
// once a token is given.
func TestMetricsBearerToken(t *testing.T) {
	e := newEnv(t)
	m := NewMetrics()
	m.Attach(e.v, nil)
	token, err := ParseMetricsToken([]byte("  \n" + strings.Repeat("k3", 20) + "\r\n"))
	if err != nil || string(token) != strings.Repeat("k3", 20) {
		t.Fatalf("token %q %v", token, err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	main := newServer(e.v, Options{Logger: quiet, Metrics: m, MetricsToken: token}, 1000)
	cases := []struct {
		name, path, auth string
		want             int
		challenge        string
	}{
		{"no token", "/metrics", "", 401, `Bearer realm="strongroom-metrics"`},
		{"wrong token", "/metrics", "Bearer " + strings.Repeat("k4", 20), 401, `Bearer realm="strongroom-metrics", error="invalid_token"`},
		{"a prefix of the token", "/metrics", "Bearer " + strings.Repeat("k3", 19), 401, `Bearer realm="strongroom-metrics", error="invalid_token"`},
		{"basic, not bearer", "/metrics", "Basic " + string(token), 401, `Bearer realm="strongroom-metrics"`},
		{"token in the query", "/metrics?access_token=" + string(token), "", 401, `Bearer realm="strongroom-metrics"`},
		{"token in the query as token", "/metrics?token=" + string(token), "", 401, `Bearer realm="strongroom-metrics"`},
		{"right token", "/metrics", "Bearer " + string(token), 200, ""},
		{"right token, scheme in lower case", "/metrics", "bearer " + string(token), 200, ""},
	}
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"main listener", main}, {"metrics listener", m.Protected(token)}} {
		for _, c := range cases {
			req := httptest.NewRequest("GET", c.path, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := httptest.NewRecorder()
			h.h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != c.want || rec.Header().Get("WWW-Authenticate") != c.challenge {
				t.Errorf("%s, %s: %d %q %s", h.name, c.name, rec.Code, rec.Header().Get("WWW-Authenticate"), body)
				continue
			}
			if c.want == 401 {
				var eb errorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" || strings.Contains(body, "k3k3") {
					t.Errorf("%s, %s: error body %s", h.name, c.name, body)
				}
			} else if !strings.Contains(body, "strongroom_sealed 0") {
				t.Errorf("%s, %s: no metrics:\n%s", h.name, c.name, body)
			}
		}
	}
	// Without a token the main listener has no /metrics at all.
	rec := httptest.NewRecorder()
	newServer(e.v, Options{Logger: quiet, Metrics: m}, 1000).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Fatalf("/metrics without a token on the main listener: %d", rec.Code)
	}
	for _, bad := range []string{"", "short", strings.Repeat("x", 31), strings.Repeat("x", 20) + " " + strings.Repeat("y", 20), strings.Repeat("é", 20)} {
		if _, err := ParseMetricsToken([]byte(bad)); !errors.Is(err, ErrMetricsToken) {
			t.Errorf("ParseMetricsToken(%q): %v", bad, err)
		}
	}
}

// The store's commits are counted with their batch sizes and times, from
// the store's own observer, and move with each write.
func TestMetricsStoreCommits(t *testing.T) {
	m := NewMetrics()
	st, err := vault.OpenBolt(t.TempDir(), vault.BoltOptions{Observe: m.ObserveCommit})
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(vault.Config{Store: m.Store(st), KDF: vault.KDFParams{Memory: vault.MinKDFMemory, Time: vault.MinKDFTime, Threads: 1},
		PasswordKDF: vault.KDFParams{Memory: 8 * 1024, Time: 1, Threads: 1}})
	t.Cleanup(func() { v.Close() })
	m.Attach(v, nil)
	read := func() map[string]float64 {
		fams, err := m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, f := range fams {
			for _, mt := range f.GetMetric() {
				if h := mt.GetHistogram(); h != nil {
					out[f.GetName()+"_count"] += float64(h.GetSampleCount())
					out[f.GetName()+"_sum"] += h.GetSampleSum()
				} else if c := mt.GetCounter(); c != nil {
					out[f.GetName()] += c.GetValue()
				}
			}
		}
		return out
	}
	before := read()
	if _, err := v.Init(t.Context(), vault.Request{}, vault.InitRequest{Shares: 1, Threshold: 1,
		Holders: []string{"Chairman"}, Admin: "IT Provider", Passphrase: []byte("correct horse battery staple")}); err != nil {
		t.Fatal(err)
	}
	after := read()
	commits := after["strongroom_store_commits_total"] - before["strongroom_store_commits_total"]
	if commits < 1 {
		t.Fatalf("no commit counted: %v", after)
	}
	for _, name := range []string{"strongroom_store_commit_writes_count", "strongroom_store_commit_seconds_count", "strongroom_store_commit_disk_write_seconds_count"} {
		if got := after[name] - before[name]; got != commits {
			t.Errorf("%s moved by %v, want %v (one per commit)", name, got, commits)
		}
	}
	if after["strongroom_store_commit_writes_sum"] < commits || after["strongroom_store_commit_disk_write_seconds_sum"] <= 0 ||
		after["strongroom_store_commit_seconds_sum"] < after["strongroom_store_commit_disk_write_seconds_sum"] {
		t.Errorf("batch sizes or times do not add up: %v", after)
	}
	// Each write is timed too, and a write is never more than the writes
	// the commits carried.
	if w := after["strongroom_store_write_seconds_count"]; w < 1 || w > after["strongroom_store_commit_writes_sum"] {
		t.Errorf("writes timed %v, writes committed %v", w, after["strongroom_store_commit_writes_sum"])
	}
}

// FuzzMetricsToken: a token file is taken only as at least 32 visible
// ASCII characters once trimmed, and an Authorization header opens the
// metrics only when it is Bearer and exactly that token.
func FuzzMetricsToken(f *testing.F) {
	f.Add([]byte(strings.Repeat("k3", 20)+"\n"), "Bearer "+strings.Repeat("k3", 20))
	f.Add([]byte(" short "), "Bearer short")
	f.Add([]byte(strings.Repeat("é", 40)), "bearer  x")
	f.Fuzz(func(t *testing.T, file []byte, header string) {
		tok, err := ParseMetricsToken(file)
		if err != nil {
			return
		}
		if len(tok) < MinMetricsToken || string(tok) != strings.TrimSpace(string(file)) || strings.ContainsFunc(string(tok), func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			t.Fatalf("took %q from %q", tok, file)
		}
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.Header.Set("Authorization", "Bearer "+string(tok))
		if ok, _, _ := checkBearer(r, tok); !ok {
			t.Fatal("the right token was refused")
		}
		r.Header.Set("Authorization", header)
		scheme, given, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		want := strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(given) == string(tok)
		if ok, _, _ := checkBearer(r, tok); ok != want {
			t.Fatalf("header %q: opened %v, want %v", header, ok, want)
		}
	})
}
