package vault

import (
	"context"
	"time"

	"strongroom/escrow"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/credentials"
	"strongroom/vault/identity"
	"strongroom/vault/recovery"
)

// The seal (package recovery), as the vault's callers name it.
type (
	// InitRequest asks for a new vault.
	InitRequest = recovery.InitRequest
	// OneTimeLogin is a new account's first password and TOTP enrolment.
	OneTimeLogin = identity.OneTimeLogin
	// Status is the public state of the vault.
	Status = recovery.Status
	// RecoveryStatus describes an emergency recovery in progress.
	RecoveryStatus = recovery.RecoveryStatus
	// Progress is how far a share unseal has come.
	Progress = recovery.Progress
	// ShareCheck is what checking an envelope found.
	ShareCheck = recovery.ShareCheck
	// RekeyRequest asks for new envelopes.
	RekeyRequest = recovery.RekeyRequest
	// RekeyResult is the new envelopes.
	RekeyResult = recovery.RekeyResult
	// RecoveryError refuses a routine change while the vault is in recovery.
	RecoveryError = recovery.RecoveryError
)

// InitResult is what init returns exactly once.
type InitResult struct {
	VaultID     string
	VerifierKey string
	Admin       OneTimeLogin
	Envelopes   []*escrow.Envelope
}

// Init creates the root key, keyring, audit key, shares and first provider
// account. The vault stays sealed afterwards. The result holds the shares
// and the admin's one-time password; neither is stored.
func (v *Vault) Init(ctx context.Context, req Request, in InitRequest) (*InitResult, error) {
	var login OneTimeLogin
	res, err := v.seal.Init(ctx, req, in, func(name string) (func(barrier.Tx) error, error) {
		admin, err := v.accounts.Prepare(name, RoleProvider)
		if err != nil {
			return nil, err
		}
		login = admin.Login
		return func(tx barrier.Tx) error { return v.accounts.Insert(tx, req, auditlog.System, admin.Rec) }, nil
	})
	if err != nil {
		return nil, err
	}
	return &InitResult{VaultID: res.VaultID, VerifierKey: res.VerifierKey, Admin: login, Envelopes: res.Envelopes}, nil
}

// Status is the vault's public state.
func (v *Vault) Status(ctx context.Context) (Status, error) { return v.seal.Status(ctx) }

// UnsealPassphrase opens the vault with the operator passphrase.
func (v *Vault) UnsealPassphrase(ctx context.Context, req Request, passphrase []byte) error {
	return v.seal.UnsealPassphrase(ctx, req, passphrase)
}

// AutoUnseal opens the vault with the key the auto-unsealer kept
// (Config.AutoUnseal), recorded as sys.unseal "auto-unseal: this
// machine's TPM"; a refusal is recorded as denied and returns
// ErrAutoUnsealRefused or ErrAutoUnsealStale (or ErrRolledBack: the state
// seal is checked as for any unseal).
func (v *Vault) AutoUnseal(ctx context.Context, req Request) error {
	return v.seal.AutoUnseal(ctx, req)
}

// Errors of AutoUnseal.
var (
	ErrNoAutoUnseal      = recovery.ErrNoAutoUnseal
	ErrAutoUnsealRefused = recovery.ErrAutoUnsealRefused
	ErrAutoUnsealStale   = recovery.ErrAutoUnsealStale
)

// UnsealShare adds one envelope share. When the threshold is reached the
// vault opens and the recovery is recorded as escrow.recover naming the
// holders (an incident). text is a text envelope or just the share.
func (v *Vault) UnsealShare(ctx context.Context, req Request, text string) (Progress, error) {
	return v.seal.UnsealShare(ctx, req, text)
}

// ResetUnseal forgets the shares given so far, recorded.
func (v *Vault) ResetUnseal(ctx context.Context, req Request) error {
	return v.seal.ResetUnseal(ctx, req)
}

// Sealed reports whether the keys are absent.
func (v *Vault) Sealed() bool { return v.seal.Sealed() }

// Seal drops every key from memory. The provider and the chairman may seal.
func (v *Vault) Seal(ctx context.Context, req Request, p *Principal) error {
	return v.seal.Seal(ctx, req, p)
}

// SetPassphrase sets a new operator passphrase.
func (v *Vault) SetPassphrase(ctx context.Context, req Request, p *Principal, pass []byte) error {
	return v.seal.SetPassphrase(ctx, req, p, pass)
}

// OpenBreakGlass lets the chairman read admin credentials for the
// break-glass window, during recovery only, for a stated reason.
func (v *Vault) OpenBreakGlass(ctx context.Context, req Request, p *Principal, reason string) (time.Time, error) {
	return v.seal.OpenBreakGlass(ctx, req, p, reason)
}

// CheckShare checks an envelope against the vault without using it.
func (v *Vault) CheckShare(ctx context.Context, req Request, text string) (ShareCheck, error) {
	return v.seal.CheckShare(ctx, req, text)
}

// Rekey issues new envelopes and a new passphrase wrap; the old envelopes
// stop working.
func (v *Vault) Rekey(ctx context.Context, req Request, p *Principal, in RekeyRequest) (*RekeyResult, error) {
	return v.seal.Rekey(ctx, req, p, in)
}

func (v *Vault) dropKeys() { v.seal.DropKeys() }

// sealState is the seal's state as the credentials see it
// (credentials.Recovery).
type sealState struct{ s *recovery.Seal }

func (s sealState) Routine(tx Tx) error { return recovery.Routine(tx) }

func (s sealState) BreakGlass(tx barrier.Tx, p *Principal) (*credentials.BreakGlass, error) {
	bg, err := s.s.ActiveBreakGlass(tx, p)
	if bg == nil || err != nil {
		return nil, err
	}
	return &credentials.BreakGlass{Expires: bg.Expires, Reason: bg.Reason}, nil
}

// RewrapResult says what a rewrap did.
type RewrapResult = recovery.RewrapResult

// Rewrap seals every record under the active data key term again and
// drops the older terms (after a re-key; the provider).
func (v *Vault) Rewrap(ctx context.Context, req Request, p *Principal) (*RewrapResult, error) {
	return v.seal.Rewrap(ctx, req, p)
}

// CheckState checks, while unsealed, that the database is exactly what the
// vault wrote; if not, it records the incident and seals (ErrRolledBack).
func (v *Vault) CheckState(ctx context.Context) error { return v.seal.CheckRunning(ctx) }
