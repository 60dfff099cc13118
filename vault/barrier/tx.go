package barrier

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/awnumar/memguard"

	"strongroom/vault/storage"
)

// ErrSealed is the answer to any use of the keys while the vault is sealed.
var ErrSealed = errors.New("vault: sealed")

// Barrier holds the vault's keyring while it is unsealed and lends it, for
// one operation at a time, to the packages above it, which see only a Tx:
// a store transaction through which sealed records are read and written.
// No package above the barrier holds or is handed a keyring, except the
// seal itself (package recovery), which makes one and installs it.
type Barrier struct {
	store  storage.Store
	commit func(ctx context.Context, fn func(storage.Tx) error) error

	mu   sync.RWMutex // held for reading while the keys are lent
	keys *Keyring     // nil while sealed

	// state is the keyring whose state key seals the state (statestore.go):
	// set with keys, and moved to a re-key's new keyring by the commit
	// that made it (SwitchState), without the lock, which the re-key holds.
	state atomic.Pointer[Keyring]

	foldPause func() // tests: runs in a fold between taking the keyring and using it
}

// New is a sealed barrier over store; commit runs a write under the
// store contract (access.Commit, which the vault passes in).
func New(store storage.Store, commit func(ctx context.Context, fn func(storage.Tx) error) error) *Barrier {
	return &Barrier{store: store, commit: commit}
}

// Held is the keys lent for one operation: transactions begun through it
// see sealed records. It must not outlive the Hold call that gave it.
type Held struct {
	b *Barrier
	k *Keyring
}

// Hold runs fn with the keys lent; ErrSealed if sealed. The barrier stays
// unsealed until fn returns.
func (b *Barrier) Hold(fn func(*Held) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.keys == nil {
		return ErrSealed
	}
	return fn(&Held{b: b, k: b.keys})
}

// View runs fn in a read transaction, with the keys held.
func (b *Barrier) View(ctx context.Context, fn func(Tx) error) error {
	return b.Hold(func(h *Held) error { return h.View(ctx, fn) })
}

// Write runs fn in a write under the store contract, with the keys held.
func (b *Barrier) Write(ctx context.Context, fn func(Tx) error) error {
	return b.Hold(func(h *Held) error { return h.Write(ctx, fn) })
}

// View runs fn in a read transaction.
func (h *Held) View(ctx context.Context, fn func(Tx) error) error {
	return h.b.store.View(ctx, func(tx storage.Tx) error { return fn(Tx{Tx: tx, k: h.k, b: h.b}) })
}

// Write runs fn in a write under the store contract (answers commit,
// failures roll back: access.Commit).
func (h *Held) Write(ctx context.Context, fn func(Tx) error) error {
	return h.b.commit(ctx, func(tx storage.Tx) error { return fn(Tx{Tx: tx, k: h.k, b: h.b}) })
}

// Bind sees tx through the keys held.
func (h *Held) Bind(tx storage.Tx) Tx { return Tx{Tx: tx, k: h.k, b: h.b} }

// Through sees tx through k: for the seal (package recovery), which makes
// keyrings, and for tests.
func Through(tx storage.Tx, k *Keyring) Tx { return Tx{Tx: tx, k: k} }

// Install makes k the vault's keyring (at unseal), keeping its keys open
// until Drop; false if the barrier was already unsealed (k is unused).
// fn, if given, runs under the same lock just after, so that state the
// seal keeps changes together with the keys.
func (b *Barrier) Install(k *Keyring, fn func(installed bool)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	installed := b.keys == nil
	if installed {
		k.KeepOpen()
		b.keys = k
		b.state.Store(k)
	}
	if fn != nil {
		fn(installed)
	}
}

// Drop seals the barrier: the keys are released and forgotten. fn, if
// given, runs under the same lock.
func (b *Barrier) Drop(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state.Store(nil)
	if b.keys != nil {
		b.keys.Release()
	}
	b.keys = nil
	if fn != nil {
		fn()
	}
}

// Sealed says no keys are held.
func (b *Barrier) Sealed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.keys == nil
}

// SetRoot replaces the held keyring's root key (after a re-key committed).
func (b *Barrier) SetRoot(root []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keys != nil {
		b.keys.SetRoot(root)
	}
}

