package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"strongroom/audit"
	"strongroom/escrow"
	"strongroom/vault/barrier"
	"strongroom/vault/identity"
)

var ctx = context.Background()
var req = Request{IP: "127.0.0.1", UserAgent: "test", ID: "t"}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// faultStore can make audit writes fail, to prove reads fail closed.
type faultStore struct {
	Store
	mu        sync.Mutex
	failAudit bool
	afterView func() // if set, run once after the next View
}

func (f *faultStore) View(ctx context.Context, fn func(Tx) error) error {
	err := f.Store.View(ctx, fn)
	f.mu.Lock()
	hook := f.afterView
	f.afterView = nil
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return err
}

func (f *faultStore) Update(ctx context.Context, fn func(Tx) error) error {
	f.mu.Lock()
	fail := f.failAudit
	f.mu.Unlock()
	return f.Store.Update(ctx, func(tx Tx) error { return fn(faultTx{tx, fail}) })
}

type faultTx struct {
	Tx
	fail bool
}

var errDiskFull = errors.New("test: disk full")

func (t faultTx) Put(b string, k, v []byte) error {
	if t.fail && b == bucketAudit {
		return errDiskFull
	}
	return t.Tx.Put(b, k, v)
}

type fixture struct {
	v     *Vault
	store *faultStore
	clock *fakeClock
	init  *InitResult
	pass  []byte
	admin *Principal
	dir   string
}

var testKDF = KDFParams{Memory: MinKDFMemory, Time: MinKDFTime, Threads: 1}

func newFixture(t testing.TB) *fixture {
	return newFixtureWith(t, BoltOptions{})
}

func newFixtureWith(t testing.TB, opt BoltOptions) *fixture {
	return newFixtureEscrow(t, opt, []string{"Chairman", "Vice-chair", "Clerk"}, 2)
}

func newFixtureEscrow(t testing.TB, opt BoltOptions, holders []string, threshold int) *fixture {
	t.Helper()
	return newFixtureConfig(t, opt, holders, threshold, nil)
}

// newFixtureConfig is newFixtureEscrow with the vault's Config changed by
// with (nil: as the binary's defaults).
func newFixtureConfig(t testing.TB, opt BoltOptions, holders []string, threshold int, with func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := OpenBolt(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	fs := &faultStore{Store: st}
	clock := &fakeClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	cfg := Config{Store: fs, Clock: clock.Now, KDF: testKDF, PasswordKDF: KDFParams{Memory: 8 * 1024, Time: 1, Threads: 1}}
	if with != nil {
		with(&cfg)
	}
	v := New(cfg)
	t.Cleanup(func() { v.Close() })
	pass := []byte("correct horse battery staple")
	res, err := v.Init(ctx, req, InitRequest{Council: "Test PC", Shares: len(holders), Threshold: threshold,
		Holders: holders, Admin: "IT Provider", Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.UnsealPassphrase(ctx, req, pass); err != nil {
		t.Fatal(err)
	}
	f := &fixture{v: v, store: fs, clock: clock, init: res, pass: pass, dir: dir}
	f.admin = f.principal(t, "IT Provider")
	return f
}

// principal builds the Principal of an existing account directly.
func (f *fixture) principal(t testing.TB, name string) *Principal {
	t.Helper()
	var p *Principal
	err := f.v.barrier.View(ctx, func(tx barrier.Tx) error {
		u, err := identity.Find(tx, name)
		if u == nil {
			return errors.Join(err, errors.New("no user "+name))
		}
		// As a session that has just re-authenticated (access.Reauthed);
		// the re-authentication rule has its own tests.
		p = &Principal{UserID: u.ID, Name: u.Name, Role: u.Role, ReauthAt: f.clock.Now()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) addUser(t testing.TB, name string, role Role) (*Principal, OneTimeLogin) {
	t.Helper()
	otl, err := f.v.CreateUser(ctx, req, f.admin, name, role, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return f.principal(t, name), otl
}

func code(t *testing.T, uri string, at time.Time) string {
	t.Helper()
	k, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	c, err := totp.GenerateCode(k.Secret(), at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// entries returns the stored audit log.
func (f *fixture) entries(t *testing.T) []*audit.Entry {
	t.Helper()
	var out []*audit.Entry
	err := f.v.store.View(ctx, func(tx Tx) error {
		return tx.Scan(bucketAudit, nil, func(_, v []byte) (bool, error) {
			e, err := audit.ParseLine(v)
			out = append(out, e)
			return err == nil, err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) last(t *testing.T) *audit.Entry {
	es := f.entries(t)
	return es[len(es)-1]
}

func shareText(e *escrow.Envelope) string { return e.Text() }

func readFile(dir string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, "strongroom.db")) }

// ListCredentialsAll is ListCredentials without paging, for tests.
func (v *Vault) ListCredentialsAll(ctx context.Context, p *Principal) ([]CredentialInfo, error) {
	list, _, err := v.ListCredentials(ctx, p, ListOptions{})
	return list, err
}
