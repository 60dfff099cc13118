package barrier

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"strongroom/audit"
	"strongroom/vault/storage"
)

func stateKeys(fill byte) map[uint32][]byte {
	return map[uint32][]byte{1: bytes.Repeat([]byte{0x11}, 32), 0: bytes.Repeat([]byte{fill}, 32)}
}

// newSealed is a barrier over a fresh store, unsealed with a keyring whose
// state key is all fill bytes, with its first state seal written.
func newSealed(t *testing.T) (*Barrier, storage.Store) {
	t.Helper()
	st, err := storage.OpenBolt(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var b *Barrier
	b = New(st, func(ctx context.Context, fn func(storage.Tx) error) error { return b.Store().Update(ctx, fn) })
	k := NewKeyring(1, stateKeys(0x22), nil)
	err = b.Store().Update(context.Background(), func(tx storage.Tx) error {
		ResealState(tx, k)
		return tx.Put(storage.BucketMeta, []byte("vault_id"), []byte("v1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Install(k, nil)
	return b, st
}

func check(t *testing.T, st storage.Store, k *Keyring) error {
	t.Helper()
	return st.View(context.Background(), func(tx storage.Tx) error { return CheckState(tx, k) })
}

// Every kind of write through the barrier's store keeps the seal true; the
// same change made around it (straight to the store) is found, and named.
func TestStateSealFollowsWritesAndFindsChangesAroundIt(t *testing.T) {
	ctx := context.Background()
	b, st := newSealed(t)
	k := b.state.Load()
	write := func(fn func(Tx) error) {
		t.Helper()
		if err := b.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
		if err := check(t, st, k); err != nil {
			t.Fatalf("after a write through the barrier: %v", err)
		}
	}
	write(func(tx Tx) error { return tx.PutRecord(storage.BucketUsers, "u1", map[string]string{"name": "Clerk"}) })
	write(func(tx Tx) error { return tx.PutRecord(storage.BucketUsers, "u2", map[string]string{"name": "Member"}) })
	write(func(tx Tx) error { // overwritten twice and deleted in one function, and a plain meta value
		if err := tx.PutRecord(storage.BucketGrants, "g1", 1); err != nil {
			return err
		}
		if err := tx.PutRecord(storage.BucketGrants, "g1", 2); err != nil {
			return err
		}
		if err := tx.Put(storage.BucketMeta, []byte("recovery"), []byte(`{"since":"x"}`)); err != nil {
			return err
		}
		return tx.Delete(storage.BucketUsers, []byte("u2"))
	})
	var early []byte
	_ = st.View(ctx, func(tx storage.Tx) error { early = tx.Get(storage.BucketUsers, []byte("u1")); return nil })
	write(func(tx Tx) error {
		return tx.PutRecord(storage.BucketUsers, "u1", map[string]string{"name": "Clerk", "disabled": "yes"})
	})

	around := func(name string, fn func(storage.Tx) error, bucket, what string) {
		t.Helper()
		var undo []func(storage.Tx) error
		err := st.Update(ctx, func(tx storage.Tx) error {
			undo = nil
			for _, b := range storage.Buckets {
				_ = tx.Scan(b, nil, func(key, v []byte) (bool, error) {
					b, key, v := b, key, v
					undo = append(undo, func(tx storage.Tx) error { return tx.Put(b, key, v) })
					return true, nil
				})
			}
			return fn(tx)
		})
		if err != nil {
			t.Fatal(err)
		}
		err = check(t, st, k)
		var re *RollbackError
		if !errors.As(err, &re) || !errors.Is(err, ErrRolledBack) || re.Bucket != bucket || !strings.Contains(re.What, what) {
			t.Fatalf("%s: %v, want bucket %q and %q", name, err, bucket, what)
		}
		// Put everything back as it was: the seal is true again.
		_ = st.Update(ctx, func(tx storage.Tx) error {
			for _, b := range storage.Buckets {
				var keys [][]byte
				_ = tx.Scan(b, nil, func(key, _ []byte) (bool, error) { keys = append(keys, key); return true, nil })
				for _, key := range keys {
					_ = tx.Delete(b, key)
				}
			}
			for _, u := range undo {
				if err := u(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err := check(t, st, k); err != nil {
			t.Fatalf("%s, put right: %v", name, err)
		}
	}
	around("an account put back to its earlier copy", func(tx storage.Tx) error { return tx.Put(storage.BucketUsers, []byte("u1"), early) },
		storage.BucketUsers, "rolled back")
	around("a grant deleted", func(tx storage.Tx) error { return tx.Delete(storage.BucketGrants, []byte("g1")) },
		storage.BucketGrants, "deleted")
	around("a request added", func(tx storage.Tx) error { return tx.Put(storage.BucketRequests, []byte("r9"), []byte("junk")) },
		storage.BucketRequests, "added")
	around("the recovery flag deleted", func(tx storage.Tx) error { return tx.Delete(storage.BucketMeta, []byte("recovery")) },
		storage.BucketMeta, "deleted")
	around("the seal deleted", func(tx storage.Tx) error { return tx.Delete(storage.BucketMeta, []byte(KeyState)) },
		"", "missing")
	around("the seal edited", func(tx storage.Tx) error {
		raw := tx.Get(storage.BucketMeta, []byte(KeyState))
		raw[20] ^= 1
		return tx.Put(storage.BucketMeta, []byte(KeyState), raw)
	}, "", "does not authenticate")

	// A seal made with another state key (an old one, from before a
	// re-key) does not authenticate.
	if err := check(t, st, NewKeyring(1, stateKeys(0x33), nil)); !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), "does not authenticate") {
		t.Fatalf("another state key: %v", err)
	}
	// A write made around the barrier is also found by the next write's
	// fold, which refuses a seal that does not authenticate.
	_ = st.Update(ctx, func(tx storage.Tx) error {
		raw := tx.Get(storage.BucketMeta, []byte(KeyState))
		raw[len(raw)-1] ^= 1
		return tx.Put(storage.BucketMeta, []byte(KeyState), raw)
	})
	if err := b.Write(ctx, func(tx Tx) error { return tx.PutRecord(storage.BucketUsers, "u3", 3) }); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("a write over a forged seal: %v", err)
	}
}

// Sealed, only audit entries can be written; term 0 never opens a record.
func TestStateSealRefusesSealedWrites(t *testing.T) {
	ctx := context.Background()
	b, _ := newSealed(t)
	b.Drop(nil)
	err := b.Store().Update(ctx, func(tx storage.Tx) error { return tx.Put(storage.BucketUsers, []byte("u1"), []byte("x")) })
	if !errors.Is(err, ErrSealedWrite) {
		t.Fatalf("a sealed write to users: %v", err)
	}
	entry := func(action audit.Action, outcome string) error {
		e := audit.Entry{Action: action, Outcome: outcome, Actor: audit.Actor{Name: "operator", Role: "operator"}}
		e.Seal(0, audit.ZeroHash)
		return b.Store().Update(ctx, func(tx storage.Tx) error { return tx.Put(storage.BucketAudit, []byte("00000001"), e.Line()) })
	}
	if err := entry(audit.SysUnseal, audit.OutcomeDenied); err != nil {
		t.Fatalf("a sealed append of a refusal: %v", err)
	}
	if err := entry(audit.EscrowShare, audit.OutcomeOK); err != nil {
		t.Fatalf("a sealed append of a share given: %v", err)
	}
	// An entry of a kind written only with the keys: the next unseal
	// would refuse it after the pin, so it is refused now.
	if err := entry(audit.CredRead, audit.OutcomeOK); !errors.Is(err, ErrSealedWrite) || !errors.Is(err, ErrSealed) {
		t.Fatalf("a sealed append of a read: %v", err)
	}
	k := NewKeyring(1, stateKeys(0x22), nil)
	blob, err := SealRecord(bytes.Repeat([]byte{0x22}, 32), 0, "users/u1", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open("users/u1", blob); !errors.Is(err, ErrTampered) {
		t.Fatalf("a record under term 0 opened: %v", err)
	}
}

// A fold whose keyring is replaced and released under it (a re-key's or
// rewrap's Replace) between taking the keyring and using it takes the new
// one instead of failing the transaction.
func TestStateSealSurvivesKeyringReplacement(t *testing.T) {
	ctx := context.Background()
	b, st := newSealed(t)
	taken, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.foldPause = func() {
		once.Do(func() { close(taken); <-resume })
	}
	done := make(chan error, 1)
	runs := 0
	go func() {
		done <- b.Store().Update(ctx, func(tx storage.Tx) error { runs++; return tx.Put(storage.BucketGrants, []byte("g1"), []byte("g")) })
	}()
	<-taken
	b.Replace(NewKeyring(1, stateKeys(0x22), nil)) // releases the keyring the fold took
	close(resume)
	// A failed fold would roll back the transaction, and with it every
	// write sharing its group commit, which would all run again.
	if err := <-done; err != nil || runs != 1 {
		t.Fatalf("a write across Replace: %v, its function ran %d times", err, runs)
	}
	if err := check(t, st, NewKeyring(1, stateKeys(0x22), nil)); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkFold is the state seal's cost in one write function: an audit
// append alone (the seal pins the new head), and one sealed record
// changed. Each iteration is one function's fold inside one transaction.
func BenchmarkFold(b *testing.B) {
	for _, tc := range []struct {
		name   string
		bucket string
	}{{"audit-only", storage.BucketAudit}, {"one-record", storage.BucketUsers}} {
		b.Run(tc.name, func(b *testing.B) {
			st, err := storage.OpenBolt(b.TempDir(), storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var br *Barrier
			br = New(st, func(ctx context.Context, fn func(storage.Tx) error) error { return br.Store().Update(ctx, fn) })
			k := NewKeyring(1, stateKeys(0x22), nil)
			_ = br.Store().Update(context.Background(), func(tx storage.Tx) error { ResealState(tx, k); return nil })
			br.Install(k, nil)
			val := bytes.Repeat([]byte{7}, 600) // about a sealed account record
			b.ResetTimer()
			err = st.Update(context.Background(), func(tx storage.Tx) error {
				for i := 0; i < b.N; i++ {
					t := &trackTx{Tx: tx}
					val[0] = byte(i) // the same key each time: the bucket does not grow
					if err := t.Put(tc.bucket, []byte("key"), val); err != nil {
						return err
					}
					if err := br.fold(t); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
