package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"strongroom/vault"
)

// The provider's daily reminders.
const (
	// KindCompromised: credentials reported compromised and not changed
	// since.
	KindCompromised Kind = "compromised"
	// KindReviews: credentials whose access review is due.
	KindReviews Kind = "reviews"
	// KindContractors: accounts (contractors, third parties) whose end
	// date is within a week.
	KindContractors Kind = "contractors"
)

// RemindHour is the hour of the day (UK time) the reminders go out.
const RemindHour = 8

// Ending is how far ahead an account's end date is reminded of.
const Ending = 7 * 24 * time.Hour

// Day is a day of the UK calendar as a number, YYYYMMDD.
func Day(t time.Time) uint64 {
	l := t.In(London)
	return uint64(l.Year()*10000 + int(l.Month())*100 + l.Day())
}

// ReminderDue returns the day (Day) whose reminders are due at now, given
// last, the day they were last sent; 0 if none is due. A day's reminders
// are due from RemindHour:00 UK time that day until they are sent. A last
// day after today (the clock went back, or the saved day was changed
// outside the vault) does not hold today's reminders back: a duplicate
// reminder is harmless, a skipped one is not.
func ReminderDue(now time.Time, last uint64) uint64 {
	return dueAt(now, last, RemindHour, 0)
}

// ReminderDueAt is ReminderDue with the reminders due from hour:minute UK
// time instead of RemindHour:00 (server --reminders-at).
func ReminderDueAt(hour, minute int) func(now time.Time, last uint64) uint64 {
	return func(now time.Time, last uint64) uint64 { return dueAt(now, last, hour, minute) }
}

func dueAt(now time.Time, last uint64, hour, minute int) uint64 {
	l := now.In(London)
	if l.Before(time.Date(l.Year(), l.Month(), l.Day(), hour, minute, 0, 0, London)) {
		return 0
	}
	if day := Day(l); day != last {
		return day
	}
	return 0
}

// ReminderSource is what the reminders read and save in the vault
// (*vault.Vault).
type ReminderSource interface {
	// Attention needs the vault unsealed.
	Attention(ctx context.Context) (compromised, reviews []vault.Notice, err error)
	ReminderDay(ctx context.Context) (uint64, error)
	SetReminderDay(ctx context.Context, day uint64) error
}

// Reminders mails the providers, once a day at RemindHour UK time, what
// needs their attention: credentials reported compromised and not changed
// since (KindCompromised), access reviews due (KindReviews), and accounts
// ending within a week (KindContractors); a kind with nothing to say
// sends nothing. The day sent is saved in the vault (an outbox position,
// SetReminderDay) after its messages were accepted, so a restart does not
// send a day twice (unless it came between the two), and a failure is
// tried again. The names are in sealed records: while the vault is sealed
// the day waits, and goes out after the unseal.
type Reminders struct {
	Mailer *Mailer
	Vault  ReminderSource
	Log    *slog.Logger
	// Now is the clock (default time.Now): the schedule is tested with it.
	Now func() time.Time
	// Poll is how often the schedule is checked (default a minute).
	Poll time.Duration
	// Due is the schedule (default ReminderDue).
	Due func(now time.Time, last uint64) uint64

	mu sync.Mutex
	st Status
}

// Status returns a copy of the reminders' counters, as a Runner's.
func (r *Reminders) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Name = "reminders"
	return st
}

