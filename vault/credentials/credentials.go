package credentials

import (
	"context"
	"log/slog"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// People is what credentials need of the vault's accounts, read and
// written in the caller's transaction (package identity provides it,
// through the vault).
type People interface {
	// All lists every account.
	All(tx barrier.Tx) ([]access.Person, error)
	// Person is the account with id; false if there is none.
	Person(tx barrier.Tx, id string) (access.Person, bool, error)
	// Disable disables the account named name (not the last provider)
	// and ends its sessions, in tx; the caller records it.
	Disable(tx barrier.Tx, name string) (access.Person, error)
	// Complete marks the work of the contractor named name completed,
	// disabling the account and ending its sessions, in tx; the caller
	// records it. Not a contractor, or already completed: an input error.
	Complete(tx barrier.Tx, name string) (access.Person, error)
	// ReauthInputs checks a re-authentication's password (slow: outside
	// any write) and finds the TOTP step its code matches, or takes its
	// passkey answer.
	ReauthInputs(ctx context.Context, h *barrier.Held, p *access.Principal, ra access.Reauth, now time.Time) (access.ReauthCheck, error)
	// CheckReauth confirms it in tx and records a refusal (denied).
	CheckReauth(tx barrier.Tx, req auditlog.Request, p *access.Principal, rc access.ReauthCheck, now time.Time,
		action audit.Action, target audit.Target) (denied, err error)
}

// Recovery is what credentials need of the seal's state, in tx.
type Recovery interface {
	// Routine refuses what may not happen outside routine use (changes,
	// during an emergency recovery).
	Routine(tx storage.Tx) error
	// BreakGlass is the chairman's open emergency access, or nil.
	BreakGlass(tx barrier.Tx, p *access.Principal) (*BreakGlass, error)
}

// BreakGlass is the chairman's emergency access to admin credentials after
// a recovery with the envelopes.
type BreakGlass struct {
	Expires time.Time
	Reason  string
}

// Config wires the credentials to the vault.
type Config struct {
	Store    storage.Store
	Barrier  *barrier.Barrier
	Log      *auditlog.Log
	Now      func() time.Time
	People   People
	Recovery Recovery
	Logger   *slog.Logger
	// ExportKDF is the Argon2id cost of a KDBX export's passphrase.
	ExportKDF barrier.KDFParams
	// AdminApprover is who besides the chairman approves requests for
	// admin credentials (access.MayApproveKind).
	AdminApprover access.AdminApprover
	// Pause is the interleaving hook tests set (nil: none).
	Pause func(point string)
}

// Credentials are the vault's stored logins and who may use them: names,
// versions, TOTP, grants and requests, offboarding and the register.
type Credentials struct {
	store    storage.Store
	barrier  *barrier.Barrier
	log      *auditlog.Log
	clock    func() time.Time
	people   People
	recovery Recovery
	logger   *slog.Logger
	kdf      barrier.KDFParams

	adminApprover access.AdminApprover
	hook          func(point string)
	// health is the one slot for a password health report being made.
	health chan struct{}
}

// New is the credentials of one vault.
func New(c Config) *Credentials {
	return &Credentials{store: c.Store, barrier: c.Barrier, log: c.Log, clock: c.Now, people: c.People,
		recovery: c.Recovery, logger: c.Logger, kdf: c.ExportKDF, adminApprover: c.AdminApprover, hook: c.Pause,
		health: make(chan struct{}, 1)}
}

func (c *Credentials) pause(point string) {
	if c.hook != nil {
		c.hook(point)
	}
}

func (c *Credentials) now() time.Time { return c.clock().UTC() }

func notFound(kind, name string) error { return &access.NotFoundError{Kind: kind, Name: name} }

// Warm builds the name index (a scan of every head) so that the first
// request after an unseal does not.
func (c *Credentials) Warm(ctx context.Context) error { return c.barrier.View(ctx, ensureNames) }

// Drain unmaps the idle secret buffers (at seal; they are wiped already).
func Drain() { secretBuffers.drain() }
