package credentials

import (
	"context"
	"sort"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// What the notifiers ask of the credentials, on the vault's own behalf:
// names and dates only, never a secret, and nothing is recorded (as
// identity.Contacts). Each needs the vault unsealed.

// ReviewDays is the access review period the register uses by default.
const ReviewDays = 90

// reviewDue: h's access was not reviewed in the last days days (never
// reviewed: counted from its creation). The register and the provider's
// reminders share this rule.
func reviewDue(h *credHead, now time.Time, days int) bool {
	base := h.Reviewed
	if base.IsZero() {
		base = h.Created
	}
	return now.Sub(base) > time.Duration(days)*24*time.Hour
}

// Notice is one credential that needs the provider's attention.
type Notice struct {
	Credential string
	Since      time.Time // flagged compromised at; or reviewed (created) at
	By         string    // who flagged it; who last reviewed it ("" never)
}

// Attention lists the shared and admin credentials flagged compromised and
// not rotated since, and those whose access review is due (ReviewDays),
// each sorted by name.
func (c *Credentials) Attention(ctx context.Context) (compromised, reviews []Notice, err error) {
	now := c.now()
	err = c.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			compromised, reviews = nil, nil
			return eachHead(tx, func(h *credHead) bool {
				if h.Deleted || h.Kind == access.KindPersonal {
					return true
				}
				if h.Compromised != nil {
					compromised = append(compromised, Notice{Credential: h.Name, Since: h.Compromised.Since, By: h.Compromised.By})
				}
				if reviewDue(h, now, ReviewDays) {
					since := h.Reviewed
					if since.IsZero() {
						since = h.Created
					}
					reviews = append(reviews, Notice{Credential: h.Name, Since: since, By: h.ReviewedBy})
				}
				return true
			})
		})
	})
	byName := func(ns []Notice) {
		sort.Slice(ns, func(i, j int) bool { return ns[i].Credential < ns[j].Credential })
	}
	byName(compromised)
	byName(reviews)
	return compromised, reviews, err
}

// Requester is the account id of the person who made request id ("" if
// there is no such request), and the reason its approver gave when
// deciding it ("" if none, or not decided).
func (c *Credentials) Requester(ctx context.Context, id string) (requesterID, reason string, err error) {
	var ar AccessRequest
	err = c.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			ar = AccessRequest{}
			_, err := tx.GetRecord(storage.BucketRequests, id, &ar)
			return err
		})
	})
	return ar.RequesterID, ar.DecisionReason, err
}

// Deciders are the account ids of the active people who may decide a
// request by requesterID for the credential credID, by the rule
// DecideRequest applies (access.MayApproveKind, and never the requester),
// for the credential's kind as it is now.
func (c *Credentials) Deciders(ctx context.Context, credID, requesterID string) ([]string, error) {
	var out []string
	now := c.now()
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			out = nil
			kind := access.KindShared
			if cur, ok, err := getHead(tx, credID); err != nil {
				return err
			} else if ok {
				kind = cur.Kind
			}
			people, err := c.people.All(tx)
			for _, u := range people {
				p := access.NewPrincipal(u.ID, u.Name, u.Role, "")
				if u.ID != requesterID && !u.Disabled && !u.Expired(now) && access.MayApproveKind(p, kind, c.adminApprover) {
					out = append(out, u.ID)
				}
			}
			return err
		})
	})
	return out, err
}
