package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"strongroom/transfer"
	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
	"testing"

	"github.com/pquerna/otp"
)

func TestNormaliseTOTP(t *testing.T) {
	cases := []struct{ in, want string }{
		{"JBSW Y3DP EHPK 3PXP", "otpauth://totp/Facebook%20page?issuer=Strongroom&secret=JBSWY3DPEHPK3PXP"},
		{"otpauth://totp/Meta:council?secret=jbswy3dpehpk3pxp&issuer=Meta&algorithm=SHA256&digits=8&period=60",
			"otpauth://totp/council?algorithm=SHA256&digits=8&issuer=Meta&period=60&secret=JBSWY3DPEHPK3PXP"},
		{"otpAuth://totp?secret=2", ""},          // found by the fuzzer: a 1-character secret
		{"otpauth://totp/x?secret=JBSWY3DP", ""}, // 40 bits is too short
		{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=1", ""},
	}
	for _, tc := range cases {
		got, err := normaliseTOTP(tc.in, "Facebook page")
		if tc.want == "" {
			if !errors.Is(err, access.ErrInvalid) {
				t.Errorf("%q accepted as %q", tc.in, got)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%q -> %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// Secret buffers go back to the pool wiped, and are reused.
func TestSecretBuffersWipedAndReused(t *testing.T) {
	cv := &credVersion{Password: []byte("hunter2 hunter2"), TOTP: []byte("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"), Notes: []byte("pin 1234")}
	s := newSecret(CredentialInfo{Name: "x"}, cv)
	if string(s.Password()) != "hunter2 hunter2" || string(s.Notes()) != "pin 1234" || !bytes.HasPrefix(s.TOTPURI(), []byte("otpauth://")) {
		t.Fatal("parts")
	}
	if cv.Password[0] != 0 || cv.Notes[0] != 0 {
		t.Fatal("the version's copies were not wiped")
	}
	buf := s.buf
	s.Destroy()
	if s.Password() != nil || s.Notes() != nil {
		t.Fatal("a destroyed secret still shows its parts")
	}
	if !bytes.Equal(buf.Bytes(), make([]byte, buf.Size())) {
		t.Fatal("the pooled buffer was not wiped")
	}
	s2 := newSecret(CredentialInfo{Name: "y"}, &credVersion{Password: []byte("p")})
	defer s2.Destroy()
	if s2.buf != buf {
		t.Fatal("the wiped buffer was not reused")
	}
	big := newSecret(CredentialInfo{Name: "z"}, &credVersion{Notes: bytes.Repeat([]byte("n"), 10000)})
	if len(big.Notes()) != 10000 || big.Password() != nil {
		t.Fatal("large secret")
	}
	bb := big.buf
	big.Destroy()
	if bb.IsAlive() {
		t.Fatal("a buffer larger than the pool's size was kept")
	}
}

func FuzzNormaliseTOTP(f *testing.F) {
	f.Add("otpauth://totp/Strongroom:x?secret=JBSWY3DPEHPK3PXP&issuer=Strongroom")
	f.Add("JBSW Y3DP EHPK 3PXP")
	f.Add("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP")
	f.Fuzz(func(t *testing.T, in string) {
		out, err := normaliseTOTP(in, "Facebook page")
		if err != nil {
			// An error never echoes what was given (it may be a seed): it is
			// one of a fixed set of messages.
			switch strings.TrimPrefix(err.Error(), "vault: invalid input: ") {
			case "the TOTP URI is not a valid otpauth://totp URI", "the TOTP URI's period must be 10 to 300 seconds",
				"the TOTP secret must be base32 of at least 16 characters (in an otpauth:// URI or on its own)":
			default:
				t.Fatalf("unexpected error text: %v", err)
			}
			return
		}
		if len(out) == 0 {
			if strings.TrimSpace(in) != "" {
				t.Fatalf("%q accepted as no TOTP at all", in)
			}
			return
		}
		// What is accepted is a canonical URI that parses back with a real secret.
		k, err := otp.NewKeyFromURL(string(out))
		if err != nil || !bytes.HasPrefix(out, []byte("otpauth://totp/")) || len(k.Secret()) < 16 {
			t.Fatalf("normalised %q to %q (%v)", in, out, err)
		}
	})
}

// A refused file's entry quotes the decoder's typed errors, whose text is
// fixed, and nothing of any other error, which could carry the file.
func TestRefusalReason(t *testing.T) {
	planted := "Planted-Pw-7f3Qz9xK!"
	_, fe := transfer.Decode("csv", []byte(planted+","+planted+"\n"), transfer.KDBXKey{}, nil)
	cases := []struct {
		err  error
		want string
	}{
		{fe, "file refused: csv: the header (line 1, 2 columns) has no column for the title"},
		{fmt.Errorf("wrapped: %w", transfer.ErrBadKey), "file refused: kdbx: wrong password or key file"},
		{fmt.Errorf("transfer: csv: the header has: %s", planted), "file refused: it could not be read"},
	}
	for _, c := range cases {
		got := refusalReason(c.err)
		if !strings.HasPrefix(got, c.want) || strings.Contains(got, planted) {
			t.Errorf("refusalReason(%v) = %q, want %q…", c.err, got, c.want)
		}
	}
}

// A head put back to an earlier copy (outside the vault) names a version
// that is no longer the newest: the next write must not overwrite the
// version already stored there, whatever the state check said.
func TestOldVersionsAreNeverRewritten(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.put(t, "Router", "first", false); err != nil {
		t.Fatal(err)
	}
	var headKey string
	var early []byte
	_ = f.st.View(ctx, func(tx storage.Tx) error {
		return tx.Scan(storage.BucketCredentials, nil, func(k, v []byte) (bool, error) {
			if strings.HasSuffix(string(k), "/head") {
				headKey, early = string(k), v
			}
			return true, nil
		})
	})
	if err := f.put(t, "Router", "second", false); err != nil {
		t.Fatal(err)
	}
	var v2 []byte
	_ = f.st.View(ctx, func(tx storage.Tx) error {
		v2 = tx.Get(storage.BucketCredentials, []byte(strings.TrimSuffix(headKey, "head")+"v/00000002"))
		return nil
	})
	if err := f.st.Update(ctx, func(tx storage.Tx) error { return tx.Put(storage.BucketCredentials, []byte(headKey), early) }); err != nil {
		t.Fatal(err)
	}
	if err := f.put(t, "Router", "third", false); !errors.Is(err, barrier.ErrRolledBack) {
		t.Fatalf("a write over a put-back head: %v", err)
	}
	_ = f.st.View(ctx, func(tx storage.Tx) error {
		if got := tx.Get(storage.BucketCredentials, []byte(strings.TrimSuffix(headKey, "head")+"v/00000002")); !bytes.Equal(got, v2) {
			t.Fatal("version 2 was rewritten")
		}
		return nil
	})
}
