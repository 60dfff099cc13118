package identity

import (
	"context"
	"sort"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// A contractor is a member who works under a formal agreement
// (Wrockwardine "Third Party Access and Security"): the agreement's
// reference and the credentials it covers are kept on the account's
// sealed record (Record.Contractor), the account has an end date, and
// when the work is done a provider marks it completed (user complete),
// which ends the account at once.

// Contract is what a provider gives for a contractor's account.
type Contract struct {
	// Agreement is the agreement's reference ("WEB-2026-04").
	Agreement string
	// Scope names the credentials the agreement covers.
	Scope []string
}

// ScopeFunc resolves, in tx, the names of a contractor's scope to the
// credentials they name, once each; a name with no shared or admin
// credential is an input error on "scope".
type ScopeFunc func(tx barrier.Tx, names []string) ([]access.ScopeItem, error)

// checkContract checks a contractor's account before anything is
// prepared: a member's, with an end date, an agreement reference and at
// least one credential in scope.
func checkContract(role access.Role, expires time.Time, c *Contract) (string, []string, error) {
	if c == nil {
		return "", nil, nil
	}
	switch {
	case role != access.RoleMember:
		return "", nil, access.Invalid("role", "a contractor's role is member")
	case expires.IsZero():
		return "", nil, access.Invalid("expires", "a contractor's account needs an end date")
	case len(c.Scope) == 0:
		return "", nil, access.Invalid("scope", "name at least one credential the agreement covers")
	case len(c.Scope) > access.MaxScope:
		return "", nil, access.Invalid("scope", "an agreement covers at most %d credentials", access.MaxScope)
	}
	ref, err := access.CheckAgreementRef("agreement", c.Agreement)
	return ref, c.Scope, err
}

// agreement is a new contractor's agreement, its scope resolved in tx.
func (a *Accounts) agreement(tx barrier.Tx, ref string, names []string) (*access.Agreement, error) {
	if a.scope == nil {
		return nil, access.Invalid("scope", "this vault cannot check a contractor's scope")
	}
	items, err := a.scope(tx, names)
	if err != nil {
		return nil, err
	}
	return &access.Agreement{Ref: ref, Scope: items, Since: a.now()}, nil
}

// Complete marks the work of the contractor named name completed, in tx:
// the account is disabled and its sessions end; the caller ends its grants
// and records it. A person who is not a contractor, or whose work was
// already marked completed, is an input error.
func Complete(tx barrier.Tx, name string, now time.Time) (access.Person, error) {
	u, err := Find(tx, name)
	if err != nil {
		return access.Person{}, err
	}
	if u == nil {
		return access.Person{}, &access.NotFoundError{Kind: "user", Name: name}
	}
	if u.Contractor == nil {
		return access.Person{}, access.Invalid("", "%s is not a contractor; end a staff or member account with 'strongroom user offboard %s'", u.Name, u.Name)
	}
	if !u.Contractor.Completed.IsZero() {
		return access.Person{}, access.Invalid("", "the work of %s under agreement %s was already marked completed", u.Name, u.Contractor.Ref)
	}
	u.Disabled = true
	u.Contractor = u.Contractor.Clone()
	u.Contractor.Completed = now
	if err := tx.PutRecord(storage.BucketUsers, u.ID, u); err != nil {
		return access.Person{}, err
	}
	return u.Person(), EndSessions(tx, u.ID, "")
}

// Contractor is what the access review and the home pages show of a
// contractor's agreement.
type Contractor struct {
	Name      string    `json:"name"`
	Agreement string    `json:"agreement"`
	Scope     []string  `json:"scope"`
	Expires   time.Time `json:"expires"`
	// Disabled: the account was disabled or offboarded, but the work was
	// never marked completed.
	Disabled bool `json:"disabled"`
}

// OverdueContractors lists the contractors whose end date has passed and
// whose work was not marked completed, oldest end date first. It records
// nothing and needs the vault unsealed.
func (a *Accounts) OverdueContractors(ctx context.Context) ([]Contractor, error) {
	var out []Contractor
	now := a.now()
	err := a.keys.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			out = nil
			recs, err := All(tx)
			for _, u := range recs {
				if overdue(u, now) {
					out = append(out, Contractor{Name: u.Name, Agreement: u.Contractor.Ref, Scope: u.Contractor.Names(),
						Expires: u.Expires, Disabled: u.Disabled})
				}
			}
			return err
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Expires.Before(out[j].Expires) })
	return out, err
}

// overdue: a contractor past the end date whose work was not marked
// completed.
func overdue(u *Record, now time.Time) bool {
	return u.Contractor != nil && u.Contractor.Completed.IsZero() && u.Expired(now)
}

// userOf is what callers see of account u.
func (a *Accounts) userOf(u *Record) User {
	now := a.now()
	out := User{ID: u.ID, Name: u.Name, Role: u.Role, Disabled: u.Disabled || u.Expired(now),
		MustChange: u.MustChange, Locked: u.LockedUntil.After(now), Created: u.Created, Expires: u.Expires, Email: u.Email}
	if c := u.Contractor; c != nil {
		out.Contractor, out.Agreement, out.Scope, out.Completed = true, c.Ref, c.Names(), c.Completed
		out.Overdue = overdue(u, now)
	}
	return out
}
