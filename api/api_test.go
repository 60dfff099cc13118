package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"strongroom/api/wire"
	"strongroom/vault"
)

type env struct {
	srv   *httptest.Server
	v     *vault.Vault
	admin vault.OneTimeLogin
	token string // the admin's session, password already changed
}

func newEnv(t testing.TB) *env { t.Helper(); return newEnvClock(t, nil) }

// newEnvClock is newEnv with the vault's clock (nil: the real one).
func newEnvClock(t testing.TB, clock func() time.Time) *env {
	t.Helper()
	st, err := vault.OpenBolt(t.TempDir(), vault.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(vault.Config{Store: st, KDF: vault.KDFParams{Memory: vault.MinKDFMemory, Time: vault.MinKDFTime, Threads: 1},
		PasswordKDF: vault.KDFParams{Memory: 8 * 1024, Time: 1, Threads: 1}, Clock: clock})
	srv := httptest.NewServer(newServer(v, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 1000))
	t.Cleanup(func() { srv.Close(); v.Close() })
	e := &env{srv: srv, v: v}
	res, err := v.Init(context.Background(), vault.Request{}, vault.InitRequest{Shares: 1, Threshold: 1,
		Holders: []string{"Chairman"}, Admin: "IT Provider", Passphrase: []byte("correct horse battery staple")})
	if err != nil {
		t.Fatal(err)
	}
	e.admin = res.Admin
	if st, body := e.call(t, "POST", "/v1/sys/unseal", "", `{"passphrase":"correct horse battery staple"}`); st != 200 {
		t.Fatalf("unseal %d %s", st, body)
	}
	st2, body := e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "IT Provider",
		"password": res.Admin.Password, "totp": code(t, res.Admin.TOTPURI), "new_password": "ultramarine kettle drum"}))
	if st2 != 200 {
		t.Fatalf("login %d %s", st2, body)
	}
	var lr wire.LoginResponse
	json.Unmarshal(body, &lr)
	e.token = lr.Token
	return e
}

func jsonBody(v any) string { b, _ := json.Marshal(v); return string(b) }

func code(t testing.TB, uri string) string {
	k, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := totp.GenerateCode(k.Secret(), time.Now())
	return c
}

