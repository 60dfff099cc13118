package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"strongroom/api/wire"
)

// Every JSON route decodes strictly: the same refusals on the user, the
// credential and the login routes, and nothing is written on a refusal.
func TestStrictJSONBodies(t *testing.T) {
	e := newEnv(t)
	const planted = "planted-7f3a"
	cases := []struct {
		path, ctype, body string
		status            int
		contains, field   string
	}{
		{"/v1/users", "application/json", `{"name":"Dup","name":"Dup2","role":"member"}`, 400, `field "name" is given twice`, "name"},
		{"/v1/users", "application/json", `{"name":"Ok","NAME":"Evil","role":"member"}`, 400, `field "name" must be written in that case`, "name"},
		{"/v1/users", "application/json", `{"NAME":"Evil","role":"member"}`, 400, `field "name" must be written in that case`, "name"},
		{"/v1/users", "application/json", `{"name":"Ok","Role":"member"}`, 400, `field "role" must be written in that case`, "role"},
		{"/v1/users", "application/json", `{"name":"Ok","role":"member","n\u0061me":"x"}`, 400, `field "name" is given twice`, "name"},
		{"/v1/users", "application/json", `{"name":"Ok","role":"member","colour":"x"}`, 400, `field "colour" is not a field`, "colour"},
		{"/v1/users", "application/json", `{"name":"Ok","role":"member","` + planted + ` x":1}`, 400, "a member at byte 29 is not a field", ""},
		{"/v1/users", "text/plain", `{"name":"Plain","role":"member"}`, 415, "Content-Type: application/json", ""},
		{"/v1/users", "", `{"name":"Plain","role":"member"}`, 415, "Content-Type: application/json", ""},
		{"/v1/users", "application/json; charset=latin1", `{"name":"Plain","role":"member"}`, 415, "Content-Type", ""},
		{"/v1/users", "application/jsonx", `{"name":"Plain","role":"member"}`, 415, "Content-Type", ""},
		{"/v1/creds", "application/json", `{"name":"R","kind":"admin","password":"p","assignees":["IT Provider"],"Password":"q"}`, 400, `field "password" must be written in that case`, "password"},
		{"/v1/creds", "application/json", `{"name":"R","kind":"admin","password":"` + planted + `","password":"p"}`, 400, `field "password" is given twice`, "password"},
		{"/v1/import", "application/json", `{"format":"csv","data":"","csv_map":{"a":1,"A":2}}`, 400, `a member of "csv_map" at byte 43 is given twice`, "csv_map"},
		{"/v1/auth/login", "application/json", `{"name":"IT Provider","password":"x","totp":"000000","Totp":"1"}`, 400, `field "totp" must be written`, "totp"},
		{"/v1/auth/login", "application/json", `[{"name":"x"}]`, 400, "must be a JSON object", ""},
		{"/v1/auth/login", "application/json", `{"name":"x"} ` + planted, 400, "after the JSON object", ""},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest("POST", e.srv.URL+tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var eb errorBody
		err = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != tc.status || err != nil || !strings.Contains(eb.Error, tc.contains) || eb.Field != tc.field {
			t.Errorf("%s %s: %d %+v; want %d containing %q, field %q", tc.path, tc.body, resp.StatusCode, eb, tc.status, tc.contains, tc.field)
		}
		if strings.Contains(eb.Error, planted) || strings.Contains(eb.Error, "Evil") {
			t.Errorf("%s: the error quotes the body: %s", tc.path, eb.Error)
		}
	}
	// Nothing above made an account or a credential.
	var users []wire.User
	st, body := e.call(t, "GET", "/v1/users", e.token, "")
	if json.Unmarshal(body, &users) != nil || st != 200 || len(users) != 1 {
		t.Fatalf("accounts after refused bodies: %d %s", st, body)
	}
	if st, body := e.call(t, "GET", "/v1/creds", e.token, ""); st != 200 || strings.TrimSpace(string(body)) != "[]" {
		t.Fatalf("credentials after refused bodies: %d %s", st, body)
	}
	// The strict decoder still takes what clients send: a charset, spaces.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/users", strings.NewReader(" {\"name\" : \"Fine\", \"role\":\"member\"}\n"))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("a well-formed body: %d", resp.StatusCode)
	}
}

// Roles: the API, the web form and the vault refuse an unknown or missing
// role as an error on the role field, and make no account.
func TestRoleIsAFieldError(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{`{"name":"X","role":"superuser"}`, `{"name":"X","role":""}`, `{"name":"X"}`, `{"name":"X","role":"Provider"}`} {
		st, b := e.call(t, "POST", "/v1/users", e.token, body)
		var eb errorBody
		if st != 400 || json.Unmarshal(b, &eb) != nil || eb.Field != "role" || !strings.Contains(eb.Error, "role must be provider, clerk, chairman, auditor or member") {
			t.Errorf("API %s: %d %s", body, st, b)
		}
	}
	w := newWebClient(t, e, e.token)
	for _, role := range []string{"superuser", ""} {
		form := url.Values{"csrf": {w.csrf}, "name": {"Web Person"}}
		if role != "" {
			form.Set("role", role)
		}
		resp := w.req(t, "POST", "/ui/users", form, nil)
		page := readAll(t, resp)
		if resp.StatusCode != 422 || !strings.Contains(page, `id="role-clerk"`) || !strings.Contains(page, "Role must be provider, clerk, chairman, auditor or member.") ||
			strings.Contains(page, "superuser") {
			t.Errorf("web role %q: %d %s", role, resp.StatusCode, page[:min(len(page), 300)])
		}
	}
	st, body := e.call(t, "GET", "/v1/users", e.token, "")
	if st != 200 || strings.Contains(string(body), "Web Person") || strings.Contains(string(body), `"X"`) {
		t.Fatalf("an account was made with a bad role: %s", body)
	}
	resp := w.req(t, "POST", "/ui/users", url.Values{"csrf": {w.csrf}, "name": {"Web Person"}, "role": {"member"}}, nil)
	if page := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(page, "Web Person can now sign in") {
		t.Fatalf("web add with a good role: %d", resp.StatusCode)
	}
}

