package barrier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"

	"strongroom/audit"
	"strongroom/vault/storage"
)

// Scratch keys through which a write that brings its own keyring (init,
// unseal, re-key) tells the folds of its transaction which keyring seals
// the state, and that the seal is to be recomputed from every record.
const (
	scratchKeys    = "barrier.state.keys"
	scratchRecount = "barrier.state.recount"
)

// Store is the vault's store seen through the state seal: every write
// function's changes to sealed records are folded into meta/state in the
// same transaction, with the state key of the keyring in force. Without
// keys (sealed) a write may append audit entries only. Every package
// above the barrier writes through this store.
func (b *Barrier) Store() storage.Store { return stateStore{b} }

type stateStore struct{ b *Barrier }

func (s stateStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.b.store.View(ctx, fn)
}

func (s stateStore) Snapshot(ctx context.Context, w io.Writer, read func(storage.Tx) error) (int64, error) {
	return s.b.store.Snapshot(ctx, w, read)
}

func (s stateStore) Close() error { return s.b.store.Close() }

func (s stateStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.b.store.Update(ctx, func(tx storage.Tx) error {
		t := &trackTx{Tx: tx}
		if err := fn(t); err != nil {
			return err
		}
		return s.b.fold(t)
	})
}

// trackTx remembers, for each sealed record a write function changes, the
// value it had before the function's first change to it.
type trackTx struct {
	storage.Tx
	before  map[string]touched
	audit   bool     // an audit entry or the audit head changed
	entries [][]byte // the keys of audit entries written
}

type touched struct {
	bucket string
	key    []byte
	old    []byte // nil: absent
}

func (t *trackTx) touch(bucket string, key []byte) {
	if !Covered(bucket, key) {
		t.audit = true
		if bucket == storage.BucketAudit {
			t.entries = append(t.entries, append([]byte(nil), key...))
		}
		return
	}
	id := bucket + "\x00" + string(key)
	if _, ok := t.before[id]; ok {
		return
	}
	if t.before == nil {
		t.before = map[string]touched{}
	}
	t.before[id] = touched{bucket: bucket, key: append([]byte(nil), key...), old: t.Tx.Get(bucket, key)}
}

func (t *trackTx) Put(bucket string, key, value []byte) error {
	t.touch(bucket, key)
	return t.Tx.Put(bucket, key, value)
}

func (t *trackTx) Delete(bucket string, key []byte) error {
	t.touch(bucket, key)
	return t.Tx.Delete(bucket, key)
}

// keyringFor is the keyring that seals the state in tx: one a write of
// this transaction brought (UseState, ResealState), else the barrier's.
func (b *Barrier) keyringFor(tx storage.Tx) (*Keyring, bool) {
	sc := tx.Scratch()
	recount, _ := sc[scratchRecount].(bool)
	if k, ok := sc[scratchKeys].(*Keyring); ok {
		return k, recount
	}
	return b.state.Load(), recount
}

// fold brings meta/state up to date with what t's function wrote. A
// keyring released under it by a re-key or rewrap (which install a new one
// with the same or a newer state key) is retried with the new one.
func (b *Barrier) fold(t *trackTx) error {
	for {
		k, recount := b.keyringFor(t.Tx)
		if b.foldPause != nil {
			b.foldPause()
		}
		err := b.foldWith(t, k, recount)
		if errors.Is(err, ErrSealed) && k != nil {
			if now := b.state.Load(); now != nil && now != k {
				continue
			}
		}
		return err
	}
}

func (b *Barrier) foldWith(t *trackTx, k *Keyring, recount bool) error {
	if !recount && len(t.before) == 0 && !t.audit {
		return nil
	}
	if k == nil {
		if len(t.before) > 0 {
			return ErrSealedWrite
		}
		for _, key := range t.entries { // what the next unseal accepts after the pin
			if e, err := audit.ParseLine(t.Tx.Peek(storage.BucketAudit, key)); err != nil || !WrittenWhileSealed(e) {
				return ErrSealedWrite
			}
		}
		return nil // entries appended while sealed: the next unseal checks them
	}
	return k.withStateKey(func(key []byte) error {
		if recount {
			delete(t.Tx.Scratch(), scratchRecount)
			sums, err := computeSums(t.Tx, key)
			if err != nil {
				return err
			}
			h := &stateHead{sums: sums[0]}
			if raw := t.Tx.Peek(storage.BucketMeta, []byte(KeyState)); raw != nil {
				if len(raw) >= 12 {
					h.gen = binary.BigEndian.Uint64(raw[4:]) // the count of writes goes on across a re-key
				}
			}
			h.gen++
			if err := pin(t.Tx, h); err != nil {
				return err
			}
			return writeHead(t.Tx, h, key)
		}
		raw := t.Tx.Peek(storage.BucketMeta, []byte(KeyState))
		if raw == nil {
			return &RollbackError{What: "the state seal is missing (deleted)"}
		}
		h, err := decodeHead(key, raw)
		if err != nil {
			return err
		}
		m := hmac.New(sha256.New, key)
		for _, c := range t.before {
			i := bucketPos(c.bucket)
			now := t.Tx.Peek(c.bucket, c.key)
			if c.old != nil {
				h.sums[i].n--
				xorInto(&h.sums[i].xor, element(m, c.bucket, c.key, c.old))
			}
			if now != nil {
				h.sums[i].n++
				xorInto(&h.sums[i].xor, element(m, c.bucket, c.key, now))
			}
		}
		h.gen++
		if err := pin(t.Tx, h); err != nil {
			return err
		}
		return writeHead(t.Tx, h, key)
	})
}

// CheckState recomputes the state seal from every record in tx under k's
// state key and compares it with meta/state: a *RollbackError (matching
// ErrRolledBack) if they differ. errors.Is(err, ErrNoStateSeal) for a
// keyring made before the state seal existed (see ResealState).
func CheckState(tx storage.Tx, k *Keyring) error {
	return k.withStateKey(func(key []byte) error {
		raw := tx.Peek(storage.BucketMeta, []byte(KeyState))
		if raw == nil {
			return &RollbackError{What: "the state seal is missing (deleted)"}
		}
		h, err := decodeHead(key, raw)
		if err != nil {
			return err
		}
		sums, err := computeSums(tx, key)
		if err != nil {
			return err
		}
		if err := compare(h.sums, sums[0]); err != nil {
			return err
		}
		return checkAudit(tx, h)
	})
}

// ErrNoStateSeal is a vault made before the state seal: its keyring has
// no state key (term 0) and meta holds no seal.
var ErrNoStateSeal = errNoStateKey

// HasStateKey says k carries a state key (term 0).
func (k *Keyring) HasStateKey() bool { _, ok := k.data[stateTermKeys]; return ok }

// UseState makes k seal the state for the rest of tx (the unseal's write,
// after CheckState passed, before k is installed).
func UseState(tx storage.Tx, k *Keyring) { tx.Scratch()[scratchKeys] = k }

// ResealState makes k seal the state from now on in tx, and has the seal
// recomputed from every record when the calling write function returns
// (init; a re-key, whose new keyring has a new state key, after checking
// the old seal with the old keyring; the first unseal of a vault made
// before the state seal).
func ResealState(tx storage.Tx, k *Keyring) {
	sc := tx.Scratch()
	sc[scratchKeys] = k
	sc[scratchRecount] = true
}
