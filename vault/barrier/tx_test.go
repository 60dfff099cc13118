package barrier

import (
	"bytes"
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strongroom/vault/storage"
)

func testBarrier(t *testing.T) (*Barrier, storage.Store) {
	t.Helper()
	st, err := storage.OpenBolt(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, st.Update), st
}

// The barrier lends its keys only while unsealed, sees records through
// them, keeps derived state only as long as they live, and forgets both at
// Drop.
func TestBarrierLendsKeysWhileUnsealed(t *testing.T) {
	ctx := context.Background()
	b, st := testBarrier(t)
	if err := b.Write(ctx, func(Tx) error { return nil }); !errors.Is(err, ErrSealed) || !b.Sealed() {
		t.Fatalf("a sealed barrier lent its keys: %v", err)
	}
	k := NewKeyring(1, map[uint32][]byte{1: bytes.Repeat([]byte{3}, 32)}, nil)
	var installed []bool
	b.Install(k, func(ok bool) { installed = append(installed, ok) })
	b.Install(NewKeyring(1, map[uint32][]byte{1: bytes.Repeat([]byte{4}, 32)}, nil), func(ok bool) { installed = append(installed, ok) })
	if len(installed) != 2 || !installed[0] || installed[1] {
		t.Fatalf("installs: %v; want the first only", installed)
	}
	if err := b.Write(ctx, func(tx Tx) error { return tx.PutRecord(storage.BucketUsers, "u1", map[string]string{"name": "Clerk"}) }); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	_ = st.View(ctx, func(tx storage.Tx) error { raw = bytes.Clone(tx.Get(storage.BucketUsers, []byte("u1"))); return nil })
	if bytes.Contains(raw, []byte("Clerk")) {
		t.Fatal("a record reached the store in the clear")
	}
	made := 0
	local := func(tx Tx) any { return tx.Local("k", func() any { made++; return &made }) }
	var got map[string]string
	err := b.View(ctx, func(tx Tx) error {
		if local(tx) == nil || local(tx) != local(tx) {
			t.Error("local state not kept with the keys")
		}
		if Through(tx.Tx, NewKeyring(1, map[uint32][]byte{1: bytes.Repeat([]byte{3}, 32)}, nil)).Local("k", func() any { return 1 }) != nil {
			t.Error("a temporary keyring kept local state")
		}
		_, err := tx.GetRecord(storage.BucketUsers, "u1", &got)
		return err
	})
	if err != nil || got["name"] != "Clerk" || made != 1 {
		t.Fatalf("read back %v, %v; local made %d times", got, err, made)
	}
	b.Drop(nil)
	if err := b.View(ctx, func(Tx) error { return nil }); !errors.Is(err, ErrSealed) {
		t.Fatalf("after Drop: %v", err)
	}
	if k.locals != nil || len(k.opened) != 0 {
		t.Fatal("Drop left local state or opened keys")
	}
}

// No package above the barrier, but the seal that makes keyrings, names a
// keyring in a function's signature: domain code sees only barrier.Tx.
func TestNoDomainFunctionTakesAKeyring(t *testing.T) {
	for _, pkg := range []string{"identity", "credentials", "backup", "auditlog", "access", "passwords", "recovery"} {
		files, _ := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if len(files) == 0 {
			t.Fatalf("no files in %s", pkg)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				ft, ok := n.(*ast.FuncType)
				if !ok {
					return true
				}
				sig := string(src[ft.Pos()-1 : ft.End()-1])
				if strings.Contains(sig, "barrier.Keyring") {
					t.Errorf("%s: a function takes a keyring: %s", f, sig)
				}
				return true
			})
		}
	}
}
