package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/internal/smtptest"
	"strongroom/vault"
)

// fakeSource is an in-memory log with a saved position.
type fakeSource struct {
	mu      sync.Mutex
	entries []*audit.Entry
	pos     uint64
}

func (f *fakeSource) add(e *audit.Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.Seq = uint64(len(f.entries) + 1)
	f.entries = append(f.entries, e)
}

func (f *fakeSource) Next(_ context.Context, limit int) ([]*audit.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.entries[f.pos:]
	return append([]*audit.Entry(nil), out[:min(limit, len(out))]...), nil
}

func (f *fakeSource) Ack(_ context.Context, seq uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pos = max(f.pos, seq)
	return nil
}

func (f *fakeSource) Pending(context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return uint64(len(f.entries)) - f.pos, nil
}

type fakePeople struct {
	mu         sync.Mutex
	sealed     bool
	people     []vault.Contact
	off        []string            // MailOff
	offErr     error               // MailOff's error, if set
	requesters map[string]string   // request id: requester's account id
	reasons    map[string]string   // request id: the approver's reason
	deciders   map[string][]string // credential id: deciders' account ids
}

func (f *fakePeople) MailOff(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sealed {
		return nil, vault.ErrSealed
	}
	if f.offErr != nil {
		return nil, f.offErr
	}
	return f.off, nil
}

func (f *fakePeople) Requester(_ context.Context, id string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sealed {
		return "", "", vault.ErrSealed
	}
	return f.requesters[id], f.reasons[id], nil
}

func (f *fakePeople) Deciders(_ context.Context, credID, _ string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sealed {
		return nil, vault.ErrSealed
	}
	return f.deciders[credID], nil
}

func (f *fakePeople) Contacts(context.Context) ([]vault.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sealed {
		return nil, vault.ErrSealed
	}
	return f.people, nil
}

func (f *fakePeople) Sealed() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.sealed }

var council = []vault.Contact{
	{ID: "c1", Name: "Carol Clerk", Role: vault.RoleClerk, Email: "clerk@parish.test", Active: true},
	{ID: "p1", Name: "Pat Provider", Role: vault.RoleProvider, Email: "it@provider.test", Active: true},
	{ID: "h1", Name: "Harry Chair", Role: vault.RoleChairman, Email: "chair@parish.test", Active: true},
	{ID: "m1", Name: "Mo Member", Role: vault.RoleMember, Email: "mo@parish.test", Active: true},
	{ID: "g1", Name: "Gone Clerk", Role: vault.RoleClerk, Email: "gone@parish.test", Active: false},
}

func deniedRead(when time.Time) *audit.Entry {
	return &audit.Entry{Time: when, Actor: audit.Actor{ID: "m1", Name: "Mo Member", Role: "member"}, Action: audit.CredRead,
		Target: audit.Target{Kind: "credential", ID: "x", Name: "Bank"}, Outcome: audit.OutcomeDenied, Reason: "not assigned"}
}

// newMailer returns a mailer that submits to srv as the host mail.test
// (not loopback, so STARTTLS is required) reached on 127.0.0.1.
func newMailer(t *testing.T, srv *smtptest.Server, pp People) *Mailer {
	t.Helper()
	sv, err := ParseSMTPURL("smtp://" + srv.User + "@mail.test:" + srv.Addr[strings.LastIndexByte(srv.Addr, ':')+1:])
	if err != nil {
		t.Fatal(err)
	}
	if sv.Loopback {
		t.Fatal("mail.test taken for loopback")
	}
	return &Mailer{Server: sv, Password: []byte(srv.Password), From: "strongroom@parish.test", TLS: &tls.Config{RootCAs: srv.Roots},
		Composer: &Composer{Council: "Little Wittering Parish Council", BaseURL: "https://vault.parish.test"},
		People:   pp, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Addr)
		}}
}

