package api

import (
	"encoding/json"
	"html"
	"io"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A contractor through the API and the web: agreement and scope only with
// "contractor": true, a request outside the scope answered 403 naming the
// field, and, once the end date passes without the work being completed,
// a notice on the provider's home page (not a member's) until a provider
// completes them.
func TestContractorAPIAndHomeNotice(t *testing.T) {
	var ahead atomic.Int64 // how far the vault's clock is ahead of the real one
	e := newEnvClock(t, func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) })
	if st, body := e.call(t, "POST", "/v1/creds", e.token, `{"name":"Website admin","kind":"admin","password":"a long password here","assignees":["IT Provider"]}`); st != 201 && st != 200 {
		t.Fatalf("cred put %d %s", st, body)
	}
	ends := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	var field struct{ Field string }
	for want, body := range map[string]string{
		"agreement": `{"name":"X","role":"member","agreement":"W-1","expires":"` + ends + `"}`,
		"scope":     `{"name":"X","role":"member","scope":["Website admin"],"expires":"` + ends + `"}`,
	} {
		st, b := e.call(t, "POST", "/v1/users", e.token, body)
		if json.Unmarshal(b, &field); st != 400 || field.Field != want {
			t.Fatalf("%s without contractor: %d %s", want, st, b)
		}
	}
	st, b := e.call(t, "POST", "/v1/users", e.token, `{"name":"Web Co","role":"member","contractor":true,"agreement":"WEB-1","scope":["Website admin"],"expires":"`+ends+`"}`)
	var otl OneTimeLogin
	if st != 201 || json.Unmarshal(b, &otl) != nil {
		t.Fatalf("add contractor %d %s", st, b)
	}
	if st, b := e.call(t, "POST", "/v1/creds", e.token, `{"name":"Website admin","assignees":["IT Provider","Web Co"]}`); st != 200 && st != 201 {
		t.Fatalf("assign in scope %d %s", st, b)
	}
	st, b = e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "Web Co", "password": otl.Password,
		"totp": code(t, otl.TOTPURI), "new_password": "sparrow lantern quarry"}))
	var in struct{ Token string }
	if st != 200 || json.Unmarshal(b, &in) != nil {
		t.Fatalf("login %d %s", st, b)
	}
	st, b = e.call(t, "POST", "/v1/requests", in.Token, `{"credential":"Bank","reason":"look at the bank","for":"1h"}`)
	if json.Unmarshal(b, &field); st != 403 || field.Field != "cred" || !strings.Contains(string(b), "outside the scope of agreement WEB-1") {
		t.Fatalf("out of scope request %d %s", st, b)
	}
	wc := newWebClient(t, e, in.Token)
	resp := wc.req(t, "POST", "/ui/requests", url.Values{"csrf": {wc.csrf}, "cred": {"Bank"}, "reason": {"look at the bank"}, "for": {"1h"}}, nil)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if text := html.UnescapeString(string(page)); resp.StatusCode != 403 ||
		!strings.Contains(text, `"Bank" is outside the scope of agreement WEB-1, under which Web Co works; ask only for what the agreement covers.`) {
		t.Fatalf("web request out of scope: %d\n%s", resp.StatusCode, text)
	}

	home := func() string {
		w := newWebClient(t, e, e.token)
		resp := w.req(t, "GET", "/ui/home", nil, nil)
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		return string(page)
	}
	if strings.Contains(home(), "overdue for completion") {
		t.Fatal("a notice before the end date")
	}
	ahead.Store(int64(2 * time.Minute))
	if p := home(); !strings.Contains(p, "Contractors overdue for completion") || !strings.Contains(p, "Web Co (agreement WEB-1: Website admin)") {
		t.Fatalf("no notice on the provider's home page:\n%s", p)
	}
	w := newWebClient(t, e, e.token)
	resp = w.req(t, "GET", "/ui/users", nil, nil)
	people, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(people), "contractor under agreement WEB-1 for Website admin; <strong>overdue for completion</strong>") {
		t.Fatalf("the People page does not show the contractor:\n%s", people)
	}
	if st, b := e.call(t, "POST", "/v1/users/Web%20Co/complete", e.token, ""); st != 200 || !strings.Contains(string(b), `"credential":"Website admin"`) {
		t.Fatalf("complete %d %s", st, b)
	}
	if strings.Contains(home(), "overdue for completion") {
		t.Fatal("a notice after completion")
	}
}
