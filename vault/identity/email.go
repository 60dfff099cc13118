package identity

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
)

// MaxEmail is the longest address accepted (RFC 5321's path limit less
// the angle brackets).
const MaxEmail = 254

// ParseEmail checks an e-mail address for field: a bare addr-spec
// (name@example.org, no display name, no angle brackets, no white space
// or control characters), at most MaxEmail bytes, with a dot in the
// domain. "" is allowed and means no address. The error never quotes the
// input.
func ParseEmail(field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > MaxEmail {
		return "", access.Invalid(field, "an e-mail address is at most %d characters", MaxEmail)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == ',' || r == ';' || r == '"' || r == '(' || r == ')' || r == '\\' {
			return "", access.Invalid(field, "give a plain e-mail address, such as clerk@example-parish.gov.uk")
		}
	}
	a, err := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	if err != nil || a.Address != s || a.Name != "" || at < 1 || !strings.Contains(s[at+1:], ".") ||
		strings.HasSuffix(s, ".") || strings.Contains(s[at+1:], "..") {
		return "", access.Invalid(field, "give a plain e-mail address, such as clerk@example-parish.gov.uk")
	}
	return s, nil
}

// SetEmail sets (or, with "", removes) an account's e-mail address, where
// the vault's messages to that person go. Only a provider may. The
// address is kept in the sealed account record; the audit entry says that
// it changed, not what it is.
func (a *Accounts) SetEmail(ctx context.Context, req auditlog.Request, p *access.Principal, name, email string) error {
	if p.Role != access.RoleProvider {
		return a.log.Deny(ctx, req, p, audit.UserEmail, audit.Target{Kind: "user", Name: name}, "only a provider manages accounts")
	}
	email, err := ParseEmail("email", email)
	if err != nil {
		return err
	}
	return a.updateUserByName(ctx, req, p, name, audit.UserEmail, func(u *Record) (string, error) {
		u.Email = email
		if email == "" {
			return "e-mail address removed", nil
		}
		return "e-mail address set", nil
	})
}

// Contact is where to reach one person: what a notifier needs, nothing
// more.
type Contact struct {
	ID     string
	Name   string
	Role   access.Role
	Email  string
	Active bool // not disabled and not past its end date
	// Expires is the account's end date (contractors, third parties);
	// zero if it has none.
	Expires time.Time
}

// Contacts lists every account's contact details, for the notifiers. It
// reads the sealed account records, so it needs the vault unsealed, and
// records nothing: it reveals no secret and runs on the vault's own
// behalf.
func (a *Accounts) Contacts(ctx context.Context) ([]Contact, error) {
	var out []Contact
	err := a.keys.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			recs, err := All(tx)
			for _, u := range recs {
				out = append(out, Contact{ID: u.ID, Name: u.Name, Role: u.Role, Email: u.Email,
					Active: !u.Disabled && !u.Expired(a.now()), Expires: u.Expires})
			}
			return err
		})
	})
	return out, err
}
