package vault

import (
	"context"
	"time"

	"strongroom/transfer"
	"strongroom/vault/credentials"
)

// The credentials and who may use them (package credentials), as the
// vault's callers name them.
type (
	// Compromise is credentials.Compromise.
	Compromise = credentials.Compromise
	// CredentialInput is credentials.CredentialInput.
	CredentialInput = credentials.CredentialInput
	// CredentialInfo is credentials.CredentialInfo.
	CredentialInfo = credentials.CredentialInfo
	// AccessRequest is credentials.AccessRequest.
	AccessRequest = credentials.AccessRequest
	// Grant is credentials.Grant.
	Grant = credentials.Grant
	// ImportOptions is credentials.ImportOptions.
	ImportOptions = credentials.ImportOptions
	// ImportReport is credentials.ImportReport.
	ImportReport = credentials.ImportReport
	// ImportedItem is credentials.ImportedItem.
	ImportedItem = credentials.ImportedItem
	// ExportReport is credentials.ExportReport.
	ExportReport = credentials.ExportReport
	// VersionInfo is credentials.VersionInfo.
	VersionInfo = credentials.VersionInfo
	// ListOptions is credentials.ListOptions.
	ListOptions = credentials.ListOptions
	// RotateItem is credentials.RotateItem.
	RotateItem = credentials.RotateItem
	// OffboardReport is credentials.OffboardReport.
	OffboardReport = credentials.OffboardReport
	// Holder is credentials.Holder.
	Holder = credentials.Holder
	// RegisterEntry is credentials.RegisterEntry.
	RegisterEntry = credentials.RegisterEntry
	// Secret is credentials.Secret.
	Secret = credentials.Secret
	// TOTPCode is credentials.TOTPCode.
	TOTPCode = credentials.TOTPCode
	// HealthReport is credentials.HealthReport.
	HealthReport = credentials.HealthReport
	// HealthFinding is credentials.HealthFinding.
	HealthFinding = credentials.HealthFinding
	// ReusedPassword is credentials.ReusedPassword.
	ReusedPassword = credentials.ReusedPassword
	// AccountFinding is credentials.AccountFinding.
	AccountFinding = credentials.AccountFinding
	// HandoverInput is credentials.HandoverInput.
	HandoverInput = credentials.HandoverInput
	// HandoverInfo is credentials.HandoverInfo.
	HandoverInfo = credentials.HandoverInfo
	// HandoverNotice is credentials.HandoverNotice.
	HandoverNotice = credentials.HandoverNotice
)

// Limits and states of credentials and grants.
const (
	MaxGrant        = credentials.MaxGrant
	UndeleteWindow  = credentials.UndeleteWindow
	RequestPending  = credentials.RequestPending
	RequestApproved = credentials.RequestApproved
	RequestDenied   = credentials.RequestDenied
	// DefaultHealthAge, MinHealthAge and MaxHealthAge: the password health
	// report's stale age, by default and at the extremes.
	DefaultHealthAge = credentials.DefaultHealthAge
	MinHealthAge     = credentials.MinHealthAge
	MaxHealthAge     = credentials.MaxHealthAge
)

// PutCredential creates a credential, or writes a new version of an
// existing one (the old versions are kept). It wipes in.Password and
// in.Notes when done.
func (v *Vault) PutCredential(ctx context.Context, req Request, p *Principal, in CredentialInput) (info CredentialInfo, created bool, err error) {
	return v.creds.PutCredential(ctx, req, p, in)
}

// DeleteCredential retires a credential (soft delete: versions are kept).
func (v *Vault) DeleteCredential(ctx context.Context, req Request, p *Principal, name string) error {
	return v.creds.DeleteCredential(ctx, req, p, name)
}

// CreateRequest asks for access to a credential for a reason and a time.
func (v *Vault) CreateRequest(ctx context.Context, req Request, p *Principal, cred, reason string, dur time.Duration) (*AccessRequest, error) {
	return v.creds.CreateRequest(ctx, req, p, cred, reason, dur)
}

