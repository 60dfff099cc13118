package vault

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"strongroom/audit"
)

// keeper is an AutoUnsealer in memory: it keeps what Store is given.
type keeper struct {
	mu       sync.Mutex
	kek      []byte
	stores   int
	storeErr error
	loadErr  error
}

func (k *keeper) Store(kek []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.storeErr != nil {
		return k.storeErr
	}
	k.kek = bytes.Clone(kek)
	k.stores++
	return nil
}

func (k *keeper) Forget() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kek = nil
	return nil
}

func (k *keeper) Load() ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.loadErr != nil {
		return nil, k.loadErr
	}
	if k.kek == nil {
		return nil, errors.New("nothing kept")
	}
	return bytes.Clone(k.kek), nil
}

func newAutoFixture(t *testing.T, k *keeper) *fixture {
	return newFixtureConfig(t, BoltOptions{}, []string{"Chairman", "Vice-chair", "Clerk"}, 2, func(c *Config) { c.AutoUnseal = k })
}

func TestAutoUnseal(t *testing.T) {
	k := &keeper{}
	f := newAutoFixture(t, k)
	if k.stores != 1 || len(k.kek) != 32 {
		t.Fatalf("after the passphrase unseal the keeper has %d stores, %d bytes", k.stores, len(k.kek))
	}
	if err := f.v.AutoUnseal(ctx, req); err != nil || f.v.Sealed() {
		t.Fatalf("auto-unseal of an open vault: %v", err) // nothing to do
	}
	f.v.dropKeys() // a restart: the keys gone, the TPM's copy kept
	if err := f.v.AutoUnseal(ctx, req); err != nil {
		t.Fatal(err)
	}
	if f.v.Sealed() {
		t.Fatal("still sealed after auto-unseal")
	}
	e := f.last(t)
	if e.Action != audit.SysUnseal || e.Outcome != audit.OutcomeOK || !strings.HasPrefix(e.Reason, "auto-unseal: this machine's TPM") || e.Actor.Name != "tpm" {
		t.Fatalf("last entry %+v", e)
	}
	if _, err := f.v.ListCredentialsAll(ctx, f.admin); err != nil {
		t.Fatalf("open vault refuses a read: %v", err)
	}
}

func TestAutoUnsealRefusals(t *testing.T) {
	k := &keeper{}
	f := newAutoFixture(t, k)
	f.v.dropKeys() // a restart: the keys gone, the TPM's copy kept
	good := bytes.Clone(k.kek)

	k.loadErr = errors.New("tpmseal: the TPM refuses: a bound PCR changed")
	if err := f.v.AutoUnseal(ctx, req); !errors.Is(err, ErrAutoUnsealRefused) || !f.v.Sealed() {
		t.Fatalf("TPM refused: %v, sealed %v", err, f.v.Sealed())
	}
	if e := f.last(t); e.Action != audit.SysUnseal || e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "bound PCR changed") {
		t.Fatalf("last entry %+v", e)
	}

	k.loadErr, k.kek = nil, bytes.Repeat([]byte{1}, 32) // a copy that does not open this vault
	if err := f.v.AutoUnseal(ctx, req); !errors.Is(err, ErrAutoUnsealStale) || !f.v.Sealed() {
		t.Fatalf("stale copy: %v, sealed %v", err, f.v.Sealed())
	}
	if e := f.last(t); e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "no longer opens the vault") {
		t.Fatalf("last entry %+v", e)
	}

	k.kek = good
	if err := f.v.AutoUnseal(ctx, req); err != nil {
		t.Fatal(err)
	}
}

func TestAutoUnsealFollowsPassphrase(t *testing.T) {
	k := &keeper{}
	f := newAutoFixture(t, k)
	old := bytes.Clone(k.kek)
	if err := f.v.SetPassphrase(ctx, req, f.admin, []byte("a new operator passphrase")); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(old, k.kek) || k.stores != 2 {
		t.Fatalf("the keeper did not get the new KEK (%d stores)", k.stores)
	}
	f.v.dropKeys() // a restart: the keys gone, the TPM's copy kept
	if err := f.v.AutoUnseal(ctx, req); err != nil {
		t.Fatalf("after a passphrase change: %v", err)
	}
}

func TestAutoUnsealStoreFailureKeepsUnseal(t *testing.T) {
	k := &keeper{storeErr: errors.New("no TPM")}
	f := newAutoFixture(t, k) // the fixture's passphrase unseal must succeed
	if f.v.Sealed() {
		t.Fatal("a failed store sealed the vault")
	}
	plain := newFixture(t)
	if err := plain.v.AutoUnseal(ctx, req); !errors.Is(err, ErrNoAutoUnseal) {
		t.Fatalf("without an auto-unsealer: %v", err)
	}
}

func TestAutoUnsealFollowsRekey(t *testing.T) {
	k := &keeper{}
	f := newAutoFixture(t, k)
	old := bytes.Clone(k.kek)
	if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(old, k.kek) || k.stores != 2 {
		t.Fatalf("the keeper did not get the re-key's KEK (%d stores)", k.stores)
	}
	f.v.dropKeys() // a restart: the keys gone, the TPM's copy kept
	if err := f.v.AutoUnseal(ctx, req); err != nil {
		t.Fatalf("after a re-key: %v", err)
	}
}

// TestAutoUnsealRacesPassphrase: the server's start-up auto-unseal and an
// operator's passphrase at the same moment open the vault once, with one
// ok sys.unseal entry between them.
func TestAutoUnsealRacesPassphrase(t *testing.T) {
	for i := 0; i < 5; i++ {
		k := &keeper{}
		f := newAutoFixture(t, k)
		f.v.dropKeys() // a restart
		before := len(f.entries(t))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() { defer wg.Done(); errs[0] = f.v.AutoUnseal(ctx, req) }()
		go func() { defer wg.Done(); errs[1] = f.v.UnsealPassphrase(ctx, req, f.pass) }()
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || f.v.Sealed() {
			t.Fatalf("auto %v, passphrase %v, sealed %v", errs[0], errs[1], f.v.Sealed())
		}
		ok := 0
		for _, e := range f.entries(t)[before:] {
			if e.Action == audit.SysUnseal && e.Outcome == audit.OutcomeOK {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("%d ok sys.unseal entries, want 1", ok)
		}
	}
}

// A person's seal (the host may be compromised) removes the TPM's copy:
// the next restart does not reopen the vault by itself.
func TestAutoUnsealEndsAtAPersonsSeal(t *testing.T) {
	k := &keeper{}
	f := newAutoFixture(t, k)
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); !strings.Contains(e.Reason, "the TPM's copy of the key removed") {
		t.Fatalf("seal entry %+v", e)
	}
	if err := f.v.AutoUnseal(ctx, req); err == nil || !f.v.Sealed() {
		t.Fatalf("auto-unsealed after a person sealed: %v", err)
	}
	if k.kek != nil {
		t.Fatal("the copy was kept")
	}
}
