package vault

import (
	"strongroom/vault/access"
	"strongroom/vault/identity"
)

// The shared vocabulary (package access), as the vault's callers name it.
type (
	// Role is access.Role.
	Role = access.Role
	// Kind is access.Kind.
	Kind = access.Kind
	// Principal is an authenticated caller (access.Principal).
	Principal = access.Principal
)

// The roles and kinds.
const (
	RoleProvider = access.RoleProvider
	RoleClerk    = access.RoleClerk
	RoleChairman = access.RoleChairman
	RoleAuditor  = access.RoleAuditor
	RoleMember   = access.RoleMember

	KindAdmin    = access.KindAdmin
	KindShared   = access.KindShared
	KindPersonal = access.KindPersonal
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) { return access.ParseRole(s) }

// ParseKind checks a kind name.
func ParseKind(s string) (Kind, error) { return access.ParseKind(s) }

// facts is what the rules need of h, for the caller p.
func facts(p *Principal, h *credHead) access.Credential {
	return access.Credential{Kind: h.Kind, Owner: h.Owner, Assigned: h.assigned(p.UserID)}
}

// mayManage: create, update or delete a credential of kind (h is nil when
// creating).
func mayManage(p *Principal, kind Kind, h *credHead) bool {
	if h == nil {
		return access.MayManage(p, kind, nil)
	}
	c := facts(p, h)
	return access.MayManage(p, kind, &c)
}

func mayRead(p *Principal, h *credHead) bool { return access.MayRead(p, facts(p, h)) }

func maySee(p *Principal, h *credHead) bool { return access.MaySee(p, facts(p, h)) }

func mayBeAssigned(u *identity.Record) bool { return access.MayBeAssigned(u.Role, u.Disabled) }

func mayApprove(p *Principal) bool { return access.MayApprove(p) }
