package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"strongroom/audit"
)

// ErrWebhookURL is ParseWebhookURL's one error; it never quotes the URL
// (a chat service's webhook URL is itself a secret).
var ErrWebhookURL = errors.New("notify: a webhook URL is https://HOST/PATH, or http:// to loopback only, with no user or password")

// ParseWebhookURL accepts https:// URLs, and http:// only to 127.0.0.1,
// ::1 or localhost.
func ParseWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return nil, ErrWebhookURL
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, ErrWebhookURL
	}
	return u, nil
}

// ErrWebhookSecret: the secret is neither whsec_BASE64 nor 24 bytes or
// more.
var ErrWebhookSecret = errors.New("notify: a webhook secret is whsec_ followed by base64, or at least 24 bytes")

// ParseWebhookSecret reads a secret in the Standard Webhooks form
// (whsec_ and the base64 of the key), or takes the bytes as the key.
func ParseWebhookSecret(b []byte) ([]byte, error) {
	if rest, ok := bytes.CutPrefix(b, []byte("whsec_")); ok {
		key := make([]byte, base64.StdEncoding.DecodedLen(len(rest)))
		n, err := base64.StdEncoding.Decode(key, rest)
		if err != nil || n < 16 {
			return nil, ErrWebhookSecret
		}
		return key[:n], nil
	}
	if len(b) < 24 {
		return nil, ErrWebhookSecret
	}
	return append([]byte(nil), b...), nil
}

// Sign returns the Standard Webhooks signature header value for one
// delivery: "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." +
// body)), timestamp in Unix seconds.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Event is the JSON body of one webhook delivery: the entry with the
// same fields as the export, its incident kind if it is one, a line of
// text (which Slack's and Teams' incoming webhooks show as it is) and a
// link to the vault.
type Event struct {
	Type     string       `json:"type"` // strongroom.incident or strongroom.entry
	Text     string       `json:"text"`
	Incident string       `json:"incident,omitempty"`
	Link     string       `json:"link"`
	Entry    *audit.Entry `json:"entry"`
}

// Webhook is the webhook destination: one signed POST per entry, in
// order; any answer but 2xx is a failure, and the batch is tried again
// from the first entry not yet accepted. The webhook-id is the entry's
// seq and hash, the same on every retry, so a receiver can drop
// duplicates.
type Webhook struct {
	URL     *url.URL
	Secret  []byte
	BaseURL string
	// IncidentsOnly sends incidents and leaves other entries out.
	IncidentsOnly bool
	Client        *http.Client
	Now           func() time.Time

	mu   sync.Mutex
	sent uint64 // the last seq accepted in the batch being tried
}

func (w *Webhook) client() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	return &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Deliver implements Destination.
func (w *Webhook) Deliver(ctx context.Context, batch []*audit.Entry) (int, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	for _, e := range batch {
		w.mu.Lock()
		done := e.Seq <= w.sent
		w.mu.Unlock()
		if done || (w.IncidentsOnly && !audit.IsIncident(e)) {
			continue
		}
		body, id := w.event(e)
		ts := now().Unix()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL.String(), bytes.NewReader(body))
		if err != nil {
			return 0, &deliveryError{"the webhook request could not be made", errors.New("bad request")}
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Strongroom")
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", Sign(w.Secret, id, ts, body))
		res, err := w.client().Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the URL may hold a token: never in a log
			}
			return 0, &deliveryError{"the webhook receiver could not be reached", err}
		}
		res.Body.Close()
		if res.StatusCode < 200 || res.StatusCode > 299 {
			return 0, &deliveryError{"the webhook receiver did not accept an entry", fmt.Errorf("HTTP %d", res.StatusCode)}
		}
		w.mu.Lock()
		w.sent = e.Seq
		w.mu.Unlock()
	}
	return 0, nil
}

func (w *Webhook) event(e *audit.Entry) ([]byte, string) {
	ev := Event{Type: "strongroom.entry", Link: w.BaseURL + "/ui/audit", Entry: e}
	it := itemOf(e)
	if audit.IsIncident(e) {
		ev.Type, ev.Incident, ev.Link = "strongroom.incident", string(audit.KindOf(e)), w.BaseURL+"/ui/incidents"
	}
	ev.Text = fmt.Sprintf("Strongroom: %s by %s, %s, %s (entry %d)", it.What, it.Who, it.Target, it.When, e.Seq)
	body, _ := json.Marshal(ev) // an Event always marshals
	hash := e.Hash
	if len(hash) > 16 {
		hash = hash[:16]
	}
	return body, "msg_" + strconv.FormatUint(e.Seq, 10) + "_" + strings.ToLower(hash)
}
