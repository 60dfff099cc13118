package vault

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/credentials"
	"strongroom/vault/storage"
)

// What the notifiers read of the vault, on its own behalf: names and
// dates, never a secret, and nothing recorded (as Contacts). Each needs
// the vault unsealed but ReminderDay and SetReminderDay.

// Notice is one credential that needs the provider's attention
// (credentials.Notice).
type Notice = credentials.Notice

// Attention lists the credentials flagged compromised and not rotated
// since, and those whose access review is due.
func (v *Vault) Attention(ctx context.Context) (compromised, reviews []Notice, err error) {
	return v.creds.Attention(ctx)
}

// Requester is the account id of whoever made the access request id, and
// the reason its approver gave when deciding it ("" if none).
func (v *Vault) Requester(ctx context.Context, id string) (requesterID, reason string, err error) {
	return v.creds.Requester(ctx, id)
}

// Deciders are the account ids of those who may decide a request by
// requesterID for the credential credID (the rule DecideRequest applies).
func (v *Vault) Deciders(ctx context.Context, credID, requesterID string) ([]string, error) {
	return v.creds.Deciders(ctx, credID, requesterID)
}

// keyMailSettings holds the council's mail switches: meta, inside the
// state seal, so a copy of the database cannot switch a kind off unseen.
var keyMailSettings = []byte("mail.settings")

type mailSettings struct {
	Off []string `json:"off"` // kinds switched off, sorted
}

var mailKind = regexp.MustCompile(`^[a-z]{1,20}$`)

func readMailSettings(tx storage.Tx) (mailSettings, error) {
	var s mailSettings
	if raw := tx.Get(bucketMeta, keyMailSettings); raw != nil {
		if err := json.Unmarshal(raw, &s); err != nil {
			return s, fmt.Errorf("vault: the mail settings are malformed: %w", err)
		}
	}
	return s, nil
}

// MailOff returns the kinds of e-mail the council switched off (none:
// every kind is on).
func (v *Vault) MailOff(ctx context.Context) ([]string, error) {
	var s mailSettings
	err := v.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) (err error) {
			s, err = readMailSettings(tx)
			return err
		})
	})
	return s.Off, err
}

// SetMail switches one kind of e-mail on or off for the council (a
// provider only; the caller checks kind is one the mailer sends). It is
// recorded as sys.mail_setting; setting a kind to what it is already is
// recorded too, and changes nothing.
func (v *Vault) SetMail(ctx context.Context, req Request, p *Principal, kind string, on bool) error {
	if !mailKind.MatchString(kind) {
		return access.Invalid("kind", "a kind of e-mail is a word of a-z")
	}
	state := map[bool]string{true: "on", false: "off"}[on]
	target := audit.Target{Kind: "mail", Name: kind}
	if p.Role != RoleProvider {
		return v.deny(ctx, req, p, audit.SysMailSetting, target, "only a provider changes the council's e-mail settings")
	}
	return v.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			s, err := readMailSettings(tx) // read in the transaction that writes
			if err != nil {
				return err
			}
			s.Off = slices.DeleteFunc(s.Off, func(k string) bool { return k == kind })
			if !on {
				s.Off = append(s.Off, kind)
				slices.Sort(s.Off)
			}
			raw, err := json.Marshal(s)
			if err != nil {
				return err
			}
			if err := tx.Put(bucketMeta, keyMailSettings, raw); err != nil {
				return err
			}
			return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.SysMailSetting, target: target,
				reason: "e-mail of this kind switched " + state})
		})
	})
}

// keyReminderDay is the last day (YYYYMMDD, UK time) the provider's
// daily reminders were sent. It is an outbox position, outside the state
// seal, as it moves while the vault is sealed: a rolled-back copy only
// sends a day's reminders twice.
var keyReminderDay = []byte("outbox/reminders.day")

// ReminderDay is the last day the daily reminders were sent (0: never).
func (v *Vault) ReminderDay(ctx context.Context) (day uint64, err error) {
	err = v.store.View(ctx, func(tx storage.Tx) error {
		if b := tx.Peek(bucketMeta, keyReminderDay); len(b) == 8 {
			day = binary.BigEndian.Uint64(b)
		}
		return nil
	})
	return day, err
}

// SetReminderDay saves day as the last day the reminders were sent.
func (v *Vault) SetReminderDay(ctx context.Context, day uint64) error {
	return access.Commit(ctx, v.store, func(tx storage.Tx) error {
		return tx.Put(bucketMeta, keyReminderDay, binary.BigEndian.AppendUint64(nil, day))
	})
}
