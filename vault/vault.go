package vault

import (
	"context"
	"log/slog"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/credentials"
	"strongroom/vault/identity"
	"strongroom/vault/recovery"
)

// Config sets up a Vault.
type Config struct {
	Store Store
	// Clock gives the time; tests inject a fake one. Default time.Now.
	Clock func() time.Time
	// KDF is the Argon2id cost for the operator passphrase at init.
	KDF KDFParams
	// PasswordKDF is the Argon2id cost for account passwords.
	PasswordKDF KDFParams
	// SessionIdle and SessionMax bound a session (defaults 30 min and 12 h).
	SessionIdle, SessionMax time.Duration
	// BreakGlassWindow is how long the chairman's emergency access to admin
	// credentials lasts after recovery (default 4 h).
	BreakGlassWindow time.Duration
	// AdminApprover is who besides the chairman may approve a request for
	// an admin credential (access.ApproverProvider: a provider who is not
	// the requester). Default: the chairman alone.
	AdminApprover access.AdminApprover
	// AuditRetention is how long audit entries are kept: nothing younger is
	// ever pruned, whoever asks. 0 keeps every entry; a non-zero value below
	// MinAuditRetention counts as MinAuditRetention.
	AuditRetention time.Duration
	// FirstStateSeal lets the next unseal of a vault made before the state
	// seal take the database as it is and seal it (server
	// --first-state-seal, once after upgrading). Without it such a vault
	// refuses to unseal: the database alone cannot tell a vault never
	// sealed from one whose keyring was put back to before its seal.
	FirstStateSeal bool
	Logger         *slog.Logger
	// RelyingParty, if set, turns passkeys on (server --public-url with a
	// host name).
	RelyingParty *RelyingParty
	// RequirePasskey: roles for whom, once they have a passkey, TOTP is no
	// longer accepted (server --require-passkey).
	RequirePasskey []access.Role
	// Passwordless lets people sign in with a passkey alone, one that
	// verified them (server --passwordless).
	Passwordless bool
	// AutoUnseal, if set (server --auto-unseal tpm), is given a copy of
	// the passphrase-derived key after every passphrase unseal and
	// passphrase change, and AutoUnseal opens the vault with it.
	AutoUnseal AutoUnsealer
}

// AutoUnsealer keeps the passphrase-derived key where only this machine
// can read it back (recovery.AutoUnsealer).
type AutoUnsealer = recovery.AutoUnsealer

// Request describes where a call came from, for the audit log.
type Request = auditlog.Request

// Vault is one Strongroom vault. It is safe for concurrent use.
type Vault struct {
	store  Store
	clock  func() time.Time
	kdf    KDFParams
	pwKDF  KDFParams
	idle   time.Duration
	maxAge time.Duration
	log    *slog.Logger

	breakGlass time.Duration

	barrier *barrier.Barrier // holds the keys while unsealed

	// between, if set (by tests), runs where a read-then-write path has
	// read and is about to write, named by point: the interleaving hook.
	between func(point string)

	audit    *auditlog.Log
	accounts *identity.Accounts
	creds    *credentials.Credentials
	seal     *recovery.Seal
}

// The barrier's formats and settings, as the vault's callers name them.
type (
	// KDFParams are the Argon2id parameters stored beside a wrapped key.
	KDFParams = barrier.KDFParams
)

// Floors below which a KDF is refused, at init and when read back.
const (
	MinKDFMemory = barrier.MinKDFMemory
	MinKDFTime   = barrier.MinKDFTime
)

// DefaultKDF is the operator passphrase's Argon2id cost.
func DefaultKDF() KDFParams { return barrier.DefaultKDF() }

// Errors about stored ciphertext (package barrier).
var (
	ErrTampered      = barrier.ErrTampered
	ErrMisplaced     = barrier.ErrMisplaced
	ErrBlobVersion   = barrier.ErrBlobVersion
	ErrBlobTruncated = barrier.ErrBlobTruncated
	// ErrRolledBack: a record was put back to an earlier copy, deleted,
	// added or edited outside the vault (the state seal, SECURITY.md).
	ErrRolledBack = barrier.ErrRolledBack
	// ErrNoStateSeal: a vault with no state seal, unsealed without
	// Config.FirstStateSeal.
	ErrNoStateSeal = recovery.ErrNoStateSeal
)

// New wraps a store. The vault starts sealed.
func New(cfg Config) *Vault {
	v := &Vault{clock: cfg.Clock, kdf: cfg.KDF, pwKDF: cfg.PasswordKDF,
		idle: cfg.SessionIdle, maxAge: cfg.SessionMax, log: cfg.Logger, breakGlass: cfg.BreakGlassWindow}
	if v.breakGlass == 0 {
		v.breakGlass = 4 * time.Hour
	}
	if v.clock == nil {
		v.clock = time.Now
	}
	if v.kdf.Memory == 0 {
		v.kdf = DefaultKDF()
	}
	if v.pwKDF.Memory == 0 {
		v.pwKDF = KDFParams{Memory: 19 * 1024, Time: 2, Threads: 1}
	}
	if v.idle == 0 {
		v.idle = 30 * time.Minute
	}
	if v.maxAge == 0 {
		v.maxAge = 12 * time.Hour
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	v.barrier = barrier.New(cfg.Store, func(ctx context.Context, fn func(Tx) error) error { return access.Commit(ctx, v.store, fn) })
	v.store = v.barrier.Store() // every write folds into the state seal
	v.audit = auditlog.New(v.store, v.now, v.log)
	v.audit.SetRetention(cfg.AuditRetention)
	v.audit.SetPause(v.pause)
	v.seal = recovery.New(recovery.Config{Store: v.store, Barrier: v.barrier, Log: v.audit, Now: v.now, KDF: v.kdf,
		BreakGlassWindow: v.breakGlass, Pause: v.pause, Logger: v.log, FirstStateSeal: cfg.FirstStateSeal, AutoUnseal: cfg.AutoUnseal, Hooks: recovery.Hooks{
			Sealing:     func(ctx context.Context) error { _, err := v.AutoCheckpoint(ctx); return err },
			Unsealed:    func() { _ = v.creds.Warm(context.Background()) },
			Sealed:      credentials.Drain,
			EndSessions: identity.EndAll,
		}})
	v.accounts = identity.New(identity.Config{Store: v.store, Log: v.audit, Now: v.now, PasswordKDF: v.pwKDF,
		Idle: v.idle, MaxAge: v.maxAge, Keys: v.barrier, Routine: recovery.Routine, Pause: v.pause,
		RelyingParty: cfg.RelyingParty, RequirePasskey: cfg.RequirePasskey, Passwordless: cfg.Passwordless,
		Scope: credentials.Scope})
	v.creds = credentials.New(credentials.Config{Store: v.store, Barrier: v.barrier, Log: v.audit, Now: v.now,
		People: people{v.accounts, v.now}, Recovery: sealState{v.seal}, Logger: v.log, ExportKDF: v.kdf, AdminApprover: cfg.AdminApprover,
		Pause: v.pause})
	return v
}

// Close seals the vault and closes the store.
func (v *Vault) Close() error {
	v.dropKeys()
	return v.store.Close()
}

func (v *Vault) now() time.Time { return v.clock().UTC() }

// pause runs the interleaving hook, if a test set one.
func (v *Vault) pause(point string) {
	if v.between != nil {
		v.between(point)
	}
}
