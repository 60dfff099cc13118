package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"strongroom/vault"
)

// webClient holds the CSRF cookie and token of a page, and optionally a
// session, as a browser would.
type webClient struct {
	e             *env
	csrf, session string
}

func newWebClient(t testing.TB, e *env, session string) *webClient {
	t.Helper()
	resp, err := http.Get(e.srv.URL + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	w := &webClient{e: e, session: session}
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie {
			w.csrf = c.Value
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode {
				t.Fatalf("CSRF cookie attributes: %+v", c)
			}
		}
	}
	if w.csrf == "" {
		t.Fatal("no CSRF cookie")
	}
	return w
}

func (w *webClient) req(t testing.TB, method, path string, form url.Values, hdr map[string]string) *http.Response {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r, _ := http.NewRequest(method, w.e.srv.URL+path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: w.csrf})
	if w.session != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: w.session})
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestWebCSRF(t *testing.T) {
	e := newEnv(t)
	w := newWebClient(t, e, e.token)
	add := func(csrf string, hdr map[string]string) int {
		resp := w.req(t, "POST", "/ui/users", url.Values{"csrf": {csrf}, "name": {"Evil Admin"}, "role": {"provider"}}, hdr)
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name string
		csrf string
		hdr  map[string]string
	}{
		{"no token", "", nil},
		{"wrong token", strings.Repeat("A", 43), nil},
		{"cross-site fetch metadata", w.csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site sibling", w.csrf, map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"foreign origin", w.csrf, map[string]string{"Origin": "https://evil.example"}},
		{"opaque origin", w.csrf, map[string]string{"Origin": "null"}},
	}
	for _, c := range cases {
		if st := add(c.csrf, c.hdr); st != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", c.name, st)
		}
	}
	p, err := e.v.Authenticate(t.Context(), e.token)
	if err != nil {
		t.Fatal(err)
	}
	users, _ := e.v.ListUsers(t.Context(), vault.Request{}, p)
	for _, u := range users {
		if u.Name == "Evil Admin" {
			t.Fatal("a refused form post created an account")
		}
	}
	// The same post from our own page goes through.
	if st := add(w.csrf, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.srv.URL}); st != http.StatusOK {
		t.Fatalf("same-origin post: %d", st)
	}
}

func TestWebPagesHeaders(t *testing.T) {
	e := newEnv(t)
	w := newWebClient(t, e, e.token)
	for _, path := range []string{"/ui/login", "/ui/home", "/ui/creds", "/ui/creds/new", "/ui/users", "/ui/requests",
		"/ui/audit", "/ui/incidents", "/ui/delivery", "/ui/export", "/ui/emergency", "/ui/escrow/check", "/ui/nope", "/ui/reauth?next=//evil.example",
		"/ui/report/password-health", "/ui/report/password-health?older_than=30", "/ui/report/password-health?older_than=soon",
		"/ui/report/password-health?older_than=0", "/ui/report/password-health?older_than=99999"} {
		resp := w.req(t, "GET", path, nil, nil)
		resp.Body.Close()
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); csp != webCSP {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: headers %v", path, h)
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	if got := safeNext("//evil.example/ui/x"); got != "/ui/home" {
		t.Fatalf("safeNext let an absolute address through: %q", got)
	}
	if got := safeNext("/ui/creds/Facebook page"); got != "/ui/creds/Facebook%20page" {
		t.Fatalf("safeNext: %q", got)
	}
}

// FuzzWebForms posts arbitrary bodies to every form handler with a valid
// session and CSRF token: nothing may fail with a 5xx.
func FuzzWebForms(f *testing.F) {
	e := newEnv(f)
	w := newWebClient(f, e, e.token)
	paths := []string{"/ui/login", "/ui/password", "/ui/creds/new", "/ui/users", "/ui/requests", "/ui/escrow/check",
		"/ui/reauth", "/ui/emergency/breakglass", "/ui/audit/export", "/ui/export", "/ui/creds/x/rotate", "/ui/creds/x/reveal",
		"/ui/device", "/ui/device/decide", "/ui/handover", "/ui/creds/x/handover-confirm"}
	for i := range paths {
		f.Add(uint8(i), "name=Clerk&role=clerk")
		f.Add(uint8(i), "name=%ff%fe&password=&totp=1&for=-1h&cred=x&reason=r&share=ABCDE&next=//x")
		f.Add(uint8(i), "code=bcdf-ghjk&decision=approve")
	}
	f.Fuzz(func(t *testing.T, ep uint8, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			form = url.Values{"raw": {body}}
		}
		form.Set("csrf", w.csrf)
		path := paths[int(ep)%len(paths)]
		resp := w.req(t, "POST", path, form, nil)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q: %d", path, body, resp.StatusCode)
		}
	})
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"name taken":             "Name taken.",
		"“Facebook page” exists": "“Facebook page” exists.",
		"élan (kept)":            "Élan (kept)",
		"":                       "",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWebCeremonyBeginSignedOut: passkey.js, beginning a ceremony after
// the session ended, gets a sentence it can show, not the sign-in page;
// a browser's own navigation is still sent to sign in.
func TestWebCeremonyBeginSignedOut(t *testing.T) {
	e := newEnv(t)
	w := newWebClient(t, e, "")
	for _, path := range []string{"/ui/passkeys/begin", "/ui/reauth/passkey/begin"} {
		resp := w.req(t, "POST", path, url.Values{"csrf": {w.csrf}, "passkey_name": {"Phone"}}, map[string]string{"Accept": "application/json"})
		var body map[string]string
		err := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || err != nil || !strings.Contains(body["error"], "signed out") {
			t.Errorf("%s signed out: %d %v %v", path, resp.StatusCode, body, err)
		}
		resp = w.req(t, "POST", path, url.Values{"csrf": {w.csrf}}, nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
			t.Errorf("%s signed out, as a page: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
