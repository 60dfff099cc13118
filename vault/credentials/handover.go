package credentials

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
)

// A hand-over (Drayton Bassett 9.1.3: councillors and staff who run a
// site for the council "must ensure they provide the council with login
// details"): any signed-in person stores a council account's login
// themselves, so the password passes through nobody else's hands. It
// becomes a shared credential owned by the council (no owner), assigned
// to every active clerk and to the depositor while they remain; a clerk
// confirms receiving it; offboarding or disabling the depositor ends
// their assignment, and offboarding lists it to rotate (they knew it).

// Handover records who handed a login over, and its confirmation. It is
// part of the sealed head, so it is sealed like the rest.
type Handover struct {
	ByID        string    `json:"by_id"` // the depositor's account id
	By          string    `json:"by"`    // their name then
	At          time.Time `json:"at"`
	Reason      string    `json:"reason,omitempty"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"` // the clerk's name
	ConfirmedAt time.Time `json:"confirmed_at,omitempty"`
}

// HandoverInfo is what may be shown of a hand-over.
type HandoverInfo struct {
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	Reason      string    `json:"reason,omitempty"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"`
	ConfirmedAt time.Time `json:"confirmed_at,omitempty"`
}

func (h *Handover) info() *HandoverInfo {
	if h == nil {
		return nil
	}
	return &HandoverInfo{By: h.By, At: h.At, Reason: h.Reason, ConfirmedBy: h.ConfirmedBy, ConfirmedAt: h.ConfirmedAt}
}

// HandoverInput is a login handed over to the council.
type HandoverInput struct {
	Name, URL, Username string
	Password            []byte
	TOTP                string // otpauth:// URI or a base32 seed
	Reason              string
}

// mayConfirmHandover: the clerk, whom the policy names as receiving it.
func mayConfirmHandover(p *access.Principal) bool { return p.Role == access.RoleClerk }

// HandOver stores a login any signed-in person hands over to the council
// (every role may: what the depositor knows is theirs to give): a new
// shared credential with no owner, assigned to every active clerk and to
// the depositor (unless their role cannot hold one), recorded as
// cred.handover. A name in use is refused (field "name"), never
// overwritten. It wipes in.Password.
func (c *Credentials) HandOver(ctx context.Context, req auditlog.Request, p *access.Principal, in HandoverInput) (CredentialInfo, error) {
	defer barrier.Wipe(in.Password)
	ci := CredentialInput{Name: in.Name, URL: in.URL, Username: in.Username, Password: in.Password, TOTP: in.TOTP}
	totpURI, err := checkInput(&ci)
	if err != nil {
		return CredentialInfo{}, err
	}
	switch {
	case strings.TrimSpace(ci.Username) == "":
		return CredentialInfo{}, access.Invalid("username", "give the login's user name (the name or address it signs in with)")
	case len(ci.Password) == 0:
		return CredentialInfo{}, access.Invalid("password", "give the login's password")
	}
	reason := strings.TrimSpace(in.Reason)
	if len(reason) > 500 || strings.ContainsFunc(reason, unicode.IsControl) {
		return CredentialInfo{}, access.Invalid("reason", "the reason must be one line of at most 500 characters")
	}
	var info CredentialInfo
	err = c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			info = CredentialInfo{}
			if err := c.recovery.Routine(tx); err != nil {
				return err
			}
			if err := c.nameFree(tx, p, ci.Name); err != nil {
				return err
			}
			names, users, err := c.userNames(tx)
			if err != nil {
				return err
			}
			now := c.now()
			assignees := receivers(users, p.UserID, now)
			if len(assignees) == 0 {
				return access.Invalid("", "the vault has no active clerk to receive the login; ask the IT provider to add the clerk's account first")
			}
			hd := &credHead{ID: access.NewID(), Name: ci.Name, Kind: access.KindShared, Assignees: assignees, Created: now, Updated: now,
				Version: 1, Username: ci.Username, URL: ci.URL,
				Handover: &Handover{ByID: p.UserID, By: p.Name, At: now, Reason: reason}}
			hd.setTOTP(totpURI)
			v := credVersion{Version: 1, Username: ci.Username, URL: ci.URL, Password: append([]byte(nil), ci.Password...),
				TOTP: totpURI, Created: now, CreatedBy: p.Name}
			defer v.wipe()
			if err := putVersion(tx, hd.ID, 1, &v); err != nil {
				return err
			}
			if err := putHead(tx, hd); err != nil {
				return err
			}
			info = c.info(hd, names)
			why := fmt.Sprintf("handed over by %s; assigned to: %s", p.Name, strings.Join(info.Assignees, ", "))
			if reason != "" {
				why += "; their reason: " + reason
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredHandover,
				Target: audit.Target{Kind: "credential", ID: hd.ID, Name: hd.Name}, Reason: why})
		})
	})
	return info, err
}

// nameFree refuses, in tx and before anything is written, a hand-over's
// name that is in use or drawn like one in use (field "name"); a
// credential the depositor may not see is not confirmed to them.
func (c *Credentials) nameFree(tx barrier.Tx, p *access.Principal, name string) error {
	h, err := findCred(tx, name)
	switch {
	case err != nil:
		return err
	case h != nil && maySee(p, h):
		return access.Invalid("name", "a login called %q is already in the vault; nothing was stored: if it is the same login, tell the clerk, otherwise choose another name", h.Name)
	case h != nil:
		return access.Invalid("name", "the name %q cannot be used; choose another", name)
	}
	return checkNewName(tx, p, name)
}