func runner(src Source, d Destination) *Runner {
	return &Runner{Name: "mail", Source: src, Dest: d, Poll: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func start(t *testing.T, r *Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func TestIncidentReachesClerkOverSTARTTLS(t *testing.T) {
	srv := smtptest.Start(t, "strongroom@parish.test", "s3cret-smtp-pass")
	src := &fakeSource{}
	when := time.Date(2026, 7, 14, 13, 5, 9, 0, time.UTC) // 14:05:09 BST
	src.add(deniedRead(when))
	r := runner(src, newMailer(t, srv, &fakePeople{people: council}))
	defer start(t, r)()
	got := srv.WaitFor(t, 2, 10*time.Second)
	to := map[string]smtptest.Mail{}
	for _, m := range got {
		if !m.TLS || m.AuthUser != "strongroom@parish.test" {
			t.Fatalf("mail not over TLS with AUTH: %+v", m)
		}
		to[m.To[0]] = m
	}
	if len(to) != 2 || to["clerk@parish.test"].Data == nil || to["it@provider.test"].Data == nil {
		t.Fatalf("recipients %v, want the active clerk and the provider", to)
	}
	body := string(to["clerk@parish.test"].Data)
	for _, want := range []string{"Subject: Strongroom: denied read at Little Wittering Parish Council", "Mo Member (member)",
		"Tuesday 14 July 2026 at 14:05:09 (UK time)", "https://vault.parish.test/ui/incidents", "text/plain", "text/html", "Auto-Submitted: auto-generated"} {
		if !strings.Contains(body, want) {
			t.Errorf("message lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "s3cret-smtp-pass") {
		t.Fatal("the SMTP password is in a message")
	}
	waitAcked(t, src, 1)
	if st := r.Status(); st.Delivered != 1 || st.Failures != 0 {
		t.Fatalf("status %+v", st)
	}
}

func waitAcked(t *testing.T, src *fakeSource, seq uint64) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if p, _ := src.Pending(context.Background()); p == 0 && src.pos >= seq {
			return
		}
	}
	t.Fatalf("position never reached %d", seq)
}

// Many incidents committed together make one message per officer.
func TestIncidentsAreGrouped(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	src := &fakeSource{}
	for range 5 {
		src.add(deniedRead(time.Now()))
	}
	r := runner(src, newMailer(t, srv, &fakePeople{people: council}))
	defer start(t, r)()
	waitAcked(t, src, 5)
	got := srv.Mail()
	if len(got) != 2 || !strings.Contains(string(got[0].Data), "Subject: Strongroom: 5 security incidents") {
		t.Fatalf("%d messages, want 2 grouped ones", len(got))
	}
}

// A recipient refused for good is counted and does not hold back the
// others or the queue.
func TestRefusedRecipient(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	srv.Refuse["clerk@parish.test"] = true
	src := &fakeSource{}
	src.add(deniedRead(time.Now()))
	r := runner(src, newMailer(t, srv, &fakePeople{people: council}))
	defer start(t, r)()
	waitAcked(t, src, 1)
	got := srv.Mail()
	if len(got) != 1 || got[0].To[0] != "it@provider.test" {
		t.Fatalf("got %+v", got)
	}
	if st := r.Status(); st.Refused != 1 || st.Delivered != 1 {
		t.Fatalf("status %+v", st)
	}
}

// A server that is down for a while: the failures are counted, nothing
// is acknowledged, and everything arrives, once each, when it returns.
func TestServerDownThenBack(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	srv.Stop()
	src := &fakeSource{}
	src.add(deniedRead(time.Now()))
	r := runner(src, newMailer(t, srv, &fakePeople{people: council}))
	defer start(t, r)()
	for end := time.Now().Add(10 * time.Second); r.Status().Failures < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("no failures counted")
		}
	}
	st := r.Status()
	if st.Delivered != 0 || st.Pending != 1 || st.LastError != "could not connect to, or sign in to, the SMTP server" {
		t.Fatalf("status while down %+v", st)
	}
	src.add(deniedRead(time.Now()))
	srv.Restart(t)
	waitAcked(t, src, 2)
	if got := srv.Mail(); len(got) != 2 {
		t.Fatalf("%d messages after the server came back, want 2 (the 2 incidents grouped, to 2 officers)", len(got))
	}
	if st := r.Status(); st.Failing != 0 || st.Delivered != 2 {
		t.Fatalf("status after %+v", st)
	}
}

// A wrong password is a failure (retried), and the status says so
// without quoting the server.
func TestWrongPassword(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	src := &fakeSource{}
	src.add(deniedRead(time.Now()))
	m := newMailer(t, srv, &fakePeople{people: council})
	m.Password = []byte("wrong")
	r := runner(src, m)
	refused, err := m.Deliver(context.Background(), src.entries)
	if err == nil || refused != 0 {
		t.Fatalf("delivered with a wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error quotes the password: %v", err)
	}
	_ = r
}

// While sealed with no directory read yet, the mailer waits without a
// failure; an entry that makes no message is acknowledged even sealed.
func TestSealedWaits(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	pp := &fakePeople{sealed: true, people: council}
	src := &fakeSource{}
	src.add(&audit.Entry{Time: time.Now(), Action: audit.AuthLogout, Outcome: audit.OutcomeOK})
	src.add(deniedRead(time.Now()))
	r := runner(src, newMailer(t, srv, pp))
	defer start(t, r)()
	for end := time.Now().Add(10 * time.Second); !r.Status().Waiting; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("never waiting")
		}
	}
	if st := r.Status(); st.Failures != 0 || len(srv.Mail()) != 0 {
		t.Fatalf("status sealed %+v", st)
	}
	pp.mu.Lock()
	pp.sealed = false
	pp.mu.Unlock()
	waitAcked(t, src, 2)
	if len(srv.Mail()) != 2 {
		t.Fatal("not delivered after unseal")
	}
}