// DecideRequest approves (making a grant) or denies a pending request. The
// requester can never decide their own request.
func (v *Vault) DecideRequest(ctx context.Context, req Request, p *Principal, id string, approve bool, why string) (*AccessRequest, *Grant, error) {
	return v.creds.DecideRequest(ctx, req, p, id, approve, why)
}

// ListRequests shows approvers every request (pending first), and anyone
// else their own.
func (v *Vault) ListRequests(ctx context.Context, p *Principal) ([]AccessRequest, error) {
	return v.creds.ListRequests(ctx, p)
}

// RevokeGrant ends a grant early (clerk, chairman or provider).
func (v *Vault) RevokeGrant(ctx context.Context, req Request, p *Principal, id string) error {
	return v.creds.RevokeGrant(ctx, req, p, id)
}

// Import reads a file with decode (called only once the caller is known
// to be allowed to import) and stores its items as new credentials, all
// in one transaction: every item lands, with a cred.create entry each and
// one cred.import entry, or nothing does. A file that cannot be read is
// refused whole and recorded as a failed cred.import. Items that cannot
// be stored (no usable name, a field too long) are skipped and reported
// with what the decoder skipped; a name already taken gets the item's
// folder, or a number, appended. Decoded secrets are wiped.
func (v *Vault) Import(ctx context.Context, req Request, p *Principal, opt ImportOptions, decode func() (*transfer.Result, error)) (*ImportReport, error) {
	return v.creds.Import(ctx, req, p, opt, decode)
}

// ExportKDBX writes every live admin and shared credential, and the
// caller's own personal ones, to a KDBX 4 file under passphrase (which
// must be as strong as an account password). Provider only, after
// re-authentication (password and a TOTP code not used before, which
// counts towards lockout like a login). Each credential's read is a
// cred.export entry and the whole is an export.kdbx entry, written in
// the same transaction as the reads: if they cannot be recorded nothing
// is returned. Entries are in groups named by kind, tags kept.
//
// The file's Argon2id cost is the vault's own passphrase KDF setting
// (server --kdf-memory, --kdf-time).
func (v *Vault) ExportKDBX(ctx context.Context, req Request, p *Principal, ra Reauth, passphrase []byte) ([]byte, *ExportReport, error) {
	return v.creds.ExportKDBX(ctx, req, p, ra, passphrase)
}

// MarkCompromised flags a credential until it is rotated and raises an
// incident. Anyone who may read or manage it may report it.
func (v *Vault) MarkCompromised(ctx context.Context, req Request, p *Principal, name, reason string) error {
	return v.creds.MarkCompromised(ctx, req, p, name, reason)
}

// RotateCredential sets a new password (given, or generated when gen is
// non-nil; the generated one is returned for the caller to set at the
// service and wipe). It clears a compromise flag; old versions are kept.
func (v *Vault) RotateCredential(ctx context.Context, req Request, p *Principal, name string, password []byte, gen *GenOptions) (CredentialInfo, *Generated, error) {
	return v.creds.RotateCredential(ctx, req, p, name, password, gen)
}

// RestoreVersion makes an old version current again, as a new version.
func (v *Vault) RestoreVersion(ctx context.Context, req Request, p *Principal, name string, version int) (CredentialInfo, error) {
	return v.creds.RestoreVersion(ctx, req, p, name, version)
}

// CredentialHistory lists every version (newest first) for those who may
// read or manage the credential. It is recorded.
func (v *Vault) CredentialHistory(ctx context.Context, req Request, p *Principal, name string) ([]VersionInfo, error) {
	return v.creds.CredentialHistory(ctx, req, p, name)
}

// UndeleteCredential brings back the most recently retired credential of
// that name, with all its versions, within UndeleteWindow.
func (v *Vault) UndeleteCredential(ctx context.Context, req Request, p *Principal, name string) (CredentialInfo, error) {
	return v.creds.UndeleteCredential(ctx, req, p, name)
}

