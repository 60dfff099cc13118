package vault

import (
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/escrow"
)

func TestInitTwiceRefused(t *testing.T) {
	f := newFixture(t)
	_, err := f.v.Init(ctx, req, InitRequest{Shares: 1, Threshold: 1, Holders: []string{"A"}, Admin: "B", Passphrase: f.pass})
	if !errors.Is(err, ErrAlreadyInitialised) {
		t.Fatalf("err = %v", err)
	}
}

func TestInitValidation(t *testing.T) {
	v := New(Config{Store: nil})
	bad := []InitRequest{
		{Shares: 3, Threshold: 2, Holders: []string{"A", "B"}, Admin: "X", Passphrase: []byte("long enough passphrase")},
		{Shares: 3, Threshold: 1, Holders: []string{"A", "B", "C"}, Admin: "X", Passphrase: []byte("long enough passphrase")},
		{Shares: 2, Threshold: 2, Holders: []string{"A", "a"}, Admin: "X", Passphrase: []byte("long enough passphrase")},
		{Shares: 2, Threshold: 2, Holders: []string{"A", "B"}, Admin: "X", Passphrase: []byte("short")},
		{Shares: 2, Threshold: 2, Holders: []string{"A", "B"}, Admin: " X", Passphrase: []byte("long enough passphrase")},
	}
	for i, in := range bad {
		if _, err := v.Init(ctx, req, in); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: err = %v", i, err)
		}
	}
}

func TestPassphraseUnsealAndSeal(t *testing.T) {
	f := newFixture(t)
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	if !f.v.Sealed() {
		t.Fatal("still unsealed")
	}
	if _, err := f.v.ListCredentialsAll(ctx, f.admin); !errors.Is(err, ErrSealed) {
		t.Fatalf("sealed list err = %v", err)
	}
	if err := f.v.UnsealPassphrase(ctx, req, []byte("wrong passphrase!")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase err = %v", err)
	}
	if e := f.last(t); e.Action != "sys.unseal" || e.Outcome != audit.OutcomeDenied {
		t.Fatalf("last entry %+v", e)
	}
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil || f.v.Sealed() {
		t.Fatalf("unseal: %v", err)
	}
}

func TestShareUnsealEveryPair(t *testing.T) {
	f := newFixture(t)
	envs := f.init.Envelopes
	for i := range envs {
		for j := range envs {
			if err := f.v.Seal(ctx, req, f.admin); err != nil {
				t.Fatal(err)
			}
			p, err := f.v.UnsealShare(ctx, req, shareText(envs[i]))
			if err != nil || p.Have != 1 || p.Need != 2 || !p.Sealed {
				t.Fatalf("first share: %+v %v", p, err)
			}
			p, err = f.v.UnsealShare(ctx, req, envs[j].Share.Encode())
			if i == j {
				if !errors.Is(err, ErrDuplicateShare) {
					t.Fatalf("duplicate: err = %v", err)
				}
				f.v.ResetUnseal(ctx, req)
				continue
			}
			if err != nil || p.Sealed || f.v.Sealed() {
				t.Fatalf("pair %d,%d: %+v %v", i, j, p, err)
			}
			e := f.last(t)
			if e.Action != "escrow.recover" || !strings.Contains(e.Reason, envs[i].Holder) || !strings.Contains(e.Reason, envs[j].Holder) {
				t.Fatalf("recover entry %+v", e)
			}
			if !audit.IsIncident(e) {
				t.Fatal("recovery is not an incident")
			}
		}
	}
}

