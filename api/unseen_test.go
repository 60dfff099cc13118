package api

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"strongroom/api/wire"
	"strongroom/audit"
	"strongroom/vault"
)

// A clerk asking for an admin password it may not see gets, through the
// API and the web alike, exactly the answer a missing name gets; both
// attempts are recorded as denied, the same way (issue 15 items 4 and 7).
func TestUnseenAnswersTheSameEverywhere(t *testing.T) {
	e := newEnv(t)
	st, body := e.call(t, "POST", "/v1/users", e.token, `{"name":"Clerk","role":"clerk"}`)
	var otl OneTimeLogin
	if st != 201 || json.Unmarshal(body, &otl) != nil {
		t.Fatalf("create user %d %s", st, body)
	}
	st, body = e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": "Clerk", "password": otl.Password,
		"totp": code(t, otl.TOTPURI), "new_password": "sparrow lantern quarry"}))
	var lr wire.LoginResponse
	if st != 200 || json.Unmarshal(body, &lr) != nil || lr.Token == "" {
		t.Fatalf("clerk login %d %s", st, body)
	}
	if st, body := e.call(t, "POST", "/v1/creds", e.token, `{"name":"Router admin","kind":"admin","password":"copper lantern meadow","assignees":["IT Provider"]}`); st != 201 && st != 200 {
		t.Fatalf("put %d %s", st, body)
	}
	same := func(a, b, nameA, nameB string) bool {
		a = strings.ReplaceAll(requestID.ReplaceAllString(a, ""), nameA, "X")
		b = strings.ReplaceAll(requestID.ReplaceAllString(b, ""), nameB, "X")
		return a == b
	}
	apiGet := func(name string) string {
		resp := e.do(t, "GET", "/v1/creds/"+strings.ReplaceAll(name, " ", "%20"), lr.Token, "")
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Status + " " + string(b)
	}
	if got, want := apiGet("Router admin"), apiGet("Nothing at all"); !same(got, want, "Router admin", "Nothing at all") || !strings.HasPrefix(got, "404") {
		t.Fatalf("API: %s; a missing name: %s", got, want)
	}
	w := newWebClient(t, e, lr.Token)
	webGet := func(name string) string {
		resp := w.req(t, "GET", "/ui/creds/"+strings.ReplaceAll(name, " ", "%20"), nil, nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		page := string(b)
		if i := strings.Index(page, "<main"); i >= 0 {
			page = page[i:] // the page's own text, not its per-request nonces
		}
		return resp.Status + " " + page
	}
	if got, want := webGet("Router admin"), webGet("Nothing at all"); !same(got, want, "Router admin", "Nothing at all") || !strings.HasPrefix(got, "404") {
		t.Fatalf("web: %.300s\na missing name: %.300s", got, want)
	}
	p, err := e.v.Authenticate(context.Background(), e.token)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := e.v.Incidents(context.Background(), vault.Request{}, p, time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, i := range inc {
		if i.Action == audit.CredRead && i.Outcome == audit.OutcomeDenied && i.Target.Name == "Router admin" && i.Actor.Name == "Clerk" {
			denied++
		}
	}
	if denied != 2 {
		t.Fatalf("%d denied reads of Router admin recorded; want one from the API and one from the web: %+v", denied, inc)
	}
}
