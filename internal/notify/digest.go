package notify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"strongroom/audit"
	"strongroom/vault"
)

// KindDigest: the weekly digest to the auditors.
const KindDigest Kind = "digest"

// DigestDue returns when the digest that first includes an entry made at
// t is sent: the first Monday at 08:00 Europe/London after t.
func DigestDue(t time.Time) time.Time {
	l := t.In(London)
	d := time.Date(l.Year(), l.Month(), l.Day(), 8, 0, 0, 0, London)
	for !d.After(l) || d.Weekday() != time.Monday {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 8, 0, 0, 0, London)
	}
	return d
}

// Digest is the weekly digest to every active auditor with an address:
// how many entries the log gained in the week, the incidents among them,
// and the latest signed checkpoint attached, so the auditor keeps
// checkpoints without remembering to. It runs as a Runner's destination
// on its own subscriber, so a week is sent at least once, and a restart
// neither loses nor repeats a sent week: the week of the oldest entry
// not yet acknowledged is due at DigestDue of its time, and only the
// entries before that moment are taken (Take) and acknowledged. A week
// with no entries sends nothing. A week of more entries than the
// runner's batch is sent as more than one digest.
type Digest struct {
	Mailer *Mailer
	// Checkpoint returns the latest signed checkpoint (nil: none yet).
	Checkpoint func(ctx context.Context) ([]byte, error)
	// Now is the clock (default time.Now): the schedule is tested with it.
	Now func() time.Time
}

// Take implements Taker: the entries of the batch made before the digest
// of the oldest one is due, if that moment has come; none otherwise.
func (d *Digest) Take(batch []*audit.Entry) int {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	if len(batch) == 0 {
		return 0
	}
	due := DigestDue(batch[0].Time)
	if now().Before(due) {
		return 0
	}
	n := 0
	for n < len(batch) && batch[n].Time.Before(due) {
		n++
	}
	return n
}

// Deliver implements Destination: it mails the digest of batch (the
// entries Take chose).
func (d *Digest) Deliver(ctx context.Context, batch []*audit.Entry) (int, error) {
	m := d.Mailer
	if len(batch) == 0 || slices.Contains(m.Composer.Off, KindDigest) {
		return 0, nil
	}
	people, err := m.directory(ctx) // reads the council's switches too
	if err != nil {
		return 0, err
	}
	if m.Composer.IsOff(KindDigest) {
		return 0, nil
	}
	to := filter(people, func(p vault.Contact) bool { return p.Role == vault.RoleAuditor })
	if len(to) == 0 {
		return 0, nil
	}
	var cp []byte
	if d.Checkpoint != nil {
		if cp, err = d.Checkpoint(ctx); err != nil {
			return 0, &deliveryError{"the latest checkpoint could not be read", err}
		}
	}
	msgs, err := d.compose(batch, to, cp)
	if err != nil {
		return 0, err
	}
	return m.send(ctx, batch[0].Seq, msgs)
}

func (d *Digest) compose(batch []*audit.Entry, to []vault.Contact, cp []byte) ([]Message, error) {
	c := d.Mailer.Composer
	due := DigestDue(batch[0].Time)
	first, last := batch[0], batch[len(batch)-1]
	intro := fmt.Sprintf("The audit log gained %d new entries (entries %d to %d) in the week to %s.", len(batch), first.Seq, last.Seq, UKTime(due))
	var incidents []*audit.Entry
	for _, e := range batch {
		if audit.IsIncident(e) {
			incidents = append(incidents, e)
		}
	}
	switch len(incidents) {
	case 0:
		intro += " None of them was a security incident."
	case 1:
		intro += " One was a security incident:"
	default:
		intro += fmt.Sprintf(" %d were security incidents:", len(incidents))
	}
	footer := "This message carries no password or other secret."
	var files []Attachment
	if len(cp) > 0 {
		footer = "The latest signed checkpoint of the log is attached: keep it, and check the log against it with strongroom audit verify --checkpoint. " + footer
		files = []Attachment{{Name: "strongroom-checkpoint.txt", Data: cp}}
	}
	l := letter{Council: c.council(), Intro: intro, Link: c.BaseURL + "/ui/audit", LinkText: "See the audit log", Footer: footer}
	for _, e := range incidents {
		l.Items = append(l.Items, itemOf(e))
	}
	text, html, err := render(l)
	if err != nil {
		return nil, err
	}
	subject := "Strongroom: the weekly digest of the audit log at " + c.council()
	var out []Message
	for _, p := range to {
		key := fmt.Sprintf("%s/%d-%d/%s", KindDigest, first.Seq, last.Seq, p.ID)
		out = append(out, Message{Key: key, To: p, Subject: subject, Text: text, HTML: html, Attachments: files})
	}
	return out, nil
}
