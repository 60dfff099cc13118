package api

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"strongroom/api/wire"
)

// POST /v1/handovers answers 201 with the credential and no secret; a
// name in use is a 400 naming the field "name"; a missing user name or
// password names its field; nothing given is echoed in an error. The
// web form does the same as plain posts, as a browser without JavaScript
// sends them, and never sends the password back.
func TestHandoverAPIAndForm(t *testing.T) {
	e := newEnv(t)
	e.addClerk(t)
	const secret = "handover-api-secret-7"
	st, body := e.call(t, "POST", "/v1/handovers", e.token, jsonBody(map[string]string{"name": "X (Twitter)", "username": "@pc",
		"password": secret, "reason": "leaving in May"}))
	var info wire.CredentialInfo
	if st != 201 || json.Unmarshal(body, &info) != nil || info.Kind != "shared" || info.Handover == nil || info.Handover.By != "IT Provider" ||
		strings.Join(info.Assignees, ",") != "Clerk,IT Provider" || strings.Contains(string(body), secret) {
		t.Fatalf("hand-over: %d %s", st, body)
	}
	for _, c := range []struct{ body, field string }{
		{`{"name":"x (twitter)","username":"u","password":"other-secret-1"}`, "name"},
		{`{"name":"Y","password":"other-secret-1"}`, "username"},
		{`{"name":"Y","username":"u"}`, "password"},
		{`{"name":"Y","username":"u","password":"other-secret-1","extra":1}`, "extra"},
	} {
		st, b := e.call(t, "POST", "/v1/handovers", e.token, c.body)
		var eb wire.Error
		if st != 400 || json.Unmarshal(b, &eb) != nil || eb.Field != c.field || strings.Contains(string(b), "other-secret-1") {
			t.Errorf("%s: %d %s, want 400 on %q", c.body, st, b, c.field)
		}
	}
	if st, b := e.call(t, "POST", "/v1/handovers/"+url.PathEscape("X (Twitter)")+"/confirm", e.token, ""); st != 403 {
		t.Fatalf("a provider confirmed: %d %s", st, b)
	}

	w := newWebClient(t, e, e.token)
	page := readAll(t, w.req(t, "GET", "/ui/handover", nil, nil))
	if !strings.Contains(page, `<form method="post" action="/ui/handover"`) || !strings.Contains(page, `name="password"`) {
		t.Fatalf("form:\n%s", page)
	}
	resp := w.req(t, "POST", "/ui/handover", url.Values{"csrf": {w.csrf}, "name": {"X (Twitter)"}, "username": {"@typed"},
		"password": {"form-secret-2"}, "totp": {"JBSWY3DPEHPK3PXP"}}, nil)
	if page := readAll(t, resp); resp.StatusCode != 422 || !strings.Contains(page, `href="#name"`) || !strings.Contains(page, `value="@typed"`) ||
		strings.Contains(page, "form-secret-2") || strings.Contains(page, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("name taken: %d\n%s", resp.StatusCode, page)
	}
	resp = w.req(t, "POST", "/ui/handover", url.Values{"csrf": {w.csrf}, "name": {"Instagram"}, "username": {"@pc"}, "password": {"form-secret-2"}}, nil)
	if page := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(page, "The council now has the login for Instagram.") ||
		strings.Contains(page, "form-secret-2") {
		t.Fatalf("handed over: %d\n%s", resp.StatusCode, page)
	}
}
