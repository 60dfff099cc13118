package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"strongroom/internal/notify"
	"strongroom/vault"
)

// The words for each state, with UK times (09:14 BST is 08:14 UTC).
func TestDescribeDelivery(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	since := time.Date(2026, 7, 1, 8, 14, 0, 0, time.UTC)
	cases := []struct {
		name string
		st   notify.Status
		want []string
	}{
		{"failing", notify.Status{Name: "mail", Failing: 5, Failures: 7, Pending: 12, FailingSince: since, LastFail: now,
			LastError: "could not connect to, or sign in to, the SMTP server", LastOK: since.Add(-24 * time.Hour)},
			[]string{"E-mail is not getting through", "E-mail has failed 5 times in a row since 09:14; the last 12 events are waiting to be sent.",
				"What went wrong: Could not connect to, or sign in to, the SMTP server.", "It last got through at 09:14 on 30 June 2026.", "Tell your IT provider."}},
		{"one failure", notify.Status{Name: "webhook", Failing: 1, Pending: 1, FailingSince: since},
			[]string{"has failed 1 time in a row since 09:14; the last 1 event is waiting"}},
		{"working", notify.Status{Name: "mail", Delivered: 40, Failures: 3, LastOK: since},
			[]string{"E-mail: working", "40 events sent since the server started, the latest at 09:14.", "3 attempts failed earlier and were tried again"}},
		{"idle", notify.Status{Name: "syslog"}, []string{"(syslog): working", "Nothing has needed sending"}},
		{"sealed", notify.Status{Name: "mail", Waiting: true, Pending: 2}, []string{"E-mail: waiting until the vault is unsealed", "2 events are waiting"}},
		{"refused", notify.Status{Name: "mail", Delivered: 1, Refused: 1, LastOK: since}, []string{"1 message was refused for good"}},
	}
	for _, c := range cases {
		d := describeDelivery(c.st, now, "Tell your IT provider.")
		text := d.Headline + "\n" + strings.Join(d.Lines, "\n")
		if d.Failing != (c.st.Failing > 0) {
			t.Errorf("%s: failing %v", c.name, d.Failing)
		}
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q lacks %q", c.name, text, w)
			}
		}
	}
}

// A real webhook runner against a receiver on loopback that refuses
// entries (HTTP 503) and then takes them: the messages page and the home
// page's warning say it fails, then that it works, and never show the
// receiver's address or the token in its path.
func TestWebDeliveryFailsThenWorks(t *testing.T) {
	e := newEnv(t)
	var down atomic.Bool
	down.Store(true)
	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	u, err := notify.ParseWebhookURL(recv.URL + "/services/T0SECRETTOKEN")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.v.Subscriber("webhook")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.StartAtHead(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := &notify.Runner{Name: "webhook", Source: sub, Dest: &notify.Webhook{URL: u, Secret: []byte("a webhook secret of 24 bytes+"), BaseURL: "https://vault.test"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go r.Run(ctx)
	srv := httptest.NewServer(newServer(e.v, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Deliveries: func() []notify.Status { return []notify.Status{r.Status()} }}, 1000))
	t.Cleanup(srv.Close)
	w := newWebClient(t, &env{srv: srv, v: e.v}, e.token)
	page := func(path string) string {
		resp := w.req(t, "GET", path, nil, nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		for _, leak := range []string{"T0SECRET", "/services/", recv.Listener.Addr().String(), "127.0.0.1"} {
			if strings.Contains(string(b), leak) {
				t.Fatalf("%s shows %q", path, leak)
			}
		}
		return strings.ReplaceAll(string(b), "&rsquo;", "’")
	}

	if st, body := e.call(t, "POST", "/v1/users", e.token, `{"name":"Clerk","role":"clerk"}`); st != 201 { // an audit entry to send
		t.Fatalf("user add %d %s", st, body)
	}
	waitUntil(t, func() bool { return r.Status().Failing >= 1 })
	first := r.Status().FailingSince
	waitUntil(t, func() bool { return r.Status().Failing >= 3 })
	if st := r.Status(); first.IsZero() || !st.FailingSince.Equal(first) || st.LastFail.Before(first) {
		t.Fatalf("failing since %v, then %+v: want the first failure's time, kept", first, st)
	}
	if p := page("/ui/delivery"); !strings.Contains(p, "is not getting through") || !strings.Contains(p, "in a row since") ||
		!strings.Contains(p, "What went wrong: The webhook receiver did not accept an entry.") {
		t.Fatalf("the messages page does not say it fails:\n%s", p)
	}
	if p := page("/ui/home"); !strings.Contains(p, "Warning: the vault’s messages are not getting through") || !strings.Contains(p, `href="/ui/delivery"`) {
		t.Fatalf("the home page has no warning:\n%s", p)
	}

	down.Store(false)
	waitUntil(t, func() bool { s := r.Status(); return s.Failing == 0 && s.Delivered > 0 })
	if st := r.Status(); !st.FailingSince.IsZero() {
		t.Fatalf("still failing since %v after a delivery", st.FailingSince)
	}
	if p := page("/ui/delivery"); !strings.Contains(p, "(webhook): working") || strings.Contains(p, "not getting through") ||
		!strings.Contains(p, "tried again until it worked") {
		t.Fatalf("the messages page does not say it works:\n%s", p)
	}
	if p := page("/ui/home"); strings.Contains(p, "Warning") {
		t.Fatalf("the home page still warns:\n%s", p)
	}
	if got.Load() == 0 {
		t.Fatal("the receiver got nothing")
	}
}

// Only the provider and the clerk see the page.
func TestWebDeliveryAudience(t *testing.T) {
	for role, want := range map[vault.Role]bool{vault.RoleProvider: true, vault.RoleClerk: true, vault.RoleChairman: false,
		vault.RoleAuditor: false, vault.RoleMember: false} {
		if got := deliveryAudience(&vault.Principal{Role: role}); got != want {
			t.Errorf("%s: %v", role, got)
		}
	}
}

// The Messages page and its warning are the provider's and the clerk's:
// the chairman, the auditor and a member are refused the page and are
// not warned.
func TestWebDeliveryRoute(t *testing.T) {
	e := newEnv(t)
	failing := []notify.Status{{Name: "mail", Failing: 2, Failures: 2, FailingSince: time.Now(), LastFail: time.Now()}}
	srv := httptest.NewServer(newServer(e.v, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Deliveries: func() []notify.Status { return failing }}, 1000))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		role string
		see  bool
	}{{"clerk", true}, {"chairman", false}, {"auditor", false}, {"member", false}} {
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
		w := newWebClient(t, &env{srv: srv, v: e.v}, in.Token)
		resp := w.req(t, "GET", "/ui/delivery", nil, nil)
		resp.Body.Close()
		if want := map[bool]int{true: 200, false: 403}[c.see]; resp.StatusCode != want {
			t.Errorf("%s: /ui/delivery %d, want %d", c.role, resp.StatusCode, want)
		}
		resp = w.req(t, "GET", "/ui/home", nil, nil)
		home, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if warned := strings.Contains(string(home), "messages are not getting through"); warned != c.see {
			t.Errorf("%s: warned %v, want %v", c.role, warned, c.see)
		}
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("timed out")
}
