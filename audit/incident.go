package audit

import "strings"

// IsIncident reports whether an entry is a security incident under the
// council policies: any refused access ("attempts to access unauthorised
// passwords will be treated as a security incident"), any failed unseal or
// login, any emergency recovery or break-glass access, any credential reported compromised, and any failure to write or verify the log.
func IsIncident(e *Entry) bool {
	switch {
	case e.Outcome == OutcomeDenied:
		return true
	case e.Action == AuthPasskeyCloned, e.Action == AuthPasskeyBackup:
		return true
	case e.Action == AuthDeviceRefuse && e.Outcome == OutcomeOK:
		// A command-line sign-in refused by the person named: someone
		// else may know their name and be trying to be let in.
		return true
	case e.Action == EscrowRecover, e.Action == BreakglassOpen, e.Action == BreakglassRead,
		e.Action == CredCompromised && e.Outcome == OutcomeOK:
		return true
	case e.Outcome == OutcomeError && (e.Action == AuditVerify || e.Action == AuditWrite):
		return true
	case strings.HasPrefix(e.Reason, StateCheckFailed):
		return true
	}
	return false
}

// IncidentKind says in a few words what kind of incident an entry is.
type IncidentKind string

// The kinds of incident. A refusal with no kind of its own is
// IncidentDenied followed by a space and its action ("denied user.create").
const (
	IncidentRecovery      IncidentKind = "emergency recovery"
	IncidentBreakGlass    IncidentKind = "break-glass"
	IncidentDeniedRead    IncidentKind = "denied read"
	IncidentCompromise    IncidentKind = "suspected compromise"
	IncidentLockout       IncidentKind = "lockout"
	IncidentFailedLogin   IncidentKind = "failed login"
	IncidentFailedUnseal  IncidentKind = "failed unseal"
	IncidentVerifyFailure IncidentKind = "audit verification failure"
	IncidentWriteFailure  IncidentKind = "audit write failure"
	IncidentTampered      IncidentKind = "database changed outside the vault"
	IncidentPasskeyCloned IncidentKind = "passkey may be copied"
	IncidentPasskeyBackup IncidentKind = "passkey backup flags changed"
	IncidentDeviceRefused IncidentKind = "command-line sign-in refused"
	IncidentDenied        IncidentKind = "denied"
)

// StateCheckFailed begins the reason of an entry recording that the state
// check (SECURITY.md "The state seal") refused the database.
const StateCheckFailed = "state check failed: "

// KindOf names the kind of the incident e records (see IsIncident).
func KindOf(e *Entry) IncidentKind {
	switch {
	case e.Action == AuthDeviceRefuse && e.Outcome == OutcomeOK:
		return IncidentDeviceRefused
	case strings.HasPrefix(e.Reason, StateCheckFailed):
		return IncidentTampered
	case e.Action == AuthPasskeyCloned:
		return IncidentPasskeyCloned
	case e.Action == AuthPasskeyBackup:
		return IncidentPasskeyBackup
	case e.Action == EscrowRecover:
		return IncidentRecovery
	case e.Action == BreakglassOpen || e.Action == BreakglassRead:
		return IncidentBreakGlass
	case e.Action == CredRead:
		return IncidentDeniedRead
	case e.Action == CredCompromised && e.Outcome == OutcomeOK:
		return IncidentCompromise
	case e.Action == AuthLogin && (strings.Contains(e.Reason, "locked") || strings.Contains(e.Reason, "refused until")):
		return IncidentLockout
	case e.Action == AuthLogin:
		return IncidentFailedLogin
	case e.Action == SysUnseal || e.Action == EscrowShare:
		return IncidentFailedUnseal
	case e.Action == AuditVerify:
		return IncidentVerifyFailure
	}
	return IncidentDenied + IncidentKind(" "+e.Action)
}
