package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The review's routes: bad bodies name their field; a sign-off with
// logins unconfirmed is a 400 on "credentials"; a stale mark is a 409;
// confirmed with the mark shown, the sign-off answers the next due date.
func TestReviewRoutes(t *testing.T) {
	e := newEnv(t)
	if st, body := e.call(t, "POST", "/v1/creds", e.token, jsonBody(map[string]any{"name": "Router admin", "kind": "admin",
		"password": "copper lantern meadow", "assignees": []string{"IT Provider"}})); st != 201 {
		t.Fatalf("put: %d %s", st, body)
	}
	field := func(body []byte) string {
		var eb struct{ Field string }
		json.Unmarshal(body, &eb)
		return eb.Field
	}
	for _, c := range []struct {
		body, field string
		status      int
	}{
		{`{"mark":"x"}`, "credential", 400},
		{`{"credential":"Router admin","Mark":"x"}`, "mark", 400},
		{`{"credential":"Router admin","mark":"` + strings.Repeat("a", 65) + `"}`, "mark", 400},
		{`{"credential":"Router admin","mark":"0000000000000000"}`, "", 409},
		{`{"credential":"No such login","mark":"0000000000000000"}`, "", 404},
		{`{"credential":"Router admin"}`, "mark", 400}, // a confirmation is of what was shown
	} {
		st, body := e.call(t, "POST", "/v1/report/access-review/confirm", e.token, c.body)
		if st != c.status || field(body) != c.field || strings.Contains(string(body), strings.Repeat("a", 65)) {
			t.Errorf("confirm %s: %d %s; want %d on %q", c.body, st, body, c.status, c.field)
		}
	}
	st, body := e.call(t, "POST", "/v1/report/access-review/signoff", e.token, "")
	if st != 400 || field(body) != "credentials" || !strings.Contains(string(body), "Router admin") {
		t.Fatalf("sign-off with one unconfirmed: %d %s", st, body)
	}
	st, body = e.call(t, "GET", "/v1/report/access-review/year", e.token, "")
	var r struct {
		Items []struct{ Credential, Mark string }
		Due   struct{ Status string }
	}
	if st != 200 || json.Unmarshal(body, &r) != nil || len(r.Items) != 1 || r.Due.Status != "first" {
		t.Fatalf("review: %d %s", st, body)
	}
	if st, body := e.call(t, "POST", "/v1/report/access-review/confirm", e.token, jsonBody(map[string]string{"credential": "Router admin", "mark": r.Items[0].Mark})); st != 204 {
		t.Fatalf("confirm: %d %s", st, body)
	}
	st, body = e.call(t, "POST", "/v1/report/access-review/signoff", e.token, "")
	var s struct {
		Confirmed int
		NextDue   string `json:"next_due"`
	}
	if st != 200 || json.Unmarshal(body, &s) != nil || s.Confirmed != 1 || s.NextDue == "" {
		t.Fatalf("sign-off: %d %s", st, body)
	}
}

// Who sees the review page, and whose home page says it is due.
func TestWebReviewAudience(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		role       string
		page       int
		homeNotice bool
	}{{"provider", 200, true}, {"clerk", 200, true}, {"auditor", 200, false}, {"chairman", 403, false}, {"member", 403, false}} {
		token := e.token
		if c.role != "provider" {
			name := "Person " + c.role
			st, body := e.call(t, "POST", "/v1/users", e.token, jsonBody(map[string]string{"name": name, "role": c.role}))
			var otl OneTimeLogin
			if st != 201 || json.Unmarshal(body, &otl) != nil {
				t.Fatalf("create %s: %d %s", c.role, st, body)
			}
			st, body = e.call(t, "POST", "/v1/auth/login", "", jsonBody(map[string]string{"name": name, "password": otl.Password,
				"totp": code(t, otl.TOTPURI), "new_password": "sparrow lantern quarry"}))
			var in struct{ Token string }
			if st != 200 || json.Unmarshal(body, &in) != nil {
				t.Fatalf("login %s: %d %s", c.role, st, body)
			}
			token = in.Token
		}
		w := newWebClient(t, e, token)
		resp := w.req(t, "GET", "/ui/review", nil, nil)
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.page {
			t.Errorf("%s: /ui/review %d, want %d", c.role, resp.StatusCode, c.page)
		}
		if buttons := strings.Contains(string(page), `action="/ui/review/signoff"`); buttons != (c.page == 200 && c.role != "auditor") {
			t.Errorf("%s: sign-off form shown %v", c.role, buttons)
		}
		resp = w.req(t, "GET", "/ui/home", nil, nil)
		home, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if shown := strings.Contains(string(home), `id="review-due"`); shown != c.homeNotice {
			t.Errorf("%s: home page review notice %v, want %v", c.role, shown, c.homeNotice)
		}
		if c.role == "auditor" {
			resp := w.req(t, "POST", "/ui/review/signoff", url.Values{"csrf": {w.csrf}}, nil)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("the auditor's sign-off: %d", resp.StatusCode)
			}
		}
	}
}
