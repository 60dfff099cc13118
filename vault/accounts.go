package vault

import (
	"context"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/identity"
	"strongroom/vault/storage"
)

// The vault's people (package identity), as its callers name them.
type (
	// LoginRequest carries the credentials of a login.
	LoginRequest = identity.LoginRequest
	// User is what callers see of an account.
	User = identity.User
	// Reauth is the caller's password and a fresh TOTP code, asked again.
	Reauth = identity.Reauth
)

// ReauthWindow is how long a re-authentication lets the web interface
// reveal admin secrets without asking again.
const ReauthWindow = identity.ReauthWindow

// Login checks password and second factor and opens a session.
func (v *Vault) Login(ctx context.Context, req Request, in LoginRequest) (string, *Principal, error) {
	return v.accounts.Login(ctx, req, in)
}

// Authenticate resolves a session token to its principal.
func (v *Vault) Authenticate(ctx context.Context, token string) (*Principal, error) {
	return v.accounts.Authenticate(ctx, token)
}

// AuthenticateFrom is Authenticate for a request: a refused token is recorded.
func (v *Vault) AuthenticateFrom(ctx context.Context, req Request, token string) (*Principal, error) {
	return v.accounts.AuthenticateFrom(ctx, req, token)
}

// Logout ends the caller's session.
func (v *Vault) Logout(ctx context.Context, req Request, p *Principal) error {
	return v.accounts.Logout(ctx, req, p)
}

// ChangePassword replaces the caller's password after checking the old one.
func (v *Vault) ChangePassword(ctx context.Context, req Request, p *Principal, old, pw []byte) error {
	return v.accounts.ChangePassword(ctx, req, p, old, pw)
}

// CreateUser adds an account with a one-time password and TOTP enrolment.
func (v *Vault) CreateUser(ctx context.Context, req Request, p *Principal, name string, role Role, expires time.Time) (OneTimeLogin, error) {
	return v.accounts.CreateUser(ctx, req, p, name, role, expires, "", nil)
}

// NewPerson is an account to add with CreatePerson.
type NewPerson struct {
	Name    string
	Role    Role
	Expires time.Time // zero: no end date
	Email   string    // "": none
	// Contract, if set, makes the account a contractor's, under an
	// agreement covering the credentials it names (contractor.go).
	Contract *Contract
}

// CreatePerson is CreateUser with the person's e-mail address.
func (v *Vault) CreatePerson(ctx context.Context, req Request, p *Principal, np NewPerson) (OneTimeLogin, error) {
	return v.accounts.CreateUser(ctx, req, p, np.Name, np.Role, np.Expires, np.Email, np.Contract)
}

// SetEmail sets or (with "") removes an account's e-mail address.
func (v *Vault) SetEmail(ctx context.Context, req Request, p *Principal, name, email string) error {
	return v.accounts.SetEmail(ctx, req, p, name, email)
}

// ParseEmail checks an e-mail address for field (identity.ParseEmail).
func ParseEmail(field, s string) (string, error) { return identity.ParseEmail(field, s) }

// Contact is where to reach one person (identity.Contact).
type Contact = identity.Contact

// Contacts lists every account's contact details for the notifiers; it
// needs the vault unsealed and records nothing.
func (v *Vault) Contacts(ctx context.Context) ([]Contact, error) { return v.accounts.Contacts(ctx) }

// ListUsers lists the accounts (provider only).
func (v *Vault) ListUsers(ctx context.Context, req Request, p *Principal) ([]User, error) {
	return v.accounts.ListUsers(ctx, req, p)
}

// DisableUser disables an account and ends its sessions, then ends its
// assignments to the logins it handed over (a disabled depositor does not
// remain; a failure there leaves the account disabled, and only a
// disabled account's assignments are ended, so it can be done again).
func (v *Vault) DisableUser(ctx context.Context, req Request, p *Principal, name string) error {
	if err := v.accounts.DisableUser(ctx, req, p, name); err != nil {
		return err
	}
	return v.creds.EndDepositor(ctx, req, p, name)
}

// NewRecoveryCodes replaces the caller's one-time recovery codes.
func (v *Vault) NewRecoveryCodes(ctx context.Context, req Request, p *Principal) ([]string, error) {
	return v.accounts.NewRecoveryCodes(ctx, req, p)
}

// ResetMFA gives an account a new TOTP seed and ends its sessions.
func (v *Vault) ResetMFA(ctx context.Context, req Request, p *Principal, name string) (string, error) {
	return v.accounts.ResetMFA(ctx, req, p, name)
}

// SetMFAExempt exempts a member from TOTP, or ends the exemption.
func (v *Vault) SetMFAExempt(ctx context.Context, req Request, p *Principal, name string, exempt bool) error {
	return v.accounts.SetMFAExempt(ctx, req, p, name, exempt)
}

// Reauthenticate checks the caller's password and a fresh TOTP code again
// and marks the session.
func (v *Vault) Reauthenticate(ctx context.Context, req Request, p *Principal, ra Reauth) error {
	return v.accounts.Reauthenticate(ctx, req, p, ra)
}

// people is the accounts as the credentials see them (credentials.People).
type people struct {
	a   *identity.Accounts
	now func() time.Time
}

func (pp people) All(tx barrier.Tx) ([]access.Person, error) {
	recs, err := identity.All(tx)
	out := make([]access.Person, 0, len(recs))
	for _, u := range recs {
		out = append(out, u.Person())
	}
	return out, err
}

