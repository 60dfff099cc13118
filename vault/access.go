package vault

// The access rules, in one place. The table test in
// access_test.go walks every role through every operation.

// Kind is the class of a stored credential.
type Kind string

// Credential kinds.
const (
	KindAdmin    Kind = "admin"    // IT/admin accounts: managed by the provider
	KindShared   Kind = "shared"   // council social-media and shared logins: provider or clerk
	KindPersonal Kind = "personal" // one person's own login: only its owner
)

// ParseKind checks a kind name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindAdmin, KindShared, KindPersonal:
		return k, nil
	}
	return "", invalidField("kind", "kind must be admin, shared or personal")
}

// mayManage: create, update or delete a credential of kind (h is nil when
// creating).
func mayManage(p *Principal, kind Kind, h *credHead) bool {
	switch kind {
	case KindAdmin:
		return p.Role == RoleProvider
	case KindShared:
		return p.Role == RoleProvider || p.Role == RoleClerk
	case KindPersonal:
		return p.Role != RoleAuditor && (h == nil || h.Owner == p.UserID)
	}
	return false
}

// mayRead: see the secret. Only an assignee, whatever the role; the
// auditor never ("never reads a secret"), and cannot be assigned.
func mayRead(p *Principal, h *credHead) bool {
	return p.Role != RoleAuditor && h.assigned(p.UserID)
}

// maySee: see that a credential exists and its non-secret fields. Personal
// credentials are their owner's alone.
func maySee(p *Principal, h *credHead) bool {
	if h.Kind == KindPersonal {
		return h.Owner == p.UserID
	}
	switch p.Role {
	case RoleProvider, RoleAuditor:
		return true
	case RoleClerk:
		return h.Kind == KindShared || h.assigned(p.UserID)
	}
	return h.assigned(p.UserID)
}

// mayBeAssigned: who can hold a credential.
func mayBeAssigned(u *userRecord) bool { return !u.Disabled && u.Role != RoleAuditor }
