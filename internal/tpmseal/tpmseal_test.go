package tpmseal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"strongroom/internal/swtpmtest"
	"strongroom/internal/tpmseal"
)

func secret() []byte { return bytes.Repeat([]byte{0xa7}, 32) }

func sealer(t *testing.T, tp *swtpmtest.TPM, pcrs ...int) *tpmseal.Sealer {
	return &tpmseal.Sealer{Device: tp.Socket, File: filepath.Join(t.TempDir(), "tpm-seal"), PCRs: pcrs}
}

func TestRoundTrip(t *testing.T) {
	tp := swtpmtest.Start(t)
	s := sealer(t, tp, 0, 7)
	if _, err := s.Load(); !errors.Is(err, tpmseal.ErrNoBlob) {
		t.Fatalf("load before store: %v, want ErrNoBlob", err)
	}
	if err := s.Store(secret()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.File)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("blob file mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(s.File)
	if bytes.Contains(b, secret()) {
		t.Fatal("the blob file holds the secret in the clear")
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, secret()) {
		t.Fatalf("unsealed %x", got)
	}
	// An unbound PCR may change.
	tp.Extend(t, 16)
	if _, err := s.Load(); err != nil {
		t.Fatalf("after extending an unbound PCR: %v", err)
	}
}

func TestBoundPCRChangeRefuses(t *testing.T) {
	tp := swtpmtest.Start(t)
	s := sealer(t, tp, 7)
	if err := s.Store(secret()); err != nil {
		t.Fatal(err)
	}
	tp.Extend(t, 7)
	got, err := s.Load()
	if !errors.Is(err, tpmseal.ErrPolicy) {
		t.Fatalf("after extending PCR 7: %x, %v; want ErrPolicy", got, err)
	}
	// Sealing again under the new value works (the manual unseal's renewal).
	if err := s.Store(secret()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
}

func TestOtherTPMRefuses(t *testing.T) {
	a, b := swtpmtest.Start(t), swtpmtest.Start(t)
	s := sealer(t, a, 7)
	if err := s.Store(secret()); err != nil {
		t.Fatal(err)
	}
	other := &tpmseal.Sealer{Device: b.Socket, File: s.File, PCRs: s.PCRs}
	if got, err := other.Load(); !errors.Is(err, tpmseal.ErrBlob) {
		t.Fatalf("blob from another TPM: %x, %v; want ErrBlob", got, err)
	}
}

func TestDamagedBlobRefuses(t *testing.T) {
	tp := swtpmtest.Start(t)
	s := sealer(t, tp, 7)
	if err := s.Store(secret()); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(s.File)
	cases := map[string]func([]byte) []byte{
		"version":     func(b []byte) []byte { b[0] = 2; return b },
		"pcr mask":    func(b []byte) []byte { b[4] = 0x81; return b }, // PCRs 0 and 7: another policy
		"private bit": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"cut":         func(b []byte) []byte { return b[:len(b)-3] },
		"trailing":    func(b []byte) []byte { return append(b, 0) },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(s.File, change(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load()
			if err == nil {
				t.Fatalf("loaded %x from a damaged blob", got)
			}
			if !errors.Is(err, tpmseal.ErrBlob) && !errors.Is(err, tpmseal.ErrPolicy) {
				t.Fatalf("error %v, want ErrBlob or ErrPolicy", err)
			}
		})
	}
}

func TestNoTPM(t *testing.T) {
	err := tpmseal.Probe(filepath.Join(t.TempDir(), "absent"))
	if !errors.Is(err, tpmseal.ErrNoTPM) {
		t.Fatalf("probe of an absent device: %v, want ErrNoTPM", err)
	}
	f := filepath.Join(t.TempDir(), "plain")
	_ = os.WriteFile(f, nil, 0o600)
	if err := tpmseal.Probe(f); !errors.Is(err, tpmseal.ErrNoTPM) {
		t.Fatalf("probe of a plain file: %v, want ErrNoTPM", err)
	}
}

func TestParsePCRs(t *testing.T) {
	for _, good := range []string{"7", "0,7", "0, 2,4,7", "7,15"} {
		if _, err := tpmseal.ParsePCRs(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", "24", "23", "16", "-1", "a", "0,1,2,3,4,5,6,7,8", "7,", "8,9,15"} { // 16-23: resettable or late launch; none of 0-7: no boot measured
		if _, err := tpmseal.ParsePCRs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0x80, 0, 2, 0, 0, 0, 1, 0})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		mask, pub, priv, err := tpmseal.Decode(b)
		if err != nil {
			return
		}
		if again := tpmseal.Encode(mask, pub, priv); !bytes.Equal(again, b) {
			t.Fatalf("decode/encode changed %x to %x", b, again)
		}
	})
}