// People's names: stored in their PRECIS form, compared ignoring case and
// normal form, and a look-alike is refused naming the existing account,
// through the API and the web.
func TestPeopleNames(t *testing.T) {
	e := newEnv(t)
	add := func(name string) (int, errorBody, wire.OneTimeLogin) {
		st, b := e.call(t, "POST", "/v1/users", e.token, jsonBody(map[string]string{"name": name, "role": "member"}))
		var eb errorBody
		var otl wire.OneTimeLogin
		json.Unmarshal(b, &eb)
		json.Unmarshal(b, &otl)
		return st, eb, otl
	}
	if st, _, otl := add("  Caf\u00e9  \u00a0Owner "); st != 201 || otl.Name != "Café Owner" {
		t.Fatalf("create: %d %q", st, otl.Name)
	}
	if st, _, _ := add("Bank admin"); st != 201 {
		t.Fatalf("create Bank admin: %d", st)
	}
	for _, tc := range []struct {
		name     string
		status   int
		contains string
		field    string
	}{
		{"Cafe\u0301 Owner", 409, `user "Café Owner" already exists`, ""},                    // NFD twin
		{"CAFÉ OWNER", 409, `user "Café Owner" already exists`, ""},                          // case twin
		{"Ｃａｆé Owner", 409, `user "Café Owner" already exists`, ""},                          // width twin
		{"B\u0430nk admin", 400, `looks the same as the existing user "Bank admin"`, "name"}, // Cyrillic а
		{"Bank \u0430dmin 2", 400, "mixes letters of different alphabets (Cyrillic and Latin)", "name"},
		{"Bad\x07bell", 400, "not allowed in names", "name"},
	} {
		st, eb, _ := add(tc.name)
		if st != tc.status || !strings.Contains(eb.Error, tc.contains) || eb.Field != tc.field {
			t.Errorf("%q: %d %+v; want %d containing %q", tc.name, st, eb, tc.status, tc.contains)
		}
	}
	// Sign-in finds the account by its key, whatever the form typed.
	var users []wire.User
	_, body := e.call(t, "GET", "/v1/users", e.token, "")
	json.Unmarshal(body, &users)
	if len(users) != 3 {
		t.Fatalf("accounts: %s", body)
	}
	if st, b := e.call(t, "POST", "/v1/users/"+url.PathEscape("CAFE\u0301 OWNER")+"/disable", e.token, ""); st != 204 {
		t.Fatalf("disable by a twin of the name: %d %s", st, b)
	}
	// The web shows the look-alike refusal on the name field.
	w := newWebClient(t, e, e.token)
	resp := w.req(t, "POST", "/ui/users", url.Values{"csrf": {w.csrf}, "name": {"B\u0430nk admin"}, "role": {"member"}}, nil)
	if page := readAll(t, resp); resp.StatusCode != 422 || !strings.Contains(page, "looks the same as the existing user &#34;Bank admin&#34;") {
		t.Fatalf("web look-alike: %d %s", resp.StatusCode, page)
	}
}

// FuzzDecodeStrict: the strict decoder never panics, never quotes a value
// from the body, and what it accepts encoding/json decodes to the same
// value (strictness only refuses; it never changes what is read).
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"name":"X","role":"member"}`, `{"name":"a","name":"b"}`, `{"NAME":"x"}`, `{"name":"x","extra":1}`,
		`{"name":"R","kind":"admin","password":"p","assignees":["IT Provider"],"tags":["a","b"]}`, `{"name":"n\u0061me"}`,
		`{"password":"\ud800","notes":null}`, `{"format":"csv","data":"","csv_map":{"a":1,"A":2}}`, `[]`, `{"name":1}`, `{} {}`,
		`{"assignees":[{"x":1,"x":2}]}`, ` {"name" : "x" } `, `{"name":"x"`, `{"expires":"2030-01-01T00:00:00Z","name":"é"}`} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(1), []byte(s))
		f.Add(uint8(2), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		var strict, lax any
		switch which % 4 {
		case 0:
			strict, lax = new(wire.UserRequest), new(wire.UserRequest)
		case 1:
			strict, lax = new(wire.CredentialRequest), new(wire.CredentialRequest)
		case 2:
			strict, lax = new(wire.HandoverRequest), new(wire.HandoverRequest)
		default:
			strict, lax = new(map[string]any), new(map[string]any)
		}
		err := decodeStrict(append([]byte(nil), body...), strict)
		if err != nil {
			if _, msg := classify(err); msg == "" || len(body) >= 8 && strings.Contains(msg, string(body)) {
				t.Fatalf("error %q for %q", msg, body)
			}
			return
		}
		if err := json.Unmarshal(body, lax); err != nil {
			t.Fatalf("strict accepted what encoding/json refuses: %q: %v", body, err)
		}
		a, _ := json.Marshal(strict)
		b, _ := json.Marshal(lax)
		if string(a) != string(b) {
			t.Fatalf("%q: strict %s, lax %s", body, a, b)
		}
	})
}
