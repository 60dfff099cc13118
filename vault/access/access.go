package access

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Role is what an account may do.
type Role string

// The roles.
const (
	RoleProvider Role = "provider"
	RoleClerk    Role = "clerk"
	RoleChairman Role = "chairman"
	RoleAuditor  Role = "auditor"
	RoleMember   Role = "member"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleProvider, RoleClerk, RoleChairman, RoleAuditor, RoleMember:
		return r, nil
	}
	return "", Invalid("role", "role must be provider, clerk, chairman, auditor or member")
}

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
	return "", Invalid("kind", "kind must be admin, shared or personal")
}

// Principal is an authenticated caller: an account and the session it
// signed in with.
type Principal struct {
	UserID     string
	Name       string
	Role       Role
	MustChange bool
	// ReauthAt is when the session last re-authenticated (zero if never).
	ReauthAt time.Time
	// SignedInAt is when the session was opened by a full sign-in (zero
	// if unknown).
	SignedInAt time.Time
	session    string
}

// NewPrincipal is the caller of session (the key under which it is
// stored); the identity code that resolves a session makes it.
func NewPrincipal(userID, name string, role Role, session string) *Principal {
	return &Principal{UserID: userID, Name: name, Role: role, session: session}
}

// Session is the stored key of the caller's session ("" for a principal
// made without one).
func (p *Principal) Session() string { return p.session }

// A Credential is what the rules need to know of a stored credential.
type Credential struct {
	Kind     Kind
	Owner    string // the user id that created a personal credential
	Assigned bool   // the caller is one of its assignees
}

// MayManage: create, update or delete a credential of kind (c is nil when
// creating).
func MayManage(p *Principal, kind Kind, c *Credential) bool {
	switch kind {
	case KindAdmin:
		return p.Role == RoleProvider
	case KindShared:
		return p.Role == RoleProvider || p.Role == RoleClerk
	case KindPersonal:
		return p.Role != RoleAuditor && (c == nil || c.Owner == p.UserID)
	}
	return false
}

// MayRead: see the secret. Only an assignee, whatever the role; the
// auditor never ("never reads a secret"), and cannot be assigned.
func MayRead(p *Principal, c Credential) bool {
	return p.Role != RoleAuditor && c.Assigned
}

// MaySee: see that a credential exists and its non-secret fields. Personal
// credentials are their owner's alone.
func MaySee(p *Principal, c Credential) bool {
	if c.Kind == KindPersonal {
		return c.Owner == p.UserID
	}
	switch p.Role {
	case RoleProvider, RoleAuditor:
		return true
	case RoleClerk:
		return c.Kind == KindShared || c.Assigned
	}
	return c.Assigned
}

// MayBeAssigned: who can hold a credential.
func MayBeAssigned(role Role, disabled bool) bool { return !disabled && role != RoleAuditor }

// MayReadLog: read, export and verify the audit log.
func MayReadLog(p *Principal) bool { return p.Role == RoleAuditor || p.Role == RoleProvider }

// MayReadHealth: read the password health report (what is weak, reused,
// old or unprotected, never a secret): the provider, who acts on it, and
// the auditor, who checks that they do.
func MayReadHealth(p *Principal) bool { return p.Role == RoleProvider || p.Role == RoleAuditor }

// MayApprove: decide another person's access request (the rule for kind
// is MayApproveKind).
func MayApprove(p *Principal) bool { return p.Role == RoleClerk || p.Role == RoleChairman }

// AdminApprover is who, besides the chairman, may approve a request for an
// admin credential: nobody (ApproverChairman, the default) or a provider
// other than the requester (ApproverProvider, server --admin-approver).
type AdminApprover string

const (
	ApproverChairman AdminApprover = "chairman"
	ApproverProvider AdminApprover = "provider"
)

// ParseAdminApprover checks the council's setting ("" is the default).
func ParseAdminApprover(s string) (AdminApprover, error) {
	switch AdminApprover(s) {
	case "", ApproverChairman:
		return ApproverChairman, nil
	case ApproverProvider:
		return ApproverProvider, nil
	}
	return "", Invalid("admin_approver", "the admin approver must be chairman or provider")
}

// MayApproveKind: decide a request for a credential of kind. A shared
// login's request is the clerk's or the chairman's; an admin one's (the
// policy's "appropriate approvals" for system credentials) the
// chairman's, or a provider's where the council chose so. Nobody decides
// their own request (checked by the caller).
func MayApproveKind(p *Principal, kind Kind, admin AdminApprover) bool {
	if kind == KindAdmin {
		return p.Role == RoleChairman || (admin == ApproverProvider && p.Role == RoleProvider)
	}
	return MayApprove(p)
}

// NewID is a random record id (96 bits, hex): ids are not guessable, and
// names are for people.
func NewID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// FirstErr is the first of errs that is not nil.
func FirstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ReauthWindow is how long a re-authentication lets a session read admin
// secrets and their TOTP codes without asking again.
const ReauthWindow = 5 * time.Minute

// Reauthed says p re-authenticated within ReauthWindow before now: what
// reading an admin secret or its code needs, in every client.
func Reauthed(p *Principal, now time.Time) bool {
	return !p.ReauthAt.IsZero() && !now.Before(p.ReauthAt) && now.Sub(p.ReauthAt) <= ReauthWindow
}

// Fresh says whether p proved who they are within ReauthWindow: by a
// re-authentication, or by the full sign-in that opened the session
// (what adding a new way to sign in asks for).
func Fresh(p *Principal, now time.Time) bool {
	signedIn := !p.SignedInAt.IsZero() && !now.Before(p.SignedInAt) && now.Sub(p.SignedInAt) <= ReauthWindow
	return signedIn || Reauthed(p, now)
}
