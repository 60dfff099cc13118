package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsToken: with --metrics-token-file, /metrics is on the vault's
// own listener behind the bearer token, and the --metrics-listen
// listener asks for it too; the token scrape passes promtool and carries
// the store's commit metrics. A short token file is a usage error.
func TestMetricsToken(t *testing.T) {
	dir := t.TempDir()
	token := "m3tr1cs-t0ken-" + strings.Repeat("q7", 16)
	plant(token) // the sweep checks that no log or file holds it
	tokenFile := write(t, filepath.Join(dir, "metrics.token"), token)
	v := newProvisioned(t, "--metrics-token-file", tokenFile, "--metrics-listen", "127.0.0.1:0")
	v.op.must(2, "server", "--data", filepath.Join(dir, "other"), "--metrics-token-file", write(t, filepath.Join(dir, "short"), "too short"))
	v.provider.must(0, "cred", "put", "Bank", "--kind", "shared", "--password-file", filepath.Join(v.work, "a.pw"))

	client := httpsClient(t, v.work)
	get := func(url, auth string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	for _, base := range []string{v.srv.addr + "/metrics", v.srv.metrics} {
		for _, c := range []struct{ name, url, auth string }{
			{"no token", base, ""},
			{"wrong token", base, "Bearer " + strings.Repeat("w", 44)},
			{"token in the query", base + "?access_token=" + token, ""},
		} {
			st, h, body := get(c.url, c.auth)
			var eb struct{ Error string }
			if st != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer ") || json.Unmarshal([]byte(body), &eb) != nil || eb.Error == "" {
				t.Errorf("%s, %s: %d %q %s", base, c.name, st, h.Get("WWW-Authenticate"), body)
			}
		}
	}
	st, _, body := get(v.srv.addr+"/metrics", "Bearer "+token)
	if st != 200 {
		t.Fatalf("scrape with the token: %d %s", st, body)
	}
	promtoolLint(t, body, "strongroom_sealed 0", "strongroom_store_commits_total", "strongroom_store_commit_writes_bucket{le=\"1\"}",
		"strongroom_store_commit_seconds_count", "strongroom_store_commit_disk_write_seconds_sum", "strongroom_http_requests_total{")
	if st, _, _ := get(v.srv.metrics, "Bearer "+token); st != 200 {
		t.Fatalf("the metrics listener refused the token: %d", st)
	}
}
