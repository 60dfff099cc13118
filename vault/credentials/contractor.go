package credentials

import (
	"context"
	"fmt"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
)

// A contractor's agreement (access.Agreement) covers some credentials:
// the contractor may ask for those alone, and may be granted or assigned
// those alone. Requests outside the scope are refused and recorded;
// "work completed" ends the account, its grants and its sessions at once.

// Scope resolves the names of a contractor's scope to the credentials they
// name, in tx, once each (identity.ScopeFunc). A name with no live shared
// or admin credential is an input error on "scope" naming it; a personal
// credential is answered as no credential, as everywhere.
func Scope(tx barrier.Tx, names []string) ([]access.ScopeItem, error) {
	var out []access.ScopeItem
	seen := map[string]bool{}
	for _, n := range names {
		h, err := findCred(tx, n)
		if err != nil {
			return nil, err
		}
		if h == nil || h.Kind == access.KindPersonal {
			return nil, access.Invalid("scope", "no shared or admin credential named %q", n)
		}
		if !seen[h.ID] {
			seen[h.ID] = true
			out = append(out, access.ScopeItem{ID: h.ID, Name: h.Name})
		}
	}
	return out, nil
}

// outOfScope is the refusal of action on h for the contractor u, whose
// agreement does not cover it, or nil when u is no contractor or the
// agreement covers h (h nil: no such credential, which is outside every
// scope too, so a contractor learns nothing of names outside theirs).
func outOfScope(u access.Person, h *credHead, name, field string, action audit.Action) *access.ScopeError {
	a := u.Agreement
	if a == nil || (h != nil && a.Covers(h.ID)) {
		return nil
	}
	if h != nil {
		name = h.Name
	}
	return &access.ScopeError{Field: field, Action: action, Contractor: u.Name, Agreement: a.Ref, Credential: name}
}

// refuseOutOfScope records se as a denied action by p (on h if it exists)
// and answers it.
func (c *Credentials) refuseOutOfScope(tx barrier.Tx, req auditlog.Request, p *access.Principal, h *credHead, se *access.ScopeError) error {
	target := audit.Target{Kind: "credential", Name: se.Credential}
	if h != nil {
		target.ID = h.ID
	} else {
		// A name with no credential is recorded as typed, so it must be one:
		// bounded and printable (NormaliseName), or it is an input error.
		n, err := access.NormaliseName("cred", "credential", se.Credential)
		if err != nil {
			return err
		}
		se.Credential, target.Name = n, n
	}
	if err := c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: se.Action, Target: target,
		Outcome: audit.OutcomeDenied, Reason: fmt.Sprintf("outside the scope of %s's agreement %s", se.Contractor, se.Agreement)}); err != nil {
		return err
	}
	return access.Recorded(se)
}

// Complete marks a contractor's work completed ("work completed", user
// complete): the account ends at once (disabled, sessions ended), its
// grants are revoked, and the report lists every credential the contractor
// could read since the agreement was recorded, each flagged "rotate";
// recorded as user.complete. Only a provider may. A person who is not a
// contractor is an input error pointing at Offboard.
func (c *Credentials) Complete(ctx context.Context, req auditlog.Request, p *access.Principal, name string) (*OffboardReport, error) {
	target := audit.Target{Kind: "user", Name: name}
	if p.Role != access.RoleProvider {
		return nil, c.log.Deny(ctx, req, p, audit.UserComplete, target, "only a provider marks a contractor's work completed")
	}
	var rep *OffboardReport
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			u, err := c.people.Complete(tx, name)
			if err != nil {
				return err
			}
			days := 1 + int(c.now().Sub(u.Agreement.Since)/(24*time.Hour))
			rep, err = c.endAccess(tx, req, p, u, days, audit.UserComplete, "work under agreement "+u.Agreement.Ref+" completed: account ended")
			return err
		})
	})
	return rep, err
}
