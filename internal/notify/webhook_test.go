package notify

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"strongroom/audit"
)

// TestWebhookSignedInOrderWithRetry: each entry is POSTed once accepted,
// in order, signed as Standard Webhooks specify; a receiver failing for a
// while gets the same webhook-id again and nothing is skipped.
func TestWebhookSignedInOrderWithRetry(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	var mu sync.Mutex
	var got []uint64
	fail := 2
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
		n, _ := strconv.ParseInt(ts, 10, 64)
		if !hmac.Equal([]byte(r.Header.Get("webhook-signature")), []byte(Sign(key, id, n, body))) {
			t.Errorf("bad signature for %s", id)
		}
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.Entry == nil {
			t.Errorf("body %s", body)
			return
		}
		if ev.Entry.Seq == 1 && (ev.Type != "strongroom.incident" || ev.Incident != "denied read") {
			t.Errorf("event %+v", ev)
		}
		got = append(got, ev.Entry.Seq)
	}))
	defer rcv.Close()
	u, err := ParseWebhookURL(rcv.URL)
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	src.add(deniedRead(time.Now()))
	src.add(&audit.Entry{Time: time.Now(), Action: audit.AuthLogout, Outcome: audit.OutcomeOK, Hash: "ab"})
	r := runner(src, &Webhook{URL: u, Secret: key, BaseURL: "https://vault.test"})
	defer start(t, r)()
	waitAcked(t, src, 2)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("delivered %v", got)
	}
	if st := r.Status(); st.Failures != 2 || st.Delivered != 2 || st.LastError != "the webhook receiver did not accept an entry" {
		t.Fatalf("status %+v", st)
	}
}

func TestWebhookURLAndSecret(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/services/T/B/X", true}, {"http://127.0.0.1:9000/hook", true}, {"http://localhost/x", true},
		{"http://example.org/hook", false}, {"https://user:pw@example.org/", false}, {"ftp://example.org", false}, {"https:///x", false},
	} {
		if _, err := ParseWebhookURL(c.url); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.url, err)
		}
	}
	if k, err := ParseWebhookSecret([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")); err != nil || len(k) != 24 {
		t.Errorf("whsec: %v %d", err, len(k))
	}
	if _, err := ParseWebhookSecret([]byte("short")); err == nil {
		t.Error("short secret accepted")
	}
}

// The Standard Webhooks example vector (standardwebhooks.com spec).
func TestSignVector(t *testing.T) {
	key, _ := ParseWebhookSecret([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("signature %s", got)
	}
}
