package credentials

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// A fixture is the credentials of a vault with one provider, on a real
// store, barrier and audit log, with the accounts and the seal's state
// stood in for (the vault's own tests cover them together).
type fixture struct {
	c     *Credentials
	b     *barrier.Barrier
	st    *flakyStore
	admin *access.Principal
}

// flakyStore fails the writes it is told to, as a full disk would.
type flakyStore struct {
	storage.Store
	mu     sync.Mutex
	writes int            // writes so far
	fail   func(int) bool // fail the n-th write (1-based)
}

func (s *flakyStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	s.mu.Lock()
	s.writes++
	fail := s.fail != nil && s.fail(s.writes)
	s.mu.Unlock()
	if fail {
		return errors.New("storage: no space left on device")
	}
	return s.Store.Update(ctx, fn)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := storage.OpenBolt(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fs := &flakyStore{Store: st}
	commit := func(ctx context.Context, fn func(storage.Tx) error) error { return access.Commit(ctx, fs, fn) }
	b := barrier.New(st, commit)
	b.Install(barrier.NewKeyring(1, map[uint32][]byte{1: bytes.Repeat([]byte{9}, 32)}, nil), nil)
	t.Cleanup(func() { b.Drop(nil) })
	admin := access.Person{ID: "u-admin", Name: "IT Provider", Role: access.RoleProvider}
	c := New(Config{Store: fs, Barrier: b, Log: auditlog.New(fs, time.Now, slog.Default()), Now: time.Now,
		People: fakePeople{admin}, Recovery: routine{}, Logger: slog.Default()})
	return &fixture{c: c, b: b, st: fs, admin: &access.Principal{UserID: admin.ID, Name: admin.Name, Role: admin.Role}}
}

func (f *fixture) put(t *testing.T, name, password string, createOnly bool) error {
	t.Helper()
	_, _, err := f.c.PutCredential(context.Background(), auditlog.Request{ID: "put"}, f.admin, CredentialInput{Name: name,
		Kind: string(access.KindAdmin), Password: []byte(password), Assignees: []string{f.admin.Name}, CreateOnly: createOnly})
	return err
}

// fakePeople is a vault of the given accounts, none of them changed.
type fakePeople []access.Person

func (pp fakePeople) All(barrier.Tx) ([]access.Person, error) { return pp, nil }

func (pp fakePeople) Person(_ barrier.Tx, id string) (access.Person, bool, error) {
	for _, u := range pp {
		if u.ID == id {
			return u, true, nil
		}
	}
	return access.Person{}, false, nil
}

func (pp fakePeople) Disable(barrier.Tx, string) (access.Person, error) {
	return access.Person{}, access.ErrForbidden
}

func (pp fakePeople) Complete(barrier.Tx, string) (access.Person, error) {
	return access.Person{}, access.ErrForbidden
}

func (pp fakePeople) ReauthInputs(context.Context, *barrier.Held, *access.Principal, access.Reauth, time.Time) (access.ReauthCheck, error) {
	return access.ReauthCheck{Step: -1}, nil
}

func (pp fakePeople) CheckReauth(barrier.Tx, auditlog.Request, *access.Principal, access.ReauthCheck, time.Time, audit.Action, audit.Target) (error, error) {
	return access.ErrForbidden, nil
}

// routine is a vault in routine use: no recovery, no break-glass.
type routine struct{}

func (routine) Routine(storage.Tx) error                                      { return nil }
func (routine) BreakGlass(barrier.Tx, *access.Principal) (*BreakGlass, error) { return nil, nil }