// ListCredentials lists what the caller may see, without secrets, in name
// order; more says a further page exists (ask again with After set to the
// last name).
//
// It walks the sorted name index, not the store, and reads each head
// through the view cache, so a page costs the same at 1,000 and at
// 100,000 credentials when the caller may see most of them; a caller who
// may see few (a member) costs a pass over the index.
func (v *Vault) ListCredentials(ctx context.Context, p *Principal, opt ListOptions) (out []CredentialInfo, more bool, err error) {
	return v.creds.ListCredentials(ctx, p, opt)
}

// Offboard disables an account, ends its sessions and grants, and lists
// every credential the person could read in the last days days (assigned,
// granted, or read according to the log), each flagged "rotate".
func (v *Vault) Offboard(ctx context.Context, req Request, p *Principal, name string, days int) (*OffboardReport, error) {
	return v.creds.Offboard(ctx, req, p, name, days)
}

// ReadCredential returns a credential's secret to an assignee. The read is
// recorded and committed before the secret is returned; a refusal is
// recorded as denied (an incident) and returns a *access.ForbiddenError. version 0
// means the current one.
func (v *Vault) ReadCredential(ctx context.Context, req Request, p *Principal, name string, version int) (*Secret, error) {
	return v.creds.ReadCredential(ctx, req, p, name, version)
}

// AccessReview returns the register, flagging accounts whose access was
// not reviewed in the last days days (never reviewed: counted from creation).
func (v *Vault) AccessReview(ctx context.Context, req Request, p *Principal, days int) ([]RegisterEntry, error) {
	return v.creds.AccessReview(ctx, req, p, days)
}

// PasswordHealth is the password health report over the live admin and
// shared credentials and the vault's accounts (credentials.PasswordHealth):
// reused, weak, stale and compromised passwords, missing TOTP where the
// site offers it, accounts without a second factor; a provider or the
// auditor only, recorded, and showing no secret. olderThan 0 is
// DefaultHealthAge.
func (v *Vault) PasswordHealth(ctx context.Context, req Request, p *Principal, olderThan time.Duration) (*HealthReport, error) {
	return v.creds.PasswordHealth(ctx, req, p, olderThan)
}

// ReviewCredential records that someone confirmed who holds access.
func (v *Vault) ReviewCredential(ctx context.Context, req Request, p *Principal, name string) error {
	return v.creds.ReviewCredential(ctx, req, p, name)
}

// CredentialTOTP returns the current code of a credential's TOTP seed. It is
// a read like any other: assignees only, recorded (reason "TOTP code")
// and committed before the code is computed.
func (v *Vault) CredentialTOTP(ctx context.Context, req Request, p *Principal, name string) (TOTPCode, error) {
	return v.creds.CredentialTOTP(ctx, req, p, name)
}

// HandOver stores a login any signed-in person hands over to the council:
// a new shared credential owned by the council, assigned to every active
// clerk and to the depositor, recorded as cred.handover. A name in use is
// refused (field "name"), never overwritten. It wipes in.Password.
func (v *Vault) HandOver(ctx context.Context, req Request, p *Principal, in HandoverInput) (CredentialInfo, error) {
	return v.creds.HandOver(ctx, req, p, in)
}

// ConfirmHandover records that a clerk received a handed-over login
// (cred.handover_confirm); anyone else is refused and recorded.
func (v *Vault) ConfirmHandover(ctx context.Context, req Request, p *Principal, name string) (CredentialInfo, error) {
	return v.creds.ConfirmHandover(ctx, req, p, name)
}

// PendingHandovers lists, for a clerk, the handed-over logins not yet
// confirmed (nil for anyone else); it records nothing.
func (v *Vault) PendingHandovers(ctx context.Context, p *Principal) ([]HandoverNotice, error) {
	return v.creds.PendingHandovers(ctx, p)
}
