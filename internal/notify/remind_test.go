package notify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/internal/smtptest"
	"strongroom/vault"
)

func TestReminderDue(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		at   string
		last uint64
		due  uint64
	}{
		{"2026-07-14T06:59:59Z", 20260713, 0},        // 07:59:59 BST: not yet
		{"2026-07-14T07:00:00Z", 20260713, 20260714}, // 08:00 BST
		{"2026-07-14T07:00:00Z", 20260714, 0},        // sent already today
		{"2026-07-14T22:59:59Z", 20260714, 0},        // 23:59:59 BST, still the 14th
		{"2026-07-14T23:00:00Z", 20260714, 0},        // 00:00 BST on the 15th: not yet
		{"2026-01-14T07:59:59Z", 20260113, 0},        // 07:59:59 GMT
		{"2026-01-14T08:00:00Z", 20260113, 20260114}, // 08:00 GMT
		{"2026-03-29T07:00:00Z", 20260328, 20260329}, // the clocks went forward at 01:00 GMT: 08:00 BST
		{"2026-03-29T06:59:00Z", 20260328, 0},
		{"2026-10-25T07:59:00Z", 20261024, 0},        // the clocks went back at 02:00 BST: 07:59 GMT
		{"2026-10-25T08:00:00Z", 20261024, 20261025}, // 08:00 GMT
		{"2026-07-14T09:00:00Z", 0, 20260714},        // never sent
		{"2026-07-14T09:00:00Z", 20300101, 20260714}, // a saved day in the future does not hold today back
	} {
		if got := ReminderDue(utc(c.at), c.last); got != c.due {
			t.Errorf("ReminderDue(%s, %d) = %d, want %d", c.at, c.last, got, c.due)
		}
	}
}

// memVault is the vault as the reminders read it, in memory.
type memVault struct {
	mu                   sync.Mutex
	day                  uint64
	compromised, reviews []vault.Notice
	people               *fakePeople
}

