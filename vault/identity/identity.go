package identity

import (
	"log/slog"
	"time"

	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
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
}

// New is the accounts of one vault.
func New(c Config) *Accounts {
	return &Accounts{store: c.Store, log: c.Log, clock: c.Now, pwKDF: c.PasswordKDF, idle: c.Idle, maxAge: c.MaxAge,
		keys: c.Keys, routine: c.Routine, hook: c.Pause}
}

func (a *Accounts) now() time.Time { return a.clock().UTC() }

func (a *Accounts) pause(point string) {
	if a.hook != nil {
		a.hook(point)
	}
}
