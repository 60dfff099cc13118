package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"strongroom/api/wire"
)

// startDevice asks, as a command line, to sign in as name.
func (e *env) startDevice(t *testing.T, name string) wire.DeviceStart {
	t.Helper()
	st, body := e.call(t, "POST", "/v1/auth/device", "", jsonBody(map[string]string{"user": name}))
	var ds wire.DeviceStart
	if st != 200 || json.Unmarshal(body, &ds) != nil || ds.DeviceCode == "" || len(ds.UserCode) != 9 || ds.Interval != 5 || ds.ExpiresIn != 600 ||
		ds.VerificationURI != e.srv.URL+"/ui/device" {
		t.Fatalf("start: %d %s", st, body)
	}
	return ds
}

// poll is one poll of the token endpoint: the RFC 8628 error code ("" on
// success) and the session token.
func (e *env) poll(t *testing.T, deviceCode string) (string, string) {
	t.Helper()
	st, body := e.call(t, "POST", "/v1/auth/device/token", "", jsonBody(map[string]string{"device_code": deviceCode}))
	if st == 200 {
		var lr wire.LoginResponse
		if json.Unmarshal(body, &lr) != nil || lr.Token == "" {
			t.Fatalf("poll: %s", body)
		}
		return "", lr.Token
	}
	var de wire.DeviceTokenError
	if st != 400 || json.Unmarshal(body, &de) != nil || de.Error == "" || de.Description == "" {
		t.Fatalf("poll: %d %s", st, body)
	}
	return de.Error, ""
}

// readPage reads a response's body.
func readPage(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The API and the pages together: the command line asks, the person
// re-authenticates, types the code, sees where it came from, approves;
// the command line gets a working session once.
func TestDeviceFlowAPIAndWeb(t *testing.T) {
	e := newEnv(t)
	ds := e.startDevice(t, "IT Provider")
	if code, _ := e.poll(t, ds.DeviceCode); code != "authorization_pending" {
		t.Fatalf("first poll: %s", code)
	}
	w := newWebClient(t, e, e.token)
	if resp := w.req(t, "GET", "/ui/device", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/reauth?next=/ui/device" {
		t.Fatalf("without re-authentication: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if body := readPage(t, w.req(t, "GET", "/ui/reauth?next=/ui/device", nil, nil)); !strings.Contains(body, "Signing in a command line") {
		t.Fatalf("reauth page: %s", body)
	}
	e.reauth(t)
	if body := readPage(t, w.req(t, "GET", "/ui/device", nil, nil)); !strings.Contains(body, `name="code"`) {
		t.Fatalf("form: %s", body)
	}
	resp := w.req(t, "POST", "/ui/device", url.Values{"csrf": {w.csrf}, "code": {"BBBB-BBBB"}}, nil)
	if body := readPage(t, resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "no command-line sign-in is waiting") {
		t.Fatalf("wrong code: %d %s", resp.StatusCode, body)
	}
	resp = w.req(t, "POST", "/ui/device", url.Values{"csrf": {w.csrf}, "code": {strings.ToLower(ds.UserCode)}}, nil)
	body := readPage(t, resp)
	for _, want := range []string{ds.UserCode, "Only approve if you started this yourself just now", "127.0.0.1", "Go-http-client", ">Approve<", ">Refuse<"} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("confirmation lacks %q: %d %s", want, resp.StatusCode, body)
		}
	}
	if strings.Contains(body, ds.DeviceCode) {
		t.Fatal("the page shows the device code")
	}
	resp = w.req(t, "POST", "/ui/device/decide", url.Values{"csrf": {w.csrf}, "code": {ds.UserCode}, "decision": {"approve"}}, nil)
	if body := readPage(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "Sign-in approved") {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	code, token := e.poll(t, ds.DeviceCode)
	if code != "" {
		t.Fatalf("poll after approval: %s", code)
	}
	if st, body := e.call(t, "GET", "/v1/auth/whoami", token, ""); st != 200 || !strings.Contains(string(body), `"IT Provider"`) {
		t.Fatalf("whoami: %d %s", st, body)
	}
	if code, _ := e.poll(t, ds.DeviceCode); code != "invalid_grant" {
		t.Fatalf("poll after use: %s", code)
	}
	// A refusal: the command line is told access_denied.
	ds = e.startDevice(t, "IT Provider")
	resp = w.req(t, "POST", "/ui/device/decide", url.Values{"csrf": {w.csrf}, "code": {ds.UserCode}, "decision": {"refuse"}}, nil)
	if body := readPage(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "Sign-in refused") {
		t.Fatalf("refuse: %d %s", resp.StatusCode, body)
	}
	if code, _ := e.poll(t, ds.DeviceCode); code != "access_denied" {
		t.Fatalf("poll after refusal: %s", code)
	}
}

// Malformed bodies are 400s naming the field; nothing of the body is
// echoed.
func TestDeviceBadRequests(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ path, body, field string }{
		{"/v1/auth/device", `{}`, "user"},
		{"/v1/auth/device", `{"user":"  "}`, "user"},
		{"/v1/auth/device", `{"user":1}`, "user"},
		{"/v1/auth/device/token", `{}`, "device_code"},
		{"/v1/auth/device/token", `{"device_code":["srd_secretish"]}`, "device_code"},
	} {
		st, body := e.call(t, "POST", tc.path, "", tc.body)
		var eb wire.Error
		if st != 400 || json.Unmarshal(body, &eb) != nil || eb.Field != tc.field || strings.Contains(string(body), "secretish") {
			t.Errorf("%s %s: %d %s", tc.path, tc.body, st, body)
		}
	}
	if code, _ := e.poll(t, "srd_not-a-real-code"); code != "invalid_grant" {
		t.Fatalf("made-up code: %s", code)
	}
	if code, _ := e.poll(t, "srd_"+strings.Repeat("A", 43)); code != "invalid_grant" {
		t.Fatalf("made-up code: %s", code)
	}
	if st, _ := e.call(t, "POST", "/v1/auth/device/token", "", `{"device_code":"x","extra":1}`); st != 400 {
		t.Fatalf("unknown member: %d", st)
	}
}

func FuzzDeviceBodies(f *testing.F) {
	for _, s := range []string{`{"user":"IT Provider"}`, `{"user":""}`, `{"device_code":"srd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
		`{"device_code":""}`, `{"user":"\u0000"}`, `[]`, `{"device_code":1}`} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(1), []byte(s))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, ep uint8, body []byte) {
		path := []string{"/v1/auth/device", "/v1/auth/device/token"}[int(ep)%2]
		req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var eb struct {
			Error string `json:"error"`
		}
		switch {
		case resp.StatusCode >= 500:
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		case resp.StatusCode >= 400 && (json.Unmarshal(b, &eb) != nil || eb.Error == ""):
			t.Fatalf("%s: error without a JSON body: %d %s", path, resp.StatusCode, b)
		case len(body) > 8 && bytes.Contains(b, body):
			t.Fatalf("%s: the answer echoes the body", path)
		}
	})
}
