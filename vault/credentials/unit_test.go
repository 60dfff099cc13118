package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"strongroom/transfer"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
	"testing"
)

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
