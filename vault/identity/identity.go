package identity

import (
	"crypto/rand"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/passwords"
	"strongroom/vault/storage"
)

// Config wires the accounts to the vault.
type Config struct {
	Store storage.Store
	Log   *auditlog.Log
	Now   func() time.Time
	// PasswordKDF is the Argon2id cost of account passwords.
	PasswordKDF barrier.KDFParams
	// Idle and MaxAge bound a session.
	Idle, MaxAge time.Duration
	// Keys is the barrier; the accounts read and write their sealed
	// records through the keys it lends (access.ErrSealed if sealed).
	Keys *barrier.Barrier
	// Routine refuses, in tx, what may not happen outside routine use
	// (during an emergency recovery, account changes).
	Routine func(tx storage.Tx) error
	// Pause is the interleaving hook tests set (nil: none).
	Pause  func(point string)
	Logger *slog.Logger
	// RelyingParty, if set, turns passkeys on (passkey_rp.go).
	RelyingParty *RelyingParty
	// RequirePasskey: for a person of these roles with a passkey, TOTP is
	// not accepted (server --require-passkey); recovery codes still are.
	RequirePasskey []access.Role
	// Passwordless lets a person sign in with a passkey alone, one that
	// verified them (PasswordlessLogin).
	Passwordless bool
	// Scope resolves a contractor's scope (contractor.go; package
	// credentials provides it, through the vault).
	Scope ScopeFunc
}

// Accounts are the vault's people: accounts, sessions, MFA and
// re-authentication.
type Accounts struct {
	store        storage.Store
	log          *auditlog.Log
	clock        func() time.Time
	pwKDF        barrier.KDFParams
	idle, maxAge time.Duration
	keys         *barrier.Barrier
	routine      func(tx storage.Tx) error
	hook         func(point string)
	// throttle slows sign-in guessing (throttle.go); tokens rate-limits
	// the entries of refused session tokens (tokens.go).
	throttle *throttle
	tokens   *throttle
	attempts atomic.Uint64
	// dummy is a password hash of the vault's cost that no password
	// matches, checked for an unknown name so that it costs what a known
	// one does.
	dummyOnce sync.Once
	dummy     string
	// rp is the vault as WebAuthn knows it (nil: passkeys off); cer the
	// ceremonies begun and not yet finished.
	rp             *RelyingParty
	cer            ceremonies
	requirePasskey map[access.Role]bool
	passwordless   bool
	scope          ScopeFunc
}

// New is the accounts of one vault.
func New(c Config) *Accounts {
	a := &Accounts{store: c.Store, log: c.Log, clock: c.Now, pwKDF: c.PasswordKDF, idle: c.Idle, maxAge: c.MaxAge,
		keys: c.Keys, routine: c.Routine, hook: c.Pause,
		throttle: newThrottle(throttleEntries), tokens: newThrottle(throttleEntries),
		rp: c.RelyingParty, scope: c.Scope, requirePasskey: map[access.Role]bool{}, passwordless: c.Passwordless && c.RelyingParty != nil}
	for _, r := range c.RequirePasskey {
		a.requirePasskey[r] = true
	}
	return a
}

// dummyHash is the hash an unknown name's password is checked against.
func (a *Accounts) dummyHash() string {
	a.dummyOnce.Do(func() {
		pw := make([]byte, 32)
		rand.Read(pw)
		a.dummy = passwords.Hash(a.pwKDF, pw)
	})
	return a.dummy
}

// attemptID names one sign-in attempt, for the throttle to count it once.
func (a *Accounts) attemptID() string { return strconv.FormatUint(a.attempts.Add(1), 10) }

func (a *Accounts) now() time.Time { return a.clock().UTC() }

func (a *Accounts) pause(point string) {
	if a.hook != nil {
		a.hook(point)
	}
}
