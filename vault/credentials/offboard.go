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

// RotateItem is a credential an offboarded person could read.
type RotateItem struct {
	Credential string      `json:"credential"`
	Kind       access.Kind `json:"kind"`
	Why        string      `json:"why"`
	Action     string      `json:"action"` // always "rotate"
}

// OffboardReport says what offboarding did and what to rotate.
type OffboardReport struct {
	User          string       `json:"user"`
	Days          int          `json:"days"`
	SessionsEnded bool         `json:"sessions_ended"`
	GrantsRevoked int          `json:"grants_revoked"`
	Rotate        []RotateItem `json:"rotate"`
}

// Offboard disables an account, ends its sessions and grants, and lists
// every credential the person could read in the last days days (assigned,
// granted, or read according to the log), each flagged "rotate", and
// every login they handed over (they knew it), whose assignment to them
// it ends.
func (c *Credentials) Offboard(ctx context.Context, req auditlog.Request, p *access.Principal, name string, days int) (*OffboardReport, error) {
	if days <= 0 {
		days = 90
	}
	target := audit.Target{Kind: "user", Name: name}
	if p.Role != access.RoleProvider {
		return nil, c.log.Deny(ctx, req, p, audit.UserOffboard, target, "only a provider offboards")
	}
	var rep *OffboardReport
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			u, err := c.people.Disable(tx, name)
			if err != nil {
				return err
			}
			now := c.now()
			since := now.Add(-time.Duration(days) * 24 * time.Hour)
			rep = &OffboardReport{User: u.Name, Days: days, SessionsEnded: true}
			why := map[string][]string{}
			kinds := map[string]access.Kind{}
			names := map[string]string{}
			add := func(id, name string, kind access.Kind, reason string) {
				names[id], kinds[id] = name, kind
				why[id] = append(why[id], reason)
			}
			if err := eachHead(tx, func(h *credHead) bool {
				kinds[h.ID] = h.Kind
				if !h.Deleted && h.assigned(u.ID) {
					add(h.ID, h.Name, h.Kind, "assigned")
				}
				return true
			}); err != nil {
				return err
			}
			if err := leaverHandovers(tx, u.ID, add); err != nil {
				return err
			}
			var revoke []*Grant
			if err := eachGrant(tx, func(g *Grant) error {
				if g.UserID != u.ID {
					return nil
				}
				if g.active(now) {
					revoke = append(revoke, g)
				}
				if g.Until.After(since) {
					add(g.CredID, g.Credential, kinds[g.CredID], "grant until "+g.Until.Format("2006-01-02 15:04"))
				}
				return nil
			}); err != nil {
				return err
			}
			reads := map[string]int{}
			if err := tx.Scan(storage.BucketAudit, nil, func(_, val []byte) (bool, error) {
				e, err := audit.ParseLine(val)
				if err != nil {
					return false, fmt.Errorf("vault: stored entry unreadable: %w", err)
				}
				if e.Actor.ID == u.ID && e.Outcome == audit.OutcomeOK && e.Time.After(since) &&
					(e.Action == audit.CredRead || e.Action == audit.BreakglassRead) {
					if reads[e.Target.ID] == 0 {
						names[e.Target.ID] = e.Target.Name
					}
					reads[e.Target.ID]++
				}
				return true, nil
			}); err != nil {
				return err
			}
			for id, n := range reads {
				add(id, names[id], kinds[id], fmt.Sprintf("read %d times in the last %d days", n, days))
			}
			for id, reasons := range why {
				rep.Rotate = append(rep.Rotate, RotateItem{Credential: names[id], Kind: kinds[id], Why: strings.Join(reasons, "; "), Action: "rotate"})
			}
			sort.Slice(rep.Rotate, func(i, j int) bool { return rep.Rotate[i].Credential < rep.Rotate[j].Credential })
			for _, g := range revoke {
				g.RevokedBy, g.RevokedAt = p.Name, now
				if err := tx.PutRecord(storage.BucketGrants, grantPrefix+g.ID, g); err != nil {
					return err
				}
			}
			rep.GrantsRevoked = len(revoke)
			var list []string
			for _, r := range rep.Rotate {
				list = append(list, r.Credential)
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.UserOffboard,
				Target: audit.Target{Kind: "user", ID: u.ID, Name: u.Name},
				Reason: fmt.Sprintf("disabled, sessions ended, %d grants revoked; rotate: %s", len(revoke), strings.Join(list, ", "))})
		})
	})
	return rep, err
}
