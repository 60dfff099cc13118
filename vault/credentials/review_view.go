package credentials

import (
	"context"
	"fmt"
	"sort"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
)

// What the annual review shows: one item per live admin and shared
// credential, the accounts past their end date, and where the review
// stands.

// ReviewItem is one credential in the annual review.
type ReviewItem struct {
	RegisterEntry
	// Mark names the holding shown; a confirmation sends it back.
	Mark string `json:"mark"`
	// Reads and Denials are this year's (the review's period).
	Reads   int `json:"reads"`
	Denials int `json:"denials"`
	// Rotated is when the current password was set, found as the
	// password health report finds it (the versions before the current
	// one compared, at most 64 back); RotatedIsCreation says it is the
	// one the credential was stored with.
	Rotated           time.Time `json:"rotated"`
	RotatedIsCreation bool      `json:"rotated_is_creation"`
	// State is "to confirm", "confirmed" or "changed since confirmed".
	State       string    `json:"state"`
	ConfirmedAt time.Time `json:"confirmed_at,omitempty"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"`
	// MayChange says the caller may change who holds it (the provider for
	// admin credentials, the clerk too for shared ones).
	MayChange bool `json:"may_change"`
}

// The states of a ReviewItem.
const (
	ItemToConfirm = "to confirm"
	ItemConfirmed = "confirmed"
	ItemChanged   = "changed since confirmed"
)

// OverdueAccount is an account past its end date and not yet disabled:
// overdue for completion, with what it still holds.
type OverdueAccount struct {
	Name    string      `json:"name"`
	Role    access.Role `json:"role"`
	Expires time.Time   `json:"expires"`
	Holds   []string    `json:"holds"` // credentials it is assigned
	// Agreement is a contractor's agreement reference: their work is
	// overdue for completion (strongroom user complete), disabled or not.
	Agreement string `json:"agreement,omitempty"`
	Disabled  bool   `json:"disabled,omitempty"`
}

// AnnualReview is the year's access review as one person sees it.
type AnnualReview struct {
	From        time.Time        `json:"from"`
	To          time.Time        `json:"to"`
	Due         ReviewDue        `json:"due"`
	Items       []ReviewItem     `json:"items"`
	Unconfirmed int              `json:"unconfirmed"`
	Overdue     []OverdueAccount `json:"overdue_for_completion"`
	// MayConfirm says the caller may confirm and sign off (not the
	// auditor, who sees the review read only).
	MayConfirm bool `json:"may_confirm"`
}

// AnnualReview is the review for the year to now: clerk, provider or
// auditor (read only); recorded as report.access_review, and refused
// (recorded, denied) for anyone else.
func (c *Credentials) AnnualReview(ctx context.Context, req auditlog.Request, p *access.Principal) (*AnnualReview, error) {
	target := audit.Target{Kind: "register"}
	if !MayViewReview(p) {
		return nil, c.log.Deny(ctx, req, p, audit.ReportAccessReview, target, "only the clerk, a provider or the auditor sees the annual review")
	}
	now := c.now()
	r := &AnnualReview{From: now.AddDate(-reviewYears, 0, 0), To: now, Items: []ReviewItem{}, Overdue: []OverdueAccount{}, MayConfirm: MayRunReview(p)}
	if err := c.log.Record(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ReportAccessReview, Target: target,
		Reason: fmt.Sprintf("annual review, %s to %s", r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))}); err != nil {
		return nil, err
	}
	uses, err := c.log.Uses(ctx, r.From, r.To)
	if err != nil {
		return nil, err
	}
	err = c.barrier.View(ctx, func(tx barrier.Tx) error {
		r.Items, r.Overdue, r.Unconfirmed = r.Items[:0], r.Overdue[:0], 0
		reg, err := c.scanRegister(tx, now)
		if err != nil {
			return err
		}
		st, err := readReview(tx)
		if err != nil {
			return err
		}
		r.Due = dueOf(st, setUp(reg.people), now)
		held := map[string][]string{} // user id -> credentials assigned
		var failed error
		err = eachHead(tx, func(h *credHead) bool {
			if h.Deleted || h.Kind == access.KindPersonal {
				return true
			}
			since, pw, err := passwordSince(tx, h)
			barrier.Wipe(pw)
			if err != nil {
				failed = err
				return false
			}
			it := reviewItem(reg, st, h, uses[h.ID], p)
			it.Rotated, it.RotatedIsCreation = since.changed, !since.changed.After(h.Created)
			if it.State != ItemConfirmed {
				r.Unconfirmed++
			}
			r.Items = append(r.Items, it)
			for _, uid := range h.Assignees {
				held[uid] = append(held[uid], h.Name)
			}
			return true
		})
		r.Overdue = overdueAccounts(reg.people, held, now)
		return access.FirstErr(err, failed)
	})
	sort.Slice(r.Items, func(i, j int) bool { return r.Items[i].Credential < r.Items[j].Credential })
	return r, err
}

func reviewItem(reg *registerScan, st reviewState, h *credHead, use auditlog.CredentialUse, p *access.Principal) ReviewItem {
	hd := holdingOf(h, reg.grants[h.ID])
	it := ReviewItem{RegisterEntry: reg.entry(h), Mark: hd.mark(), Reads: use.Reads, Denials: use.Denials,
		State: ItemToConfirm, MayChange: mayManage(p, h.Kind, h)}
	if conf, ok := st.Confirmed[h.ID]; ok {
		it.ConfirmedAt, it.ConfirmedBy, it.State = conf.At, conf.By, ItemChanged
		if conf.confirms(hd) {
			it.State = ItemConfirmed
		}
	}
	return it
}

// overdueAccounts are the accounts past their end date: those not
// disabled, and contractors whose work was never marked completed
// (disabled or not, as the home page's notice lists them), by name, with
// what each is still assigned.
func overdueAccounts(people []access.Person, held map[string][]string, now time.Time) []OverdueAccount {
	out := []OverdueAccount{}
	for _, u := range people {
		contractor := u.Agreement != nil && u.Agreement.Completed.IsZero()
		if !u.Expired(now) || u.Disabled && !contractor {
			continue
		}
		holds := append([]string{}, held[u.ID]...)
		sort.Strings(holds)
		o := OverdueAccount{Name: u.Name, Role: u.Role, Expires: u.Expires, Holds: holds, Disabled: u.Disabled}
		if contractor {
			o.Agreement = u.Agreement.Ref
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
