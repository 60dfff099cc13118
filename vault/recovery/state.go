package recovery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"

	"golang.org/x/mod/sumdb/note"
)

// Config wires the seal to the vault.
type Config struct {
	Store   storage.Store
	Barrier *barrier.Barrier
	Log     *auditlog.Log
	Now     func() time.Time
	// KDF is the Argon2id cost of the operator passphrase.
	KDF barrier.KDFParams
	// BreakGlassWindow is how long the chairman's emergency access lasts.
	BreakGlassWindow time.Duration
	Hooks            Hooks
	// Pause is the interleaving hook tests set (nil: none).
	Pause  func(point string)
	Logger *slog.Logger
	// FirstStateSeal allows the first state seal of a vault made before
	// it (vault.Config.FirstStateSeal).
	FirstStateSeal bool
	// AutoUnseal, if set, keeps the KEK after each passphrase unseal and
	// passphrase change, for AutoUnseal (vault.Config.AutoUnseal).
	AutoUnseal AutoUnsealer
}

// Hooks are what the rest of the vault does as the seal changes.
type Hooks struct {
	// Sealing signs the log's state just before the keys are dropped.
	Sealing func(ctx context.Context) error
	// Unsealed runs, on its own goroutine, once the keys are installed
	// (to warm caches); Sealed runs as they are dropped, under the
	// barrier's lock.
	Unsealed func()
	Sealed   func()
	// EndSessions ends every session, in the seal's or the unseal's own
	// write, and says how many it ended.
	EndSessions func(tx storage.Tx) (int, error)
}

// endSessions runs the hook, if set, and says what it did for the entry.
func (sl *Seal) endSessions(tx storage.Tx) (string, error) {
	if sl.hooks.EndSessions == nil {
		return "", nil
	}
	n, err := sl.hooks.EndSessions(tx)
	if err != nil || n == 0 {
		return "", err
	}
	return fmt.Sprintf("%d sessions ended", n), nil
}

// FirstAdmin prepares the first provider's account, named name, outside
// any transaction, and returns the write that inserts it in the init's.
type FirstAdmin func(name string) (insert func(tx barrier.Tx) error, err error)

// Seal is the vault's seal: init, unseal by passphrase or by envelope
// shares, seal, the operator passphrase, emergency recovery, break-glass
// and re-key.
type Seal struct {
	store      storage.Store
	barrier    *barrier.Barrier
	log        *auditlog.Log
	clock      func() time.Time
	kdf        barrier.KDFParams
	breakGlass time.Duration
	hooks      Hooks
	hook       func(point string)
	logger     *slog.Logger
	firstSeal  bool // Config.FirstStateSeal
	auto       AutoUnsealer

	mu      sync.Mutex // guards pending
	pending *shareProgress
	// verifier is the audit verifier key as the last unseal's state check
	// found it (under mu), for Status.
	verifier string

	// rekeyMu runs one re-key or rewrap at a time, from what it reads to
	// the keyring it puts in the barrier, so keyrings are installed in the
	// order they were committed.
	rekeyMu sync.Mutex
	// unsealMu runs one unseal's commit and install at a time: a second
	// finds the vault open and writes nothing.
	unsealMu sync.Mutex
}

// New is the seal of one vault.
func New(c Config) *Seal {
	return &Seal{store: c.Store, barrier: c.Barrier, log: c.Log, clock: c.Now, kdf: c.KDF,
		breakGlass: c.BreakGlassWindow, hooks: c.Hooks, hook: c.Pause, logger: c.Logger, firstSeal: c.FirstStateSeal, auto: c.AutoUnseal}
}

func (sl *Seal) now() time.Time { return sl.clock().UTC() }

func (sl *Seal) pause(point string) {
	if sl.hook != nil {
		sl.hook(point)
	}
}

// VaultID is the vault's id as stored (nil before init).
func VaultID(tx storage.Tx) []byte { return tx.Get(storage.BucketMeta, keyVaultID) }

// Council is the council's name as stored.
func Council(tx storage.Tx) string { return string(tx.Get(storage.BucketMeta, keyCouncil)) }

// Generation is the envelopes' generation in force.
func Generation(tx storage.Tx) (uint32, error) {
	es, err := loadEscrow(tx)
	if err != nil {
		return 0, err
	}
	return es.Generation, nil
}

// AuditSigner opens the audit signing key, sealed in the keyring bucket.
func AuditSigner(tx barrier.Tx) (note.Signer, error) {
	var skey string
	if ok, err := tx.GetRecord(storage.BucketKeyring, keyAuditSigner, &skey); err != nil || !ok {
		return nil, fmt.Errorf("vault: audit signing key unavailable: %v", err)
	}
	return note.NewSigner(skey)
}
