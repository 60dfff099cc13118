package credentials

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// The register of the council's admin and shared accounts: who holds access
// to what, when each access was last used and when it was last reviewed.

// Holder is one person's access to a credential.
type Holder struct {
	Name     string    `json:"name"`
	Via      string    `json:"via"` // "assigned" or "grant until …"
	LastUsed time.Time `json:"last_used,omitempty"`
}

// RegisterEntry is one account in the register.
type RegisterEntry struct {
	Credential   string      `json:"credential"`
	Kind         access.Kind `json:"kind"`
	Holders      []Holder    `json:"holders"`
	LastUsed     time.Time   `json:"last_used,omitempty"`
	LastReviewed time.Time   `json:"last_reviewed,omitempty"`
	ReviewedBy   string      `json:"reviewed_by,omitempty"`
	ReviewDue    bool        `json:"review_due"`
	Compromised  bool        `json:"compromised"`
}

func mayReview(p *access.Principal) bool {
	return p.Role == access.RoleProvider || p.Role == access.RoleClerk || p.Role == access.RoleChairman
}

// AccessReview returns the register, flagging accounts whose access was
// not reviewed in the last days days (never reviewed: counted from creation).
func (c *Credentials) AccessReview(ctx context.Context, req auditlog.Request, p *access.Principal, days int) ([]RegisterEntry, error) {
	if days <= 0 {
		days = ReviewDays
	}
	target := audit.Target{Kind: "register"}
	if !mayReview(p) && p.Role != access.RoleAuditor {
		return nil, c.log.Deny(ctx, req, p, audit.ReportAccessReview, target, "role may not see the register")
	}
	if err := c.log.Record(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ReportAccessReview, Target: target,
		Reason: fmt.Sprintf("review period %d days", days)}); err != nil {
		return nil, err
	}
	out := []RegisterEntry{}
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			now := c.now()
			reg, err := c.scanRegister(tx, now)
			if err != nil {
				return err
			}
			return eachHead(tx, func(h *credHead) bool {
				if h.Deleted || h.Kind == access.KindPersonal {
					return true
				}
				e := reg.entry(h)
				e.ReviewDue = reviewDue(h, now, days)
				out = append(out, e)
				return true
			})
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].ReviewDue != out[j].ReviewDue {
			return out[i].ReviewDue
		}
		return out[i].Credential < out[j].Credential
	})
	return out, err
}

// registerScan is what the register reads besides the heads, in one
// view: people's names, each holder's last use of each credential (from
// the whole log) and the live grants.
type registerScan struct {
	names   map[string]string       // user id -> name
	people  []access.Person         // every account
	lastUse map[[2]string]time.Time // credential id, user id
	grants  map[string][]*Grant     // credential id -> live grants
}

func (c *Credentials) scanRegister(tx barrier.Tx, now time.Time) (*registerScan, error) {
	names, people, err := c.userNames(tx)
	if err != nil {
		return nil, err
	}
	r := &registerScan{names: names, people: people, lastUse: map[[2]string]time.Time{},
		grants: map[string][]*Grant{}}
	if err := tx.Scan(storage.BucketAudit, nil, func(_, val []byte) (bool, error) {
		e, err := audit.ParseLine(val)
		if err != nil {
			return false, fmt.Errorf("vault: stored entry unreadable: %w", err)
		}
		if auditlog.IsRead(e) {
			r.lastUse[[2]string{e.Target.ID, e.Actor.ID}] = e.Time
		}
		return true, nil
	}); err != nil {
		return nil, err
	}
	err = eachGrant(tx, func(g *Grant) error {
		if g.active(now) {
			r.grants[g.CredID] = append(r.grants[g.CredID], g)
		}
		return nil
	})
	return r, err
}

// entry is h's line in the register: its holders (assignees, then live
// grants) and when each last used it.
func (r *registerScan) entry(h *credHead) RegisterEntry {
	e := RegisterEntry{Credential: h.Name, Kind: h.Kind, Holders: []Holder{}, LastReviewed: h.Reviewed,
		ReviewedBy: h.ReviewedBy, Compromised: h.Compromised != nil}
	holder := func(uid, via string) {
		t := r.lastUse[[2]string{h.ID, uid}]
		e.Holders = append(e.Holders, Holder{Name: r.names[uid], Via: via, LastUsed: t})
		if t.After(e.LastUsed) {
			e.LastUsed = t
		}
	}
	for _, uid := range h.Assignees {
		holder(uid, "assigned")
	}
	for _, g := range r.grants[h.ID] {
		holder(g.UserID, "grant until "+g.Until.Format(time.RFC3339))
	}
	return e
}

// ReviewCredential records that someone confirmed who holds access.
func (c *Credentials) ReviewCredential(ctx context.Context, req auditlog.Request, p *access.Principal, name string) error {
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			result = nil
			h, err := findCred(tx, name)
			if err != nil || h == nil {
				return access.FirstErr(err, notFound("credential", name))
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if !mayReview(p) || (h.Kind == access.KindPersonal && h.Owner != p.UserID) {
				result = refuse(p, h, name, audit.CredReview)
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredReview, Target: target,
					Outcome: audit.OutcomeDenied, Reason: "only a provider, the clerk or the chairman reviews access"})
			}
			h.Reviewed, h.ReviewedBy = c.now(), p.Name
			if err := putHead(tx, h); err != nil {
				return err
			}
			names, _, err := c.userNames(tx)
			if err != nil {
				return err
			}
			holders := strings.Join(c.info(h, names).Assignees, ", ")
			if holders == "" {
				holders = "(nobody)"
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredReview, Target: target,
				Reason: "access confirmed for: " + holders})
		})
	})
	return access.FirstErr(err, result)
}