func (m *memVault) Attention(context.Context) ([]vault.Notice, []vault.Notice, error) {
	if m.people.Sealed() {
		return nil, nil, vault.ErrSealed
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.compromised, m.reviews, nil
}

func (m *memVault) ReminderDay(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.day, nil
}

func (m *memVault) SetReminderDay(_ context.Context, d uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.day = d
	return nil
}

// TestReminders: at 08:00 UK time the provider, and nobody else, gets one
// message for each kind with something to say, naming the credentials
// and people with UK times and a link; not twice on the same day, even
// from a new Reminders (a restart); nothing on a day with nothing to say;
// while sealed the day waits, and goes out after the unseal; a kind the
// council switched off is not sent. The clock is injected: no sleeps.
func TestReminders(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	clk := &clock{now: time.Date(2026, 7, 14, 6, 30, 0, 0, time.UTC)} // 07:30 BST
	people := append([]vault.Contact{
		{ID: "k1", Name: "Kim Contractor", Role: vault.RoleMember, Email: "kim@contractor.test", Active: true, Expires: time.Date(2026, 7, 20, 16, 0, 0, 0, time.UTC)},
		{ID: "k2", Name: "Lee Later", Role: vault.RoleMember, Email: "lee@contractor.test", Active: true, Expires: time.Date(2026, 8, 20, 16, 0, 0, 0, time.UTC)},
		{ID: "p2", Name: "Second Provider", Role: vault.RoleProvider, Email: "it2@provider.test", Active: true},
	}, council...)
	pp := &fakePeople{people: people}
	mv := &memVault{people: pp,
		compromised: []vault.Notice{{Credential: "Bank", Since: time.Date(2026, 7, 10, 9, 0, 0, 0, time.UTC), By: "Carol Clerk"}},
		reviews:     []vault.Notice{{Credential: "Router", Since: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}, {Credential: "Payroll", Since: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), By: "Pat Provider"}}}
	newReminders := func() *Reminders { return &Reminders{Mailer: newMailer(t, srv, pp), Vault: mv, Now: clk.Now} }
	r := newReminders()
	ctx := context.Background()
	step := func(r *Reminders) {
		t.Helper()
		if err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step(r)
	if n := len(srv.Mail()); n != 0 {
		t.Fatalf("%d messages before 08:00", n)
	}
	clk.Set(time.Date(2026, 7, 14, 7, 0, 0, 0, time.UTC)) // 08:00 BST
	step(r)
	got := srv.Mail()
	if len(got) != 6 {
		t.Fatalf("%d messages, want 3 kinds to each of 2 providers", len(got))
	}
	subjects := map[string]string{}
	for _, m := range got {
		if m.To[0] != "it@provider.test" && m.To[0] != "it2@provider.test" {
			t.Fatalf("a reminder to %s", m.To[0])
		}
		subjects[subjectOf(t, m.Data)] = string(m.Data)
	}
	for subject, wants := range map[string][]string{
		"Strongroom: a password reported compromised is not changed yet at Little Wittering Parish Council": {
			"Bank: reported by Carol Clerk on Friday 10 July 2026 at 10:00:00 (UK time)", "https://vault.parish.test/ui/report/password-health"},
		"Strongroom: 2 access reviews are due at Little Wittering Parish Council": {
			"Router: never reviewed; added on Monday 5 January 2026 at 09:00:00 (UK time)",
			"Payroll: last reviewed by Pat Provider on Sunday 1 March 2026 at 09:00:00 (UK time)", "https://vault.parish.test/ui/creds"},
		"Strongroom: an account ends within a week at Little Wittering Parish Council": {
			"Kim Contractor (member): access ends on Monday 20 July 2026 at 17:00:00 (UK time)", "https://vault.parish.test/ui/users", "text/html"},
	} {
		body, ok := subjects[subject]
		if !ok {
			t.Fatalf("no message %q; got %v", subject, subjects)
		}
		for _, w := range wants {
			if !strings.Contains(strings.ReplaceAll(body, "=\r\n", ""), w) {
				t.Errorf("%q lacks %q:\n%s", subject, w, body)
			}
		}
		if strings.Contains(body, "Lee Later") {
			t.Errorf("an account ending in a month is in %q", subject)
		}
	}
	// Not twice the same day, from this runner or a restarted one.
	clk.Add(3 * time.Hour)
	step(r)
	step(newReminders())
	if n := len(srv.Mail()); n != 6 {
		t.Fatalf("%d messages after a second step the same day", n)
	}
	// The next day, sealed: it waits, and counts no failure.
	clk.Add(24 * time.Hour)
	pp.mu.Lock()
	pp.sealed = true
	pp.mu.Unlock()
	if err := r.Step(ctx); !errors.Is(err, ErrNotReady) {
		t.Fatalf("sealed: %v", err)
	}
	if n := len(srv.Mail()); n != 6 || mv.day != 20260714 {
		t.Fatalf("sealed: %d messages, day %d", n, mv.day)
	}
	// Unsealed, with the council's compromised reminders off and nothing
	// to review: only the contractor's.
	pp.mu.Lock()
	pp.sealed, pp.off = false, []string{string(KindCompromised)}
	pp.mu.Unlock()
	mv.reviews = nil
	step(r)
	if got := srv.Mail()[6:]; len(got) != 2 || !strings.Contains(subjectOf(t, got[0].Data), "an account ends within a week") {
		t.Fatalf("after the unseal: %d messages", len(got))
	}
	// A day with nothing to say sends nothing, and is done.
	clk.Add(24 * time.Hour)
	mv.compromised, pp.people = nil, council
	step(r)
	if n := len(srv.Mail()); n != 8 || mv.day != 20260716 {
		t.Fatalf("a quiet day: %d messages, day %d", n, mv.day)
	}
}

// The council's switches and the server's combine: either switches a
// kind off. Requests go only to those who may decide them, decisions to
// the requester found by account id, and a failed backup or off-site
// copy to the providers.
func TestMailSwitchesAndRecipients(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	people := append([]vault.Contact{{ID: "r1", Name: "Reg by Name; Sr", Role: vault.RoleMember, Email: "reg@parish.test", Active: true}}, council...)
	pp := &fakePeople{people: people, requesters: map[string]string{"req1": "r1"}, reasons: map[string]string{"req1": "the router was rebooted this morning"},
		deciders: map[string][]string{"admin-cred": {"h1"}}}
	m := newMailer(t, srv, pp)
	m.Composer.Off = []Kind{KindSeal}
	when := time.Date(2026, 7, 14, 13, 5, 9, 0, time.UTC)
	batch := []*audit.Entry{
		{Seq: 1, Time: when, Actor: audit.Actor{ID: "r1", Name: "Reg by Name; Sr", Role: "member"}, Action: audit.RequestCreate,
			Target: audit.Target{Kind: "credential", ID: "admin-cred", Name: "Router"}, Outcome: audit.OutcomeOK, Reason: "request req1 for 1h0m0s: reboot"},
		{Seq: 2, Time: when, Actor: audit.Actor{ID: "h1", Name: "Harry Chair", Role: "chairman"}, Action: audit.RequestDeny,
			Target: audit.Target{Kind: "request", ID: "req1", Name: "Router"}, Outcome: audit.OutcomeOK, Reason: "request req1 by someone else"},
		{Seq: 3, Time: when, Actor: audit.Actor{Name: "system"}, Action: audit.BackupCreate, Target: audit.Target{Kind: "vault"},
			Outcome: audit.OutcomeError, Reason: "the scheduled backup could not be written"},
		{Seq: 4, Time: when, Actor: audit.Actor{ID: "h1", Name: "Harry Chair", Role: "chairman"}, Action: audit.EscrowCheck, Target: audit.Target{Kind: "vault"}, Outcome: audit.OutcomeOK},
		deniedRead(when),
	}
	batch[4].Seq = 5
	batch = append(batch, &audit.Entry{Seq: 6, Time: when, Actor: audit.Actor{Name: "system"}, Action: audit.BackupCopy,
		Target: audit.Target{Kind: "backup", Name: "backup-20260714T130509Z.srbk"}, Outcome: audit.OutcomeError,
		Reason: "the off-site copy failed: the command ended with exit code 3"})
	pp.off = []string{string(KindIncidents)}
	if _, err := m.Deliver(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, msg := range srv.Mail() {
		got[msg.To[0]] = append(got[msg.To[0]], subjectOf(t, msg.Data))
		if text, _ := readDigest(t, msg.Data); msg.To[0] == "reg@parish.test" && !strings.Contains(text, "Their reason: “the router was rebooted this morning”.") {
			t.Errorf("the decision does not give the chairman's reason:\n%s", msg.Data)
		}
	}
	want := map[string][]string{
		"chair@parish.test": {"Strongroom: Reg by Name; Sr asks for access to Router"},
		"reg@parish.test":   {"Strongroom: your request for Router was refused"},
		"it@provider.test": {"Strongroom: a scheduled backup failed at Little Wittering Parish Council",
			"Strongroom: the off-site copy of a backup failed at Little Wittering Parish Council"},
	}
	if len(got) != len(want) {
		t.Fatalf("mail went to %v, want %v", got, want)
	}
	for to, subjects := range want {
		if strings.Join(got[to], "|") != strings.Join(subjects, "|") {
			t.Errorf("to %s: %v, want %v", to, got[to], subjects)
		}
	}
}

// Sealed, an incident goes out with the directory last read, while a
// request in the same batch (whose deciders are in sealed records) waits
// for the unseal; the retry does not send the incident again.
func TestSealedBatchSendsIncidentsAndHoldsRequests(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	pp := &fakePeople{people: council, deciders: map[string][]string{"bank": {"c1", "h1"}}}
	m := newMailer(t, srv, pp)
	ctx := context.Background()
	// Started cold: the unseal's own entry, which sends nothing, is when
	// the directory is learnt.
	unseal := &audit.Entry{Seq: 0, Action: audit.SysUnseal, Target: audit.Target{Kind: "vault"}, Outcome: audit.OutcomeOK}
	if _, err := m.Deliver(ctx, []*audit.Entry{unseal}); err != nil || len(srv.Mail()) != 0 {
		t.Fatalf("the unseal: %v, %d messages", err, len(srv.Mail()))
	}
	pp.mu.Lock()
	pp.sealed = true
	pp.mu.Unlock()
	when := time.Date(2026, 7, 14, 13, 5, 9, 0, time.UTC)
	batch := []*audit.Entry{
		{Seq: 1, Time: when, Actor: audit.Actor{ID: "m1", Name: "Mo Member", Role: "member"}, Action: audit.RequestCreate,
			Target: audit.Target{Kind: "credential", ID: "bank", Name: "Bank"}, Outcome: audit.OutcomeOK},
		deniedRead(when),
	}
	batch[1].Seq = 2
	if _, err := m.Deliver(ctx, batch); !errors.Is(err, ErrNotReady) {
		t.Fatalf("sealed: %v", err)
	}
	got := srv.Mail()
	if len(got) != 2 || strings.Contains(subjectOf(t, got[0].Data), "asks for access") || strings.Contains(subjectOf(t, got[1].Data), "asks for access") {
		t.Fatalf("sealed: %d messages, want the 2 incident ones only", len(got))
	}
	pp.mu.Lock()
	pp.sealed = false
	pp.mu.Unlock()
	if _, err := m.Deliver(ctx, batch); err != nil {
		t.Fatal(err)
	}
	got = srv.Mail()[2:]
	if len(got) != 2 {
		t.Fatalf("after the unseal: %d more messages, want the request to the clerk and the chairman", len(got))
	}
	for _, msg := range got {
		if !strings.Contains(subjectOf(t, msg.Data), "Mo Member asks for access to Bank") {
			t.Fatalf("after the unseal: %s", subjectOf(t, msg.Data))
		}
	}
}

// With incident e-mail switched off by the council, a denied read is not
// mailed, but the alarms are: the vault finding its database changed,
// the log failing verification, and every change to the switches
// themselves, to the clerk, the chairman and the providers.
func TestAlarmsIgnoreTheSwitches(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	pp := &fakePeople{people: council, off: []string{string(KindIncidents)}}
	m := newMailer(t, srv, pp)
	when := time.Date(2026, 7, 14, 13, 5, 9, 0, time.UTC)
	batch := []*audit.Entry{
		{Seq: 1, Time: when, Actor: audit.Actor{ID: "p1", Name: "Pat Provider", Role: "provider"}, Action: audit.SysMailSetting,
			Target: audit.Target{Kind: "mail", Name: "incidents"}, Outcome: audit.OutcomeOK, Reason: "incidents e-mail switched off"},
		deniedRead(when),
		{Seq: 3, Time: when, Actor: audit.Actor{Name: "system"}, Action: audit.SysSeal, Target: audit.Target{Kind: "vault"},
			Outcome: audit.OutcomeError, Reason: audit.StateCheckFailed + "the credentials bucket does not match the seal"},
		{Seq: 4, Time: when, Actor: audit.Actor{ID: "p1", Name: "Pat Provider", Role: "provider"}, Action: audit.AuditVerify,
			Target: audit.Target{Kind: "audit"}, Outcome: audit.OutcomeError, Reason: "entry 7: hash mismatch"},
	}
	batch[1].Seq = 2
	if _, err := m.Deliver(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, msg := range srv.Mail() {
		text, _ := readDigest(t, msg.Data)
		if strings.Contains(text, "Mo Member") {
			t.Errorf("the denied read was mailed to %s with incident e-mail off", msg.To[0])
		}
		got[msg.To[0]] = append(got[msg.To[0]], subjectOf(t, msg.Data))
	}
	settings := "Strongroom: the vault's e-mail settings were changed at Little Wittering Parish Council"
	alarms := "Strongroom: 2 security incidents at Little Wittering Parish Council"
	for to, want := range map[string][]string{
		"clerk@parish.test": {settings, alarms},
		"it@provider.test":  {settings, alarms},
		"chair@parish.test": {settings},
	} {
		slices.Sort(got[to])
		slices.Sort(want)
		if !slices.Equal(got[to], want) {
			t.Errorf("to %s: %q, want %q", to, got[to], want)
		}
	}
	if len(got) != 3 {
		t.Errorf("mail went to %v", got)
	}
}

// Switches that cannot be read are all on: the incident goes out.
func TestUnreadableSwitchesAreOn(t *testing.T) {
	srv := smtptest.Start(t, "u", "p")
	pp := &fakePeople{people: council, off: []string{string(KindIncidents)}, offErr: errors.New("vault: the mail settings are malformed")}
	m := newMailer(t, srv, pp)
	e := deniedRead(time.Date(2026, 7, 14, 13, 5, 9, 0, time.UTC))
	e.Seq = 1
	if _, err := m.Deliver(context.Background(), []*audit.Entry{e}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Mail()); n != 2 {
		t.Fatalf("%d messages, want the incident to the clerk and the provider", n)
	}
}