func (pp people) Person(tx barrier.Tx, id string) (access.Person, bool, error) {
	return identity.GetSummary(tx, id)
}

func (pp people) Disable(tx barrier.Tx, name string) (access.Person, error) {
	u, err := identity.ToDisable(tx, name)
	if err != nil {
		return access.Person{}, err
	}
	u.Disabled = true
	if err := tx.PutRecord(storage.BucketUsers, u.ID, u); err != nil {
		return access.Person{}, err
	}
	return u.Person(), identity.EndSessions(tx, u.ID, "")
}

func (pp people) Complete(tx barrier.Tx, name string) (access.Person, error) {
	return identity.Complete(tx, name, pp.now())
}

func (pp people) ReauthInputs(ctx context.Context, h *barrier.Held, p *Principal, ra Reauth, now time.Time) (access.ReauthCheck, error) {
	return pp.a.ReauthInputs(ctx, h, p, ra, now)
}

func (pp people) CheckReauth(tx barrier.Tx, req Request, p *Principal, rc access.ReauthCheck, now time.Time,
	action audit.Action, target audit.Target) (denied, err error) {
	return pp.a.CheckReauth(tx, req, p, rc, now, action, target)
}

// Passkeys (package identity, passkey_rp.go), as the vault's callers name
// them.
type (
	// RelyingParty is the vault as WebAuthn knows it.
	RelyingParty = identity.RelyingParty
	// Ceremony is a begun WebAuthn ceremony.
	Ceremony = identity.Ceremony
	// PasskeyAnswer is a browser's answer to a ceremony.
	PasskeyAnswer = identity.PasskeyAnswer
	// PasskeyInfo is what a person sees of one of their passkeys.
	PasskeyInfo = identity.PasskeyInfo
	// PasskeyError is a refused passkey ceremony; Problem says why.
	PasskeyError = access.PasskeyError
)

// NewRelyingParty is the relying party of a vault reached at publicURL.
func NewRelyingParty(publicURL string) (*RelyingParty, error) {
	return identity.NewRelyingParty(publicURL)
}

// PasskeysOn says the server can register and check passkeys.
func (v *Vault) PasskeysOn() bool { return v.accounts.PasskeysOn() }

// BeginPasskeyRegistration begins registering a passkey for the caller.
func (v *Vault) BeginPasskeyRegistration(ctx context.Context, p *Principal, name string) (*Ceremony, error) {
	return v.accounts.BeginPasskeyRegistration(ctx, p, name)
}

// FinishPasskeyRegistration stores the caller's new passkey, named name.
func (v *Vault) FinishPasskeyRegistration(ctx context.Context, req Request, p *Principal, name string, ans PasskeyAnswer) error {
	return v.accounts.FinishPasskeyRegistration(ctx, req, p, name, ans)
}

// ListPasskeys lists the caller's passkeys.
func (v *Vault) ListPasskeys(ctx context.Context, p *Principal) ([]PasskeyInfo, error) {
	return v.accounts.ListPasskeys(ctx, p)
}

// RemovePasskey removes one of the caller's passkeys, after a
// re-authentication.
func (v *Vault) RemovePasskey(ctx context.Context, req Request, p *Principal, id string) error {
	return v.accounts.RemovePasskey(ctx, req, p, id)
}

// BeginPasskeyLogin begins a sign-in with password and passkey.
func (v *Vault) BeginPasskeyLogin() (*Ceremony, error) { return v.accounts.BeginPasskeyLogin() }

// BeginPasskeyReauth begins a re-authentication with a passkey.
func (v *Vault) BeginPasskeyReauth(ctx context.Context, p *Principal) (*Ceremony, error) {
	return v.accounts.BeginPasskeyReauth(ctx, p)
}

// ReauthenticateWithPasskey re-authenticates the caller with a passkey.
func (v *Vault) ReauthenticateWithPasskey(ctx context.Context, req Request, p *Principal, ans PasskeyAnswer) error {
	return v.accounts.ReauthenticateWithPasskey(ctx, req, p, ans)
}

// Why a passkey ceremony was refused (PasskeyError.Problem).
const (
	PasskeysOff           = access.PasskeysOff
	PasskeyExpired        = access.PasskeyExpired
	PasskeyOrigin         = access.PasskeyOrigin
	PasskeyUnreadable     = access.PasskeyUnreadable
	PasskeyNotAccepted    = access.PasskeyNotAccepted
	PasskeyNone           = access.PasskeyNone
	PasskeyRequired       = access.PasskeyRequired
	PasskeyReauthRequired = access.PasskeyReauthRequired
)

// PasswordlessOn says a person may sign in with a passkey alone.
func (v *Vault) PasswordlessOn() bool { return v.accounts.PasswordlessOn() }

// BeginPasswordlessLogin begins a sign-in with a passkey alone.
func (v *Vault) BeginPasswordlessLogin() (*Ceremony, error) {
	return v.accounts.BeginPasswordlessLogin()
}

// PasswordlessLogin signs in with a passkey alone and opens a session.
func (v *Vault) PasswordlessLogin(ctx context.Context, req Request, ans PasskeyAnswer) (string, *Principal, error) {
	return v.accounts.PasswordlessLogin(ctx, req, ans)
}
