package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"strongroom/api/wire"
	"strongroom/internal/notify"
)

// The council's mail switches over the API: every kind listed, on by
// default; the server's --mail-off shown beside the council's setting;
// a bad kind or body is a 400 naming the field; a change is answered
// with the settings as they now are.
func TestMailSettingsRoutes(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(newServer(e.v, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MailOff: []notify.Kind{notify.KindDigest}}, 1000))
	defer srv.Close()
	e.srv = srv
	for _, tc := range []struct {
		path, body   string
		status       int
		field, error string
	}{
		{"/v1/notify/settings/weather", `{"on":false}`, 400, "kind", "kind must be one of incidents, requests"},
		{"/v1/notify/settings/reviews", `{}`, 400, "on", `field "on" is required`},
		{"/v1/notify/settings/reviews", `{"on":"no"}`, 400, "on", "wrong type"},
		{"/v1/notify/settings/reviews", `{"on":false,"kind":"x"}`, 400, "kind", "unknown field"},
	} {
		st, body := e.call(t, "PUT", tc.path, e.token, tc.body)
		var eb errorBody
		if st != tc.status || json.Unmarshal(body, &eb) != nil || eb.Field != tc.field || !strings.Contains(eb.Error, tc.error) {
			t.Errorf("PUT %s %s: %d %s", tc.path, tc.body, st, body)
		}
	}
	st, body := e.call(t, "PUT", "/v1/notify/settings/reviews", e.token, `{"on":false}`)
	var s wire.MailSettings
	if st != 200 || json.Unmarshal(body, &s) != nil || len(s.Kinds) != len(notify.Kinds) {
		t.Fatalf("PUT: %d %s", st, body)
	}
	for _, k := range s.Kinds {
		on, serverOff := k.Kind != "reviews", k.Kind == "digest"
		if k.On != on || k.ServerOff != serverOff || k.Sent != (on && !serverOff) {
			t.Errorf("%+v", k)
		}
	}
	if st, _ := e.call(t, "GET", "/v1/notify/settings", "", ""); st != 401 {
		t.Fatalf("unauthenticated GET: %d", st)
	}
}
