package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

var ctx = context.Background()

// fixture is one set of accounts on a real store and barrier, with a
// clock the test moves and the interleaving hook.
type fixture struct {
	st  *storage.Bolt
	a   *Accounts
	now time.Time

	mu    sync.Mutex
	hooks map[string]func()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := storage.OpenBolt(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, now: time.Date(2026, 12, 1, 9, 0, 10, 0, time.UTC), hooks: map[string]func(){}}
	b := barrier.New(st, func(ctx context.Context, fn func(storage.Tx) error) error { return access.Commit(ctx, st, fn) })
	key, root := make([]byte, 32), make([]byte, 32)
	rand.Read(key)
	rand.Read(root)
	b.Install(barrier.NewKeyring(1, map[uint32][]byte{1: key}, root), nil)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.a = New(Config{Store: st, Log: auditlog.New(st, f.clock, logger), Now: f.clock,
		PasswordKDF: barrier.KDFParams{Memory: 8 * 1024, Time: 1, Threads: 1}, Idle: 30 * time.Minute, MaxAge: 12 * time.Hour,
		Keys: b, Routine: func(storage.Tx) error { return nil }, Pause: f.pause, Logger: logger})
	t.Cleanup(func() { b.Drop(nil); st.Close() })
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// on runs fn (once) when a login reaches point.
func (f *fixture) on(point string, fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks[point] = fn
}

func (f *fixture) pause(point string) {
	f.mu.Lock()
	fn := f.hooks[point]
	delete(f.hooks, point)
	f.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// account is an account's name, password and TOTP seed.
type account struct {
	name     string
	password []byte
	secret   string
}

func (f *fixture) addUser(t *testing.T, name string, role access.Role) account {
	t.Helper()
	pu, err := f.a.Prepare(name, role)
	if err != nil {
		t.Fatal(err)
	}
	pu.Rec.MustChange = false
	err = f.a.keys.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			return f.a.Insert(tx, auditlog.Request{}, audit.Actor{Role: "system"}, pu.Rec)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	k, err := otp.NewKeyFromURL(pu.Login.TOTPURI)
	if err != nil {
		t.Fatal(err)
	}
	return account{name: name, password: []byte(pu.Login.Password), secret: k.Secret()}
}

// code is a's TOTP code now.
func (f *fixture) code(t *testing.T, a account) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(a.secret, f.clock(), totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// entries are the audit log's entries, oldest first, and their raw bytes.
func (f *fixture) entries(t *testing.T) ([]audit.Entry, [][]byte) {
	t.Helper()
	var es []audit.Entry
	var raws [][]byte
	err := f.st.View(ctx, func(tx storage.Tx) error {
		return tx.Scan(storage.BucketAudit, nil, func(k, v []byte) (bool, error) {
			var e audit.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return false, err
			}
			es = append(es, e)
			raws = append(raws, append([]byte(nil), v...))
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return es, raws
}

func (f *fixture) last(t *testing.T) audit.Entry {
	t.Helper()
	es, _ := f.entries(t)
	if len(es) == 0 {
		t.Fatal("no audit entry")
	}
	return es[len(es)-1]
}
