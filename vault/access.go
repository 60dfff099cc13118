package vault

import "strongroom/vault/access"

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

// AdminApprover is who besides the chairman approves requests for admin
// credentials (access.AdminApprover).
type AdminApprover = access.AdminApprover

// ParseAdminApprover checks the council's setting: "chairman" (or "") or
// "provider".
func ParseAdminApprover(s string) (AdminApprover, error) { return access.ParseAdminApprover(s) }

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) { return access.ParseRole(s) }

// ParseKind checks a kind name.
func ParseKind(s string) (Kind, error) { return access.ParseKind(s) }