func TestShareErrors(t *testing.T) {
	f := newFixture(t)
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	good := f.init.Envelopes[0].Share
	other := *good
	rand.Read(other.VaultID[:])
	forged := *good
	forged.Value = make([]byte, len(good.Value))
	rand.Read(forged.Value)
	forged.Value[32] = good.Value[32]
	old := *good
	old.Generation = 0
	typo := []byte(good.Encode())
	typo[7] = map[bool]byte{true: 'B', false: 'A'}[typo[7] == 'A']
	cases := []struct {
		name string
		text string
		want error
	}{
		{"another vault", other.Encode(), ErrWrongVault},
		{"forged value", forged.Encode(), ErrShareMismatch},
		{"superseded", old.Encode(), ErrSuperseded},
		{"typo", string(typo), ErrInvalid},
		{"garbage", "hello", ErrInvalid},
	}
	for _, tc := range cases {
		_, err := f.v.UnsealShare(ctx, req, tc.text)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		if e := f.last(t); e.Action != "escrow.share" || e.Outcome != audit.OutcomeDenied {
			t.Errorf("%s: not recorded as denied: %+v", tc.name, e)
		}
	}
	if _, err := f.v.UnsealShare(ctx, req, string(typo)); err == nil || !strings.Contains(err.Error(), "typo in group 2") {
		t.Errorf("typo error does not name the group: %v", err)
	}
	if !f.v.Sealed() {
		t.Fatal("bad shares unsealed the vault")
	}
	var te *escrow.TypoError
	_, err := escrow.Decode(string(typo))
	if !errors.As(err, &te) {
		t.Fatal("typo not located")
	}
}

func TestRestartLeavesSealed(t *testing.T) {
	f := newFixture(t)
	if err := f.v.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := OpenBolt(f.dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := New(Config{Store: st, KDF: testKDF})
	defer v.Close()
	s, err := v.Status(ctx)
	if err != nil || !s.Initialized || !s.Sealed || s.Threshold != 2 || s.Shares != 3 {
		t.Fatalf("status %+v %v", s, err)
	}
}

// Sealing ends every session, and so does an unseal (a session from before
// a restart or crash does not come back): the next sign-in starts fresh.
// Resetting an envelope unseal in progress is recorded.
func TestSealAndUnsealEndSessions(t *testing.T) {
	f := newFixture(t)
	otl := f.init.Admin
	token, _, err := f.v.Login(ctx, req, LoginRequest{Name: otl.Name, Password: []byte(otl.Password),
		TOTP: code(t, otl.TOTPURI, f.clock.Now()), NewPassword: []byte("lantern-pebble-orchard-7")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.v.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.Seal(ctx, req, p); err != nil {
		t.Fatal(err)
	}
	var sealEntry *audit.Entry
	for _, e := range f.entries(t) {
		if e.Action == audit.SysSeal {
			sealEntry = e
		}
	}
	if sealEntry == nil || sealEntry.Reason != "1 sessions ended" {
		t.Fatalf("seal entry %+v", sealEntry)
	}
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Authenticate(ctx, token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a session from before the seal: %v", err)
	}

	// A session stored when the vault stopped without sealing (a restart):
	// the unseal ends it.
	f.clock.Advance(30 * time.Second)
	token, _, err = f.v.Login(ctx, req, LoginRequest{Name: otl.Name, Password: []byte("lantern-pebble-orchard-7"),
		TOTP: code(t, otl.TOTPURI, f.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	f.v.dropKeys() // as Close does, recording nothing
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); e.Action != audit.SysUnseal || !strings.HasSuffix(e.Reason, "1 sessions ended") {
		t.Fatalf("unseal entry %+v", e)
	}
	if _, err := f.v.Authenticate(ctx, token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a session from before the unseal: %v", err)
	}

	f.v.dropKeys()
	if _, err := f.v.UnsealShare(ctx, req, shareText(f.init.Envelopes[0])); err != nil {
		t.Fatal(err)
	}
	if err := f.v.ResetUnseal(ctx, req); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); e.Action != audit.SysUnsealReset || !strings.Contains(e.Reason, "1 shares given so far were forgotten") || e.Client.IP == "" {
		t.Fatalf("reset entry %+v", e)
	}
}

// Two unseals at once: one opens the vault and is recorded; the other
// finds it open and records nothing (no unseal on record that did not
// happen, no sessions ended after the first one opened).
func TestConcurrentUnsealsRecordOne(t *testing.T) {
	f := newFixture(t)
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	before := len(f.entries(t))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f.v.UnsealPassphrase(ctx, req, f.pass) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	unseals := 0
	for _, e := range f.entries(t)[before:] {
		if e.Action == audit.SysUnseal {
			unseals++
		}
	}
	if unseals != 1 || f.v.Sealed() {
		t.Fatalf("%d unseals recorded; sealed %v", unseals, f.v.Sealed())
	}
}
