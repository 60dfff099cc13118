package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"strongroom/api/wire"
	"strongroom/audit"
	"strongroom/vault"
	"strongroom/vault/identity"
)

// nextCode is the code of the TOTP step after this one, which the vault
// accepts (one step either way) once this step's is spent.
func nextCode(t *testing.T, uri string) string {
	t.Helper()
	k, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	c, err := totp.GenerateCode(k.Secret(), time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addClerk creates an account "Clerk" through the API and signs it in
// once (choosing its password); it returns the password and TOTP URI.
func (e *env) addClerk(t *testing.T) (password, uri string) {
	t.Helper()
	st, body := e.call(t, "POST", "/v1/users", e.token, `{"name":"Clerk","role":"clerk"}`)
	var otl OneTimeLogin
	if st != 201 || json.Unmarshal(body, &otl) != nil {
		t.Fatalf("create user %d %s", st, body)
	}
	password = "sparrow lantern quarry"
	if st, body := e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "Clerk", "password": otl.Password,
		"totp": code(t, otl.TOTPURI), "new_password": password})); st != 200 {
		t.Fatalf("first login %d %s", st, body)
	}
	return password, otl.TOTPURI
}

var requestID = regexp.MustCompile(`"request_id":"[^"]*"`)

// answer is a sign-in's status, body (without its request id) and the
// names of its headers, with the Retry-After value cut to its presence.
func answer(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var names []string
	for h := range resp.Header {
		switch h {
		case "Date", "Content-Length", "X-Request-Id":
		default:
			names = append(names, h)
		}
	}
	sort.Strings(names)
	return resp.Status + " " + string(requestID.ReplaceAll(b, nil)) + " " + strings.Join(names, ",")
}

// An unknown name gets the answers a known one does, status, body and
// headers, through ThrottleAfter failures and the refusal after them.
func TestSignInUnknownNameAnsweredAsKnown(t *testing.T) {
	e := newEnv(t)
	e.addClerk(t)
	var known, unknown []string
	for i := 0; i < identity.ThrottleAfter+2; i++ {
		known = append(known, answer(t, e.do(t, "POST", "/v1/auth/login", "", `{"name":"Clerk","password":"wrong guess","totp":"000000"}`)))
		unknown = append(unknown, answer(t, e.do(t, "POST", "/v1/auth/login", "", `{"name":"Nobody","password":"wrong guess","totp":"000000"}`)))
	}
	for i := range known {
		// The refusal's time may differ by a second between the two.
		k := regexp.MustCompile(`\d\d:\d\d:\d\d UTC|in \d+ seconds`).ReplaceAllString(known[i], "T")
		u := regexp.MustCompile(`\d\d:\d\d:\d\d UTC|in \d+ seconds`).ReplaceAllString(unknown[i], "T")
		if k != u {
			t.Errorf("attempt %d:\nknown   %s\nunknown %s", i, known[i], unknown[i])
		}
	}
	if !strings.HasPrefix(known[0], "401 ") || !strings.HasPrefix(known[identity.ThrottleAfter], "429 ") ||
		!strings.Contains(known[identity.ThrottleAfter], "Retry-After") || !strings.Contains(known[identity.ThrottleAfter], "ask your IT provider") {
		t.Fatalf("answers %q", known)
	}
}