func (e *env) do(t testing.TB, method, path, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *env) call(t testing.TB, method, path, token, body string) (int, []byte) {
	t.Helper()
	resp := e.do(t, method, path, token, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	resp := e.do(t, "GET", "/v1/sys/status", "", "")
	resp.Body.Close()
	for h, want := range map[string]string{
		"Strict-Transport-Security": "max-age=31536000; includeSubdomains",
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
		"Cache-Control":             "no-store",
		"Referrer-Policy":           "no-referrer",
	} {
		if got := resp.Header.Get(h); got != want && !(h == "Strict-Transport-Security" && got == "") {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
}

func TestErrorShapes(t *testing.T) {
	e := newEnv(t)
	big := `{"name":"` + strings.Repeat("a", 300*1024) + `"}`
	cases := []struct {
		method, path, token, body string
		status                    int
		contains                  string
		field                     string // the field the body must name, if any
	}{
		{"GET", "/v1/nope", "", "", 404, "Not Found", ""},
		{"POST", "/v1/auth/login", "", `{"name":`, 400, "malformed JSON", ""},
		{"POST", "/v1/auth/login", "", `{"name":"x","extra":1}`, 400, "unknown field", "extra"},
		{"POST", "/v1/auth/login", "", `{"name":"x"} {}`, 400, "after the JSON object", ""},
		{"POST", "/v1/auth/login", "", big, 413, "Too Large", ""},
		{"GET", "/v1/creds", "", "", 401, "not logged in", ""},
		{"GET", "/v1/creds?token=" + e.token, "", "", 401, "not logged in", ""}, // tokens only in headers
		{"GET", "/v1/creds", "srs_" + strings.Repeat("A", 43), "", 401, "not logged in", ""},
		{"POST", "/v1/users", e.token, `{"name":"X","role":"wizard"}`, 400, "role must be", "role"},
		{"POST", "/v1/creds", e.token, `{"name":"Router","kind":"bogus","password":"a password"}`, 400, "kind must be", "kind"},
		{"POST", "/v1/creds", e.token, `{"name":"Rou\u0007ter","kind":"admin","password":"a password"}`, 400, "not allowed in names", "name"},
		{"POST", "/v1/sys/unseal", "", `{}`, 400, "exactly one", ""},
		{"POST", "/v1/sys/init", "", `{"shares":1,"threshold":1,"holders":["A"],"admin":"B","passphrase":"long enough passphrase"}`, 409, "already initialised", ""},
		{"GET", "/v1/creds/Nothing%2Fhere", e.token, "", 404, `no credential named "Nothing/here"`, ""},
		{"GET", "/v1/creds/x?version=-1", e.token, "", 400, "whole number", ""},
		{"POST", "/v1/import", e.token, `{"format":"csv","data":"not base64!"}`, 400, "data must be the file in base64", ""},
		{"POST", "/v1/import", e.token, `{"format":"zip","data":""}`, 422, "unknown format", ""},
		{"POST", "/v1/import", e.token, `{"format":"csv","data":"TmFtZQp4Cg=="}`, 422, "no column for the password", ""},
		{"POST", "/v1/import", e.token, `{"format":"csv","data":"","csv_map":"colour=x"}`, 422, "pair 1 of the column mapping names no field", ""},
		{"POST", "/v1/import", "", `{"format":"csv","data":""}`, 401, "not logged in", ""},
		{"POST", "/v1/import", e.token, `{"format":"csv","data":"` + strings.Repeat("A", 25<<20) + `"}`, 413, "Too Large", ""},
		{"POST", "/v1/export", e.token, `{"format":"csv"}`, 400, "format must be kdbx", ""},
		{"POST", "/v1/export", e.token, `{"format":"kdbx","passphrase":"quartz meadow lantern","password":"wrong","totp":"000000"}`, 403, "re-authenticate: give your password", ""},
		{"GET", "/v1/report/password-health?older_than=soon", e.token, "", 400, "older_than must be a number of days", "older_than"},
		{"GET", "/v1/report/password-health?older_than=-3d", e.token, "", 400, "older_than must be a number of days", "older_than"},
		{"GET", "/v1/report/password-health?older_than=0d", e.token, "", 400, "older_than must be from 1 to 3650 days", "older_than"},
		{"GET", "/v1/report/password-health?older_than=1h", e.token, "", 400, "older_than must be from 1 to 3650 days", "older_than"},
		{"GET", "/v1/report/password-health?older_than=4000d", e.token, "", 400, "older_than must be from 1 to 3650 days", "older_than"},
		{"GET", "/v1/report/password-health", "", "", 401, "not logged in", ""},
	}
	for _, tc := range cases {
		st, body := e.call(t, tc.method, tc.path, tc.token, tc.body)
		var eb errorBody
		if st != tc.status || json.Unmarshal(body, &eb) != nil || !strings.Contains(eb.Error, tc.contains) || eb.Field != tc.field {
			t.Errorf("%s %s: %d %s; want %d containing %q", tc.method, tc.path[:min(len(tc.path), 40)], st, body[:min(len(body), 200)], tc.status, tc.contains)
		}
	}
}

func TestSecretReadAndNamesWithSlashes(t *testing.T) {
	e := newEnv(t)
	st, body := e.call(t, "POST", "/v1/creds", e.token, jsonBody(map[string]any{"name": "Web/host 100%", "kind": "admin",
		"username": "root", "password": "pa\"ss\\word\n", "assignees": []string{"IT Provider"}}))
	if st != 201 {
		t.Fatalf("create %d %s", st, body)
	}
	e.reauth(t) // an admin secret
	st, body = e.call(t, "GET", "/v1/creds/Web%2Fhost%20100%25", e.token, "")
	var got map[string]any
	if st != 200 || json.Unmarshal(body, &got) != nil || got["password"] != "pa\"ss\\word\n" || got["name"] != "Web/host 100%" {
		t.Fatalf("read %d %s", st, body)
	}
}

func TestMustChangeGateAndLockout(t *testing.T) {
	e := newEnv(t)
	st, body := e.call(t, "POST", "/v1/users", e.token, `{"name":"Clerk","role":"clerk"}`)
	var otl OneTimeLogin
	if st != 201 || json.Unmarshal(body, &otl) != nil {
		t.Fatalf("create user %d %s", st, body)
	}
	st, body = e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "Clerk", "password": otl.Password, "totp": code(t, otl.TOTPURI)}))
	var lr wire.LoginResponse
	if st != 200 || json.Unmarshal(body, &lr) != nil || !lr.MustChange {
		t.Fatalf("login %d %s", st, body)
	}
	if st, body := e.call(t, "GET", "/v1/creds", lr.Token, ""); st != 403 || !strings.Contains(string(body), "password change required") {
		t.Fatalf("gate: %d %s", st, body)
	}
	if st, _ := e.call(t, "GET", "/v1/auth/whoami", lr.Token, ""); st != 200 {
		t.Fatal("whoami refused")
	}
	if st, body := e.call(t, "POST", "/v1/auth/password", lr.Token, jsonBody(map[string]string{"old_password": otl.Password, "new_password": "sparrow lantern quarry"})); st != 204 {
		t.Fatalf("change: %d %s", st, body)
	}
	if st, _ := e.call(t, "GET", "/v1/creds", lr.Token, ""); st != 200 {
		t.Fatal("gate still closed after the change")
	}
	for i := 0; i < 5; i++ {
		e.call(t, "POST", "/v1/auth/login", "", `{"name":"Clerk","password":"wrong","totp":"000000"}`)
	}
	resp := e.do(t, "POST", "/v1/auth/login", "", `{"name":"Clerk","password":"wrong","totp":"000000"}`)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("locked account: %d retry-after %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestSealedAnswersOnlyStatusInitUnseal(t *testing.T) {
	e := newEnv(t)
	if st, _ := e.call(t, "POST", "/v1/sys/seal", e.token, ""); st != 200 {
		t.Fatal("seal failed")
	}
	if st, body := e.call(t, "GET", "/v1/creds", e.token, ""); st != 503 || !strings.Contains(string(body), "sealed") {
		t.Fatalf("sealed creds: %d %s", st, body)
	}
	if st, _ := e.call(t, "GET", "/v1/sys/status", "", ""); st != 200 {
		t.Fatal("status refused while sealed")
	}
}

// FuzzRequestBodies sends arbitrary bodies to the endpoints that parse
// input. Bad input must get a 4xx JSON error, never a 5xx, and nothing
// given may be echoed back inside an error.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{`{"passphrase":"x"}`, `{"share":"0000"}`, `{"name":"IT Provider","password":"p","totp":"123456"}`,
		`{"name":"Facebook page","kind":"shared","password":"p","assignees":["IT Provider"]}`, `{"name":"X","role":"member"}`, `[]`, `{"name":1}`,
		`{"format":"csv","data":"TmFtZSxQYXNzd29yZAphLGIK","dry_run":true}`, `{"format":"kdbx","data":"A9mimg==","password":"p"}`,
		`{"format":"kdbx","passphrase":"p","password":"p","totp":"123456"}`,
		`{"name":"X (Twitter)","username":"@pc","password":"p","totp":"JBSWY3DPEHPK3PXP","reason":"r"}`} {
		for ep := 0; ep < 8; ep++ {
			f.Add(uint8(ep), []byte(s))
		}
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, ep uint8, body []byte) {
		paths := []string{"/v1/sys/unseal", "/v1/auth/login", "/v1/creds", "/v1/users", "/v1/escrow/check", "/v1/import", "/v1/export", "/v1/handovers"}
		path := paths[int(ep)%len(paths)]
		req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		if resp.StatusCode >= 400 {
			var eb errorBody
			if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
				t.Fatalf("%s: error without a JSON body: %d %s", path, resp.StatusCode, b)
			}
		}
	})
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"Gamma", "alpha", "Beta"} {
		if st, body := e.call(t, "POST", "/v1/creds", e.token, `{"name":"`+n+`","kind":"admin","password":"p","assignees":["IT Provider"]}`); st != 201 {
			t.Fatalf("%d %s", st, body)
		}
	}
	resp := e.do(t, "GET", "/v1/creds?limit=2", e.token, "")
	var page []vault.CredentialInfo
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	link := resp.Header.Get("Link")
	if len(page) != 2 || page[0].Name != "alpha" || page[1].Name != "Beta" || link != `</v1/creds?after=Beta&limit=2>; rel="next"` {
		t.Fatalf("first page %v, Link %q", page, link)
	}
	resp = e.do(t, "GET", strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`), e.token, "")
	page = nil
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if len(page) != 1 || page[0].Name != "Gamma" || resp.Header.Get("Link") != "" {
		t.Fatalf("second page %v, Link %q", page, resp.Header.Get("Link"))
	}
	for _, q := range []string{"limit=-1", "limit=5001", "limit=x", "after=%ff", "q=" + strings.Repeat("a", 201)} {
		if st, body := e.call(t, "GET", "/v1/creds?"+q, e.token, ""); st != 400 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: %d %s", q, st, body)
		}
	}
}

// A recovered panic is a 500 with the generic message; its log line says
// where it happened but not the value it carried.
func TestPanicLoggedWithoutItsValue(t *testing.T) {
	var logBuf bytes.Buffer
	st, err := vault.OpenBolt(t.TempDir(), vault.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(vault.Config{Store: st})
	defer v.Close()
	e := New(v, Options{Logger: slog.New(slog.NewJSONHandler(&logBuf, nil))})
	e.GET("/v1/test-panic", func(echo.Context) error { panic("the password is hunter2-amber-falcon") })
	e.GET("/v1/test-nil", func(echo.Context) error { var m map[string]*int; return fmt.Errorf("%d", *m["x"]) })
	for _, path := range []string{"/v1/test-panic", "/v1/test-nil"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "panic") {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	logs := logBuf.String()
	if strings.Contains(logs, "hunter2") {
		t.Fatalf("the panic's value was logged: %s", logs)
	}
	if !strings.Contains(logs, "its value is not logged") || !strings.Contains(logs, "api.TestPanicLoggedWithoutItsValue") ||
		!strings.Contains(logs, "nil pointer dereference") {
		t.Fatalf("log lines: %s", logs)
	}
}