// receivers are a hand-over's assignees: every active clerk, and the
// depositor if their account may hold a credential and is not a
// contractor's (whose agreement names what they may hold: a login they
// hand over is not in it, and they would read every password the clerk
// later sets on it).
func receivers(users []access.Person, depositor string, now time.Time) []string {
	var clerks []string
	self := false
	for i := range users {
		u := &users[i]
		if u.Disabled || u.Expired(now) {
			continue
		}
		if u.Role == access.RoleClerk {
			clerks = append(clerks, u.ID)
		}
		if u.ID == depositor && mayBeAssigned(u) && u.Role != access.RoleClerk && u.Agreement == nil {
			self = true
		}
	}
	if len(clerks) == 0 {
		return nil
	}
	if self {
		clerks = append(clerks, depositor)
	}
	return clerks
}

// ConfirmHandover records that a clerk received a handed-over login
// (cred.handover_confirm). Anyone else is refused and recorded.
func (c *Credentials) ConfirmHandover(ctx context.Context, req auditlog.Request, p *access.Principal, name string) (CredentialInfo, error) {
	var info CredentialInfo
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			info, result = CredentialInfo{}, nil
			h, err := findCred(tx, name)
			if err != nil || h == nil {
				return access.FirstErr(err, notFound("credential", name))
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if !mayConfirmHandover(p) {
				result = refuse(p, h, name, audit.CredHandoverConfirm)
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredHandoverConfirm, Target: target,
					Outcome: audit.OutcomeDenied, Reason: "only a clerk confirms receiving a handed-over login"})
			}
			switch {
			case h.Handover == nil:
				return access.Invalid("name", "%q was not handed over; there is nothing to confirm", h.Name)
			case !h.Handover.ConfirmedAt.IsZero():
				return access.Invalid("name", "%q was confirmed already, by %s", h.Name, h.Handover.ConfirmedBy)
			case !h.assigned(p.UserID):
				// Confirming is saying it was received: only a holder can.
				return access.Invalid("name", "%q was handed over to the clerks of the day, and you are not among its holders: ask the IT provider to assign it to you, then confirm it", h.Name)
			}
			h.Handover.ConfirmedBy, h.Handover.ConfirmedAt = p.Name, c.now()
			if err := putHead(tx, h); err != nil {
				return err
			}
			names, err := c.assigneeNames(tx, h)
			if err != nil {
				return err
			}
			info = c.info(h, names)
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredHandoverConfirm, Target: target,
				Reason: "received the login handed over by " + h.Handover.By})
		})
	})
	return info, access.FirstErr(err, result)
}

// HandoverNotice is a handed-over login no clerk has confirmed yet.
type HandoverNotice struct {
	Credential string
	By         string
	At         time.Time
}

// PendingHandovers lists, for a clerk, the live handed-over logins not
// yet confirmed, oldest first; nobody else has any to confirm (nil). It
// shows no secret and records nothing, like a list.
func (c *Credentials) PendingHandovers(ctx context.Context, p *access.Principal) ([]HandoverNotice, error) {
	if !mayConfirmHandover(p) {
		return nil, nil
	}
	var out []HandoverNotice
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			out = nil
			return eachHead(tx, func(h *credHead) bool {
				if !h.Deleted && h.Handover != nil && h.Handover.ConfirmedAt.IsZero() {
					out = append(out, HandoverNotice{Credential: h.Name, By: h.Handover.By, At: h.Handover.At})
				}
				return true
			})
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, err
}

// dropDepositor ends, in tx, the assignment of the person with id userID
// to every login they handed over (they are leaving), and returns those
// logins as they now are.
func dropDepositor(tx barrier.Tx, userID string) ([]*credHead, error) {
	var mine []*credHead
	if err := eachHead(tx, func(h *credHead) bool {
		if h.Handover != nil && h.Handover.ByID == userID {
			mine = append(mine, h)
		}
		return true
	}); err != nil {
		return nil, err
	}
	for _, h := range mine {
		if !h.assigned(userID) {
			continue
		}
		h.Assignees = slices.DeleteFunc(h.Assignees, func(id string) bool { return id == userID })
		if err := putHead(tx, h); err != nil {
			return nil, err
		}
	}
	return mine, nil
}

// knewPassword is why offboarding lists a login the leaver handed over.
const knewPassword = "the leaver knew this password: they handed it over"

// leaverHandovers ends, in tx, a leaver's assignment to the logins they
// handed over, and notes each live one with add, to rotate.
func leaverHandovers(tx barrier.Tx, userID string, add func(id, name string, kind access.Kind, reason string)) error {
	handed, err := dropDepositor(tx, userID)
	for _, h := range handed {
		if !h.Deleted {
			add(h.ID, h.Name, h.Kind, knewPassword)
		}
	}
	return err
}

// EndDepositor ends the assignments of the disabled account name to the
// logins they handed over (a disabled depositor no longer "remains"),
// each recorded as a cred.update by p; an active or unknown account
// changes nothing. The vault calls it after disabling an account.
func (c *Credentials) EndDepositor(ctx context.Context, req auditlog.Request, p *access.Principal, name string) error {
	return c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			_, users, err := c.userNames(tx)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(users, func(u access.Person) bool { return access.NameKey(u.Name) == access.NameKey(name) })
			if i < 0 || !users[i].Disabled {
				return nil
			}
			u := users[i]
			var had []*credHead
			if err := eachHead(tx, func(h *credHead) bool {
				if h.Handover != nil && h.Handover.ByID == u.ID && h.assigned(u.ID) {
					had = append(had, h)
				}
				return true
			}); err != nil || len(had) == 0 {
				return err
			}
			if _, err := dropDepositor(tx, u.ID); err != nil {
				return err
			}
			for _, h := range had {
				if err := c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredUpdate,
					Target: audit.Target{Kind: "credential", ID: h.ID, Name: h.Name},
					Reason: u.Name + "'s assignment ended: their account was disabled (they handed this login over; rotate it)"}); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
