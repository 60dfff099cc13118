package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/internal/smtptest"
	"strongroom/vault"
)

func TestDigestDue(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ at, due string }{
		{"2026-07-12T22:59:00Z", "2026-07-13T07:00:00Z"}, // Sunday 23:59 BST: Monday 08:00 BST
		{"2026-07-13T06:59:59Z", "2026-07-13T07:00:00Z"}, // Monday 07:59:59 BST: an hour on
		{"2026-07-13T07:00:00Z", "2026-07-20T07:00:00Z"}, // Monday 08:00 BST itself: the next week
		{"2026-03-28T12:00:00Z", "2026-03-30T07:00:00Z"}, // the clocks go forward on Sunday 29 March
		{"2026-10-24T12:00:00Z", "2026-10-26T08:00:00Z"}, // and back on Sunday 25 October
		{"2026-01-05T07:59:00Z", "2026-01-05T08:00:00Z"}, // Monday in winter: GMT
	} {
		if got := DigestDue(utc(c.at)); !got.Equal(utc(c.due)) {
			t.Errorf("DigestDue(%s) = %s, want %s", c.at, got.UTC().Format(time.RFC3339), c.due)
		}
	}
}

// clock is a settable time for the digest's schedule.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// TestWeeklyDigest: nothing is sent before the week's Monday 08:00 (UK
// time); then the auditor, and nobody else, gets one message counting the
// week's entries, listing its incidents, with the checkpoint attached;
// the next week's entries wait for the next Monday. The clock is
// injected and the runner stepped by hand: no sleeps.
func TestWeeklyDigest(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	people := append([]vault.Contact{{ID: "a1", Name: "Ada Auditor", Role: vault.RoleAuditor, Email: "auditor@parish.test", Active: true}}, council...)
	checkpoint := []byte("strongroom/00ff\n3\nabcd\n\n— strongroom/00ff signature\n")
	clk := &clock{now: time.Date(2026, 7, 10, 12, 0, 0, 0, time.UTC)} // Friday
	d := &Digest{Mailer: newMailer(t, srv, &fakePeople{people: people}), Now: clk.Now,
		Checkpoint: func(context.Context) ([]byte, error) { return checkpoint, nil }}
	src := &fakeSource{}
	src.add(&audit.Entry{Time: clk.Now(), Actor: audit.Actor{Name: "Carol Clerk", Role: "clerk"}, Action: audit.CredCreate, Target: audit.Target{Kind: "credential", Name: "Bank"}, Outcome: audit.OutcomeOK})
	src.add(deniedRead(clk.Now().Add(time.Hour)))
	src.add(&audit.Entry{Time: clk.Now().Add(2 * time.Hour), Actor: audit.Actor{Name: "Carol Clerk", Role: "clerk"}, Action: audit.CredRead, Target: audit.Target{Kind: "credential", Name: "Bank"}, Outcome: audit.OutcomeOK})
	src.add(&audit.Entry{Time: time.Date(2026, 7, 14, 9, 0, 0, 0, time.UTC), Action: audit.AuthLogin, Outcome: audit.OutcomeOK}) // next week
	r := runner(src, d)
	r.defaults()
	ctx := context.Background()
	step := func() int {
		t.Helper()
		n, err := r.step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	clk.Set(time.Date(2026, 7, 13, 6, 59, 0, 0, time.UTC)) // Monday 07:59 BST
	if n := step(); n != 0 || len(srv.Mail()) != 0 {
		t.Fatalf("before Monday 08:00: %d entries taken, %d messages", n, len(srv.Mail()))
	}
	clk.Add(time.Minute) // Monday 08:00 BST
	if n := step(); n != 3 {
		t.Fatalf("at Monday 08:00: %d entries taken, want the week's 3", n)
	}
	got := srv.Mail()
	if len(got) != 1 || got[0].To[0] != "auditor@parish.test" {
		t.Fatalf("the digest went to %v, want the auditor only", got)
	}
	text, files := readDigest(t, got[0].Data)
	for _, want := range []string{"gained 3 new entries (entries 1 to 3) in the week to Monday 13 July 2026 at 08:00:00 (UK time)",
		"One was a security incident", "denied read", "Mo Member (member)", "https://vault.parish.test/ui/audit"} {
		if !strings.Contains(text, want) {
			t.Errorf("the digest lacks %q:\n%s", want, text)
		}
	}
	if !bytes.Equal(files["strongroom-checkpoint.txt"], checkpoint) {
		t.Errorf("attachments %v, want the checkpoint", files)
	}
	if src.pos != 3 {
		t.Fatalf("position %d, want 3", src.pos)
	}
	if n := step(); n != 0 || len(srv.Mail()) != 1 {
		t.Fatalf("next week's entry sent early (%d)", n)
	}
	clk.Add(7 * 24 * time.Hour)
	if n := step(); n != 1 || len(srv.Mail()) != 2 {
		t.Fatalf("the second week: %d entries, %d messages", n, len(srv.Mail()))
	}
	if text, _ := readDigest(t, srv.Mail()[1].Data); !strings.Contains(text, "None of them was a security incident") {
		t.Errorf("second digest:\n%s", text)
	}
}

// readDigest returns a message's decoded text parts and its attachments.
func readDigest(t *testing.T, data []byte) (string, map[string][]byte) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var text strings.Builder
	var walk func(r io.Reader, ctype string)
	walk = func(r io.Reader, ctype string) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			b, _ := io.ReadAll(r)
			text.Write(b)
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			if name := p.FileName(); name != "" {
				var body io.Reader = p // multipart decodes quoted-printable itself
				if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
					body = base64.NewDecoder(base64.StdEncoding, p)
				}
				if files[name], err = io.ReadAll(body); err != nil {
					t.Fatal(err)
				}
				continue
			}
			walk(p, p.Header.Get("Content-Type"))
		}
	}
	walk(m.Body, m.Header.Get("Content-Type"))
	return text.String(), files
}

// A digest the council switched off is not sent, by a mailer that has
// not read the switches before (the first digest after a restart), and
// its week is acknowledged.
func TestDigestSwitchedOffByCouncil(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	people := append([]vault.Contact{{ID: "a1", Name: "Ada Auditor", Role: vault.RoleAuditor, Email: "auditor@parish.test", Active: true}}, council...)
	d := &Digest{Mailer: newMailer(t, srv, &fakePeople{people: people, off: []string{string(KindDigest)}}),
		Now: func() time.Time { return time.Date(2026, 7, 20, 9, 0, 0, 0, time.UTC) }}
	src := &fakeSource{}
	src.add(deniedRead(time.Date(2026, 7, 10, 12, 0, 0, 0, time.UTC)))
	r := runner(src, d)
	r.defaults()
	if n, err := r.step(context.Background()); err != nil || n != 1 {
		t.Fatalf("step: %d, %v", n, err)
	}
	if n := len(srv.Mail()); n != 0 {
		t.Fatalf("%d digests sent, switched off", n)
	}
}
