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
			rep, err = c.endAccess(tx, req, p, u, days, audit.UserOffboard, "disabled")
			return err
		})
	})
	return rep, err
}

// endAccess ends the grants of u, whose account the caller has just
// disabled (its sessions ended), lists what u could read in the last days
// days to rotate, and records it all as action, its reason starting with
// what.
func (c *Credentials) endAccess(tx barrier.Tx, req auditlog.Request, p *access.Principal, u access.Person, days int,
	action audit.Action, what string) (*OffboardReport, error) {
	now := c.now()
	since := now.Add(-time.Duration(days) * 24 * time.Hour)
	rep := &OffboardReport{User: u.Name, Days: days, SessionsEnded: true}
	rl := rotateList{why: map[string][]string{}, kinds: map[string]access.Kind{}, names: map[string]string{}}
	if err := eachHead(tx, func(h *credHead) bool {
		rl.kinds[h.ID] = h.Kind
		if !h.Deleted && h.assigned(u.ID) {
			rl.add(h.ID, h.Name, h.Kind, "assigned")
		}
		return true
	}); err != nil {
		return nil, err
	}
	if err := leaverHandovers(tx, u.ID, rl.add); err != nil {
		return nil, err
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
			rl.add(g.CredID, g.Credential, rl.kinds[g.CredID], "grant until "+g.Until.Format("2006-01-02 15:04"))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := rl.reads(tx, u.ID, since, days); err != nil {
		return nil, err
	}
	rep.Rotate = rl.items()
	for _, g := range revoke {
		g.RevokedBy, g.RevokedAt = p.Name, now
		if err := tx.PutRecord(storage.BucketGrants, grantPrefix+g.ID, g); err != nil {
			return nil, err
		}
	}
	rep.GrantsRevoked = len(revoke)
	var list []string
	for _, r := range rep.Rotate {
		list = append(list, r.Credential)
	}
	return rep, c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action,
		Target: audit.Target{Kind: "user", ID: u.ID, Name: u.Name},
		Reason: fmt.Sprintf("%s, sessions ended, %d grants revoked; rotate: %s", what, len(revoke), strings.Join(list, ", "))})
}

// rotateList gathers, per credential id, why it is to be rotated.
type rotateList struct {
	why   map[string][]string
	kinds map[string]access.Kind
	names map[string]string
}

func (rl *rotateList) add(id, name string, kind access.Kind, reason string) {
	rl.names[id], rl.kinds[id] = name, kind
	rl.why[id] = append(rl.why[id], reason)
}

// reads adds what userID read since since, according to the log.
func (rl *rotateList) reads(tx barrier.Tx, userID string, since time.Time, days int) error {
	reads := map[string]int{}
	names := map[string]string{}
	if err := tx.Scan(storage.BucketAudit, nil, func(_, val []byte) (bool, error) {
		e, err := audit.ParseLine(val)
		if err != nil {
			return false, fmt.Errorf("vault: stored entry unreadable: %w", err)
		}
		if e.Actor.ID == userID && e.Outcome == audit.OutcomeOK && e.Time.After(since) &&
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
		name := rl.names[id]
		if name == "" {
			name = names[id]
		}
		rl.add(id, name, rl.kinds[id], fmt.Sprintf("read %d times in the last %d days", n, days))
	}
	return nil
}

// items is the list, in credential name order.
func (rl *rotateList) items() []RotateItem {
	var out []RotateItem
	for id, reasons := range rl.why {
		out = append(out, RotateItem{Credential: rl.names[id], Kind: rl.kinds[id], Why: strings.Join(reasons, "; "), Action: "rotate"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Credential < out[j].Credential })
	return out
}
