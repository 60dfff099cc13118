package barrier

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"strongroom/vault/storage"
)

type rec struct {
	Name   string `json:"name"`
	Secret []byte `json:"secret"`
}

func newStore(t *testing.T) *storage.Bolt {
	t.Helper()
	st, err := storage.OpenBolt(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Records round-trip under the active term, open under an older term, and
// refuse to open moved, altered or under the wrong key; a kept-open
// keyring and a temporary one read the same; Release leaves it usable.
func TestKeyringRecords(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	old := NewKeyring(1, map[uint32][]byte{1: k1}, nil)
	ring := NewKeyring(2, map[uint32][]byte{1: k1, 2: k2}, nil)
	ring.KeepOpen()
	err := st.Update(ctx, func(tx storage.Tx) error {
		if err := old.Put(tx, storage.BucketUsers, "a", rec{"a", []byte("one")}); err != nil {
			return err
		}
		return ring.Put(tx, storage.BucketUsers, "b", rec{"b", []byte("two")})
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = st.View(ctx, func(tx storage.Tx) error {
		for _, c := range []struct {
			k   *Keyring
			key string
			ok  bool
		}{{ring, "a", true}, {ring, "b", true}, {old, "a", true}, {old, "b", false}} {
			var r rec
			_, err := c.k.Get(tx, storage.BucketUsers, c.key, &r)
			if (err == nil) != c.ok || (c.ok && r.Name != c.key) {
				t.Errorf("get %s: %+v %v", c.key, r, err)
			}
		}
		// A record copied to another key is refused as misplaced.
		var r rec
		if err := ring.Decode("users/c", tx.Get(storage.BucketUsers, []byte("a")), &r); !errors.Is(err, ErrMisplaced) {
			t.Errorf("moved record: %v", err)
		}
		blob := tx.Get(storage.BucketUsers, []byte("b"))
		blob[len(blob)-1] ^= 1
		if err := ring.Decode("users/b", blob, &r); !errors.Is(err, ErrTampered) {
			t.Errorf("altered record: %v", err)
		}
		return nil
	})
	ring.Release()
	_ = st.View(ctx, func(tx storage.Tx) error {
		var r rec
		if _, err := ring.Get(tx, storage.BucketUsers, "b", &r); err != nil || string(r.Secret) != "two" {
			t.Errorf("after release: %+v %v", r, err)
		}
		return nil
	})
}

// A cached view is used only for the exact stored bytes it came from.
func TestViewCache(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	ring := NewKeyring(1, map[uint32][]byte{1: bytes.Repeat([]byte{3}, 32)}, nil)
	ring.KeepOpen()
	decodes := 0
	view := func(r *rec) string { decodes++; return r.Name }
	put := func(name string) {
		if err := st.Update(ctx, func(tx storage.Tx) error { return ring.Put(tx, storage.BucketUsers, "x", rec{Name: name}) }); err != nil {
			t.Fatal(err)
		}
	}
	get := func() string {
		var got string
		_ = st.View(ctx, func(tx storage.Tx) error {
			v, ok, err := Cached(Through(tx, ring), storage.BucketUsers, "x", view)
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			got = v
			return nil
		})
		return got
	}
	put("first")
	first, again := get(), get()
	if first != "first" || again != "first" || decodes != 1 {
		t.Fatalf("cached view: %d decodes", decodes)
	}
	put("second") // new bytes: decoded again
	if get() != "second" || decodes != 2 {
		t.Fatalf("after a change: %d decodes", decodes)
	}
}