// Run sends each day's reminders until ctx ends. While the vault is
// sealed it looks every few seconds, so the day's reminders go soon after
// the unseal.
func (r *Reminders) Run(ctx context.Context) {
	poll := r.Poll
	if poll <= 0 {
		poll = time.Minute
	}
	for {
		sent, err := r.step(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := poll
		r.mu.Lock()
		switch {
		case errors.Is(err, ErrNotReady):
			r.st.Waiting, wait = true, min(poll, 5*time.Second)
		case err != nil:
			if r.st.Failing == 0 {
				r.st.FailingSince = time.Now()
			}
			r.st.Failures++
			r.st.Failing++
			r.st.LastError, r.st.LastFail, r.st.Waiting = "delivery failed", time.Now(), false
			var pe PublicError
			if errors.As(err, &pe) {
				r.st.LastError = pe.Public()
			}
		case sent: // only a day done ends a run of failures
			r.st.Failing, r.st.Waiting, r.st.FailingSince = 0, false, time.Time{}
		default:
			r.st.Waiting = false
		}
		r.mu.Unlock()
		if err != nil && !errors.Is(err, ErrNotReady) && r.Log != nil {
			r.Log.Warn("reminders failed; will try again", "destination", "reminders", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Step sends the reminders of the day that is due, if one is: ErrNotReady
// while the vault is sealed.
func (r *Reminders) Step(ctx context.Context) error {
	_, err := r.step(ctx)
	return err
}

// step is Step, saying whether a due day was done.
func (r *Reminders) step(ctx context.Context) (bool, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	last, err := r.Vault.ReminderDay(ctx)
	if err != nil {
		return false, err
	}
	due := r.Due
	if due == nil {
		due = ReminderDue
	}
	day := due(now, last)
	if day == 0 {
		return false, nil
	}
	if r.Mailer.People.Sealed() {
		return false, ErrNotReady
	}
	people, err := r.Mailer.directory(ctx)
	if err != nil {
		return false, err
	}
	compromised, reviews, err := r.Vault.Attention(ctx)
	if err != nil {
		return false, r.Mailer.notReady(err)
	}
	msgs, err := r.compose(day, now, people, compromised, reviews)
	if err != nil {
		return false, err
	}
	if len(msgs) > 0 {
		refused, err := r.Mailer.send(ctx, day, msgs)
		if err != nil {
			return false, err
		}
		r.mu.Lock()
		r.st.Refused += uint64(refused)
		r.st.Delivered++
		r.st.LastOK = time.Now()
		r.mu.Unlock()
	}
	return true, r.Vault.SetReminderDay(ctx, day)
}

func (r *Reminders) compose(day uint64, now time.Time, people []vault.Contact, compromised, reviews []vault.Notice) ([]Message, error) {
	c := r.Mailer.Composer
	providers := filter(people, func(p vault.Contact) bool { return p.Role == vault.RoleProvider })
	var out []Message
	add := func(k Kind, lines []string, subject, intro, path, linkText string) error {
		if len(lines) == 0 || c.IsOff(k) {
			return nil
		}
		l := letter{Council: c.council(), Intro: intro, Lines: lines, Link: c.BaseURL + path, LinkText: linkText, Footer: noSecret}
		text, html, err := render(l)
		if err != nil {
			return err
		}
		for _, p := range providers {
			out = append(out, Message{Key: fmt.Sprintf("%s/%d/%s", k, day, p.ID), To: p, Subject: subject + " at " + c.council(), Text: text, HTML: html})
		}
		return nil
	}
	var lines []string
	for _, n := range compromised {
		lines = append(lines, fmt.Sprintf("%s: reported by %s on %s", n.Credential, n.By, UKTime(n.Since)))
	}
	if err := add(KindCompromised, lines, plural(len(lines), "Strongroom: a password reported compromised is not changed yet", "Strongroom: %d passwords reported compromised are not changed yet"),
		"These passwords were reported as possibly known to someone else, and have not been changed since. Change each one at its website or system, then in the vault (strongroom cred rotate).",
		"/ui/report/password-health", "See the password health report"); err != nil {
		return nil, err
	}
	lines = nil
	for _, n := range reviews {
		if n.By == "" {
			lines = append(lines, fmt.Sprintf("%s: never reviewed; added on %s", n.Credential, UKTime(n.Since)))
		} else {
			lines = append(lines, fmt.Sprintf("%s: last reviewed by %s on %s", n.Credential, n.By, UKTime(n.Since)))
		}
	}
	if err := add(KindReviews, lines, plural(len(lines), "Strongroom: an access review is due", "Strongroom: %d access reviews are due"),
		"Nobody has confirmed in the last 90 days who should hold access to these logins. Check who holds each one, take away access that is no longer needed, and mark it reviewed (strongroom cred review).",
		"/ui/creds", "See the passwords"); err != nil {
		return nil, err
	}
	lines = nil
	for _, p := range people {
		if p.Active && !p.Expires.IsZero() && p.Expires.After(now) && !p.Expires.After(now.Add(Ending)) {
			lines = append(lines, fmt.Sprintf("%s (%s): access ends on %s", p.Name, p.Role, UKTime(p.Expires)))
		}
	}
	err := add(KindContractors, lines, plural(len(lines), "Strongroom: an account ends within a week", "Strongroom: %d accounts end within a week"),
		"These people's access to the vault ends within a week. Check with the clerk whether their work goes on. When it ends, make sure nothing they hold is still needed, and change the shared passwords they used.",
		"/ui/users", "See the people")
	return out, err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}