// TestSealMessages: an emergency recovery, a re-key and an envelope check
// each reach the chairman and the provider (and nobody else, but for the
// incident mail a recovery also makes, which is the provider's only
// message for it), in plain English with the time in Europe/London, over
// the SMTP server.
func TestSealMessages(t *testing.T) {
	when := time.Date(2026, 7, 14, 13, 5, 9, 0, time.UTC) // 14:05:09 BST
	for _, c := range []struct {
		action   audit.Action
		subject  string
		incident bool
	}{
		{audit.EscrowRecover, "Strongroom: an emergency recovery at Little Wittering Parish Council", true},
		{audit.EscrowRekey, "Strongroom: a re-key of the envelopes at Little Wittering Parish Council", false},
		{audit.EscrowCheck, "Strongroom: an envelope check at Little Wittering Parish Council", false},
	} {
		t.Run(string(c.action), func(t *testing.T) {
			srv := smtptest.Start(t, "u", "p")
			src := &fakeSource{}
			src.add(&audit.Entry{Time: when, Actor: audit.Actor{ID: "h1", Name: "Harry Chair", Role: "chairman"}, Action: c.action,
				Target: audit.Target{Kind: "vault"}, Outcome: audit.OutcomeOK, Reason: "2 of 3 envelopes"})
			r := runner(src, newMailer(t, srv, &fakePeople{people: council}))
			defer start(t, r)()
			waitAcked(t, src, 1)
			seal, count := map[string]bool{}, map[string]int{}
			for _, m := range srv.Mail() {
				if count[m.To[0]]++; count[m.To[0]] > 1 {
					t.Errorf("%s got more than one message", m.To[0])
				}
				if subject := subjectOf(t, m.Data); subject != c.subject {
					if !c.incident || !strings.HasPrefix(subject, "Strongroom: emergency recovery") {
						t.Errorf("unexpected mail to %s:\n%s", m.To[0], m.Data)
					}
					continue
				}
				seal[m.To[0]] = true
				if !strings.Contains(string(m.Data), "Tuesday 14 July 2026 at 14:05:09 (UK time)") || !strings.Contains(string(m.Data), "https://vault.parish.test/ui/audit") {
					t.Errorf("mail to %s lacks the UK time or the link:\n%s", m.To[0], m.Data)
				}
			}
			// A provider told of a recovery by the incident mail gets no
			// second message for it.
			if want := !c.incident; len(seal) != map[bool]int{true: 2, false: 1}[want] || !seal["chair@parish.test"] || seal["it@provider.test"] != want {
				t.Fatalf("the seal mail went to %v, want the chairman and (but for a recovery) the provider", seal)
			}
			if c.incident && count["it@provider.test"] != 1 {
				t.Fatalf("the provider got %d messages for a recovery, want the incident mail only", count["it@provider.test"])
			}
		})
	}
}

// subjectOf returns a message's Subject, unfolded and decoded.
func subjectOf(t *testing.T, data []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return subject
}