// CheckState checks the records in tx against the state seal under the
// held keyring (barrier.CheckState).
func (h *Held) CheckState(tx storage.Tx) error { return CheckState(tx, h.k) }

// OpenRoot opens the held root key for the caller, who destroys the buffer.
func (h *Held) OpenRoot() (*memguard.LockedBuffer, error) { return h.k.OpenRoot() }

// Tx is a store transaction seen through the barrier. Its raw Get and Put
// (storage.Tx) read and write unsealed records; GetRecord, PutRecord and
// Decode read and write sealed ones.
type Tx struct {
	storage.Tx
	k *Keyring
	b *Barrier // nil through Through
}

// PutRecord seals v as JSON at bucket/key.
func (t Tx) PutRecord(bucket, key string, v any) error { return t.k.Put(t.Tx, bucket, key, v) }

// GetRecord opens the JSON record at bucket/key into v; false if absent.
func (t Tx) GetRecord(bucket, key string, v any) (bool, error) {
	blob := t.Get(bucket, []byte(key))
	if blob == nil {
		return false, nil
	}
	return true, t.ring(blob).Decode(bucket+"/"+key, blob, v)
}

// Decode opens the sealed JSON record blob, stored at path, into v.
func (t Tx) Decode(path string, blob []byte, v any) error { return t.ring(blob).Decode(path, blob, v) }

// Open decrypts the sealed record blob stored at path; the caller wipes it.
func (t Tx) Open(path string, blob []byte) ([]byte, error) { return t.ring(blob).Open(path, blob) }

// ring is the keyring that opens blob: the one lent, or, for a record
// sealed under a term it lacks, the keyring a re-key has just committed
// (SwitchState) and not yet installed (Replace): a record the re-key
// wrote under its new term is readable from its commit on.
func (t Tx) ring(blob []byte) *Keyring {
	if t.b == nil {
		return t.k
	}
	term, err := Term(blob)
	if err != nil {
		return t.k
	}
	if _, ok := t.k.data[term]; ok || term == stateTermKeys {
		return t.k
	}
	if next := t.b.state.Load(); next != nil {
		if _, ok := next.data[term]; ok {
			return next
		}
	}
	return t.k
}

// Local is state derived from sealed records that lives as long as the
// keys do (a name index): the value under key, made by init on first use.
// It is nil on a temporary keyring, which keeps nothing.
func (t Tx) Local(key any, init func() any) any { return t.k.local(key, init) }

// Replace installs k in place of the held keyring (after a re-key
// committed a new root key or data key term), keeping what lives with the
// keys (the view cache, Tx.Local state: both derive from plaintext, not
// from keys); false if sealed (k is unused).
func (b *Barrier) Replace(k *Keyring) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keys == nil {
		return false
	}
	old := b.keys
	k.KeepOpen()
	old.mu.Lock()
	k.mu.Lock()
	k.views, k.locals = old.views, old.locals
	k.mu.Unlock()
	old.views, old.locals = nil, nil
	old.mu.Unlock()
	b.keys = k
	b.state.Store(k)
	old.Release()
	return true
}

// SwitchState makes k seal the state from now on: called by the commit
// that made k's state key the vault's (a re-key's OnCommit), before
// Replace installs k's data keys. No effect while sealed.
func (b *Barrier) SwitchState(k *Keyring) {
	if b.state.Load() != nil {
		b.state.Store(k)
	}
}

// Active is the term new records are sealed under.
func (h *Held) Active() uint32 { return h.k.active }

// Reseal seals the record at bucket/key again under the active term if it
// was sealed under another (a re-key's rewrap); false if it already was.
func (t Tx) Reseal(bucket string, key, blob []byte) (bool, error) {
	term, _, _, err := RecordHeader(blob)
	if err != nil {
		return false, err
	}
	if term == t.k.active {
		return false, nil
	}
	path := bucket + "/" + string(key)
	pt, err := t.k.Open(path, blob)
	if err != nil {
		return false, err
	}
	defer Wipe(pt)
	sealed, err := t.k.Seal(path, pt)
	if err != nil {
		return false, err
	}
	return true, t.Put(bucket, bytes.Clone(key), sealed)
}

// Term is the term the sealed record blob was sealed under.
func Term(blob []byte) (uint32, error) {
	term, _, _, err := RecordHeader(blob)
	return term, err
}