// The API and the web share one throttle: failures through either count
// for both, and the web shows the refusal in plain words with a
// Retry-After. The owner still signs in from another address.
func TestSignInThrottleSharedByAPIAndWeb(t *testing.T) {
	e := newEnv(t)
	password, uri := e.addClerk(t)
	w := newWebClient(t, e, "")
	webLogin := func(pw string) *http.Response {
		return w.req(t, "POST", "/ui/login", url.Values{"csrf": {w.csrf}, "name": {"clerk"}, "password": {pw}, "totp": {"000000"}},
			map[string]string{"Sec-Fetch-Site": "same-origin"})
	}
	for i := 0; i < identity.ThrottleAfter; i++ {
		var st int
		if i%2 == 0 {
			st, _ = e.call(t, "POST", "/v1/auth/login", "", `{"name":"Clerk","password":"wrong guess","totp":"000000"}`)
		} else {
			resp := webLogin("wrong guess")
			resp.Body.Close()
			st = resp.StatusCode
		}
		if want := []int{401, 422}[i%2]; st != want && !(i%2 == 1 && st == 401) {
			t.Fatalf("failure %d: %d", i, st)
		}
	}
	resp := webLogin(password)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" ||
		!bytes.Contains(body, []byte("Too many failed sign-ins for this account from your address: try again after")) ||
		!bytes.Contains(body, []byte("ask your IT provider")) {
		t.Fatalf("web while refused: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	st, body := e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "Clerk", "password": password, "totp": code(t, uri)}))
	var eb wire.Error
	if st != 429 || json.Unmarshal(body, &eb) != nil || !strings.Contains(eb.Error, "try again after") {
		t.Fatalf("API while refused: %d %s", st, body)
	}
	// From another address (the vault is told where a call came from).
	if _, _, err := e.v.Login(t.Context(), vaultRequest("203.0.113.9"), loginOf("Clerk", password, nextCode(t, uri))); err != nil {
		t.Fatalf("the owner elsewhere: %v", err)
	}
}

// The per-address request budget of sign-in is one for the API and the
// web: at a rate of one attempt per five seconds (a burst of one), an
// attempt through the API leaves none for the web, and the other way.
func TestSignInRateBudgetShared(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(newServer(e.v, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0.2))
	defer srv.Close()
	e2 := &env{srv: srv, v: e.v}
	w := newWebClient(t, e2, "")
	web := func() int {
		resp := w.req(t, "POST", "/ui/login", url.Values{"csrf": {w.csrf}, "name": {"guess b"}, "password": {"x"}},
			map[string]string{"Sec-Fetch-Site": "same-origin"})
		resp.Body.Close()
		return resp.StatusCode
	}
	// Distinct names, so that the vault's own throttle plays no part.
	if st, body := e2.call(t, "POST", "/v1/auth/login", "", `{"name":"guess a","password":"x"}`); st != 401 {
		t.Fatalf("the first attempt: %d %s", st, body)
	}
	if st := web(); st != 429 {
		t.Fatalf("web after the API spent the budget: %d, want 429", st)
	}
	if st, _ := e2.call(t, "POST", "/v1/auth/login", "", `{"name":"guess c","password":"x"}`); st != 429 {
		t.Fatalf("the API again: %d, want 429", st)
	}
}

// A TOTP code sent with a wrong password is spent.
func TestSignInCodeSpentByWrongPassword(t *testing.T) {
	e := newEnv(t)
	password, uri := e.addClerk(t)
	c := nextCode(t, uri) // this step's was spent by the first login
	e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "Clerk", "password": "wrong guess", "totp": c}))
	if st, body := e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "Clerk", "password": password, "totp": c})); st != 401 {
		t.Fatalf("a code sent with a wrong password, then with the right one: %d %s", st, body)
	}
}

// A token refused after its account is disabled is an audit entry, once a
// minute from one address, and the entry holds neither token nor hash.
func TestRefusedTokenAudited(t *testing.T) {
	e := newEnv(t)
	password, uri := e.addClerk(t)
	st, body := e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "Clerk", "password": password, "totp": nextCode(t, uri)}))
	var lr wire.LoginResponse
	if st != 200 || json.Unmarshal(body, &lr) != nil {
		t.Fatalf("login %d %s", st, body)
	}
	if st, body := e.call(t, "POST", "/v1/users/Clerk/disable", e.token, ""); st != 204 && st != 200 {
		t.Fatalf("disable %d %s", st, body)
	}
	for i := 0; i < 3; i++ {
		if st, _ := e.call(t, "GET", "/v1/creds", lr.Token, ""); st != 401 {
			t.Fatalf("a disabled account's token: %d", st)
		}
	}
	st, body = e.call(t, "GET", "/v1/audit", e.token, "")
	if st != 200 {
		t.Fatalf("audit %d %s", st, body)
	}
	var refused []audit.Entry
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var en audit.Entry
		if json.Unmarshal(sc.Bytes(), &en) == nil && en.Action == audit.AuthTokenRefused {
			refused = append(refused, en)
		}
	}
	if len(refused) != 1 || refused[0].Outcome != audit.OutcomeDenied || refused[0].Client.IP != "127.0.0.1" ||
		refused[0].Actor.Name != "Clerk" || !strings.Contains(refused[0].Reason, "account disabled") {
		t.Fatalf("refused-token entries: %+v", refused)
	}
	if bytes.Contains(body, []byte(lr.Token)) || bytes.Contains(body, []byte(identity.SessionKey(lr.Token))) {
		t.Fatal("the token or its hash is in the audit log")
	}
}

func vaultRequest(ip string) vault.Request { return vault.Request{IP: ip} }

func loginOf(name, password, code string) vault.LoginRequest {
	return vault.LoginRequest{Name: name, Password: []byte(password), TOTP: code}
}
