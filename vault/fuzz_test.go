package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/pquerna/otp"
	"golang.org/x/crypto/chacha20poly1305"

	"strongroom/vault/barrier"
)

func FuzzOpenBlob(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	const path = "credentials/abc/v/00000001"
	// Built here with a fixed nonce, restating the format independently, so
	// every fuzz worker process has the same seed.
	aead, _ := chacha20poly1305.NewX(key)
	hdr := append([]byte{1, 0, 0, 0, 1, 0, byte(len(path))}, path...)
	good := aead.Seal(append(append([]byte(nil), hdr...), make([]byte, 24)...), make([]byte, 24), []byte(`{"password":"x"}`), hdr)
	if pt, err := barrier.OpenRecord(key, good, path); err != nil || string(pt) != `{"password":"x"}` {
		f.Fatalf("format drifted from the spec: %v", err)
	}
	f.Add(good)
	f.Add([]byte{1, 0, 0, 0, 1, 0, 3, 'a', 'b', 'c'})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, blob []byte) {
		pt, err := barrier.OpenRecord(key, blob, path)
		// Authenticated encryption: only the blob we sealed opens.
		if err == nil && !bytes.Equal(blob, good) {
			t.Fatalf("a modified blob opened: %q", pt)
		}
	})
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

func FuzzParseBackup(f *testing.F) {
	db := []byte("not really a database, but framed correctly")
	sum := sha256.Sum256(db)
	man := fmt.Sprintf(`{"vault_id":"00","size":%d,"sha256":"%s"}`, len(db), hex.EncodeToString(sum[:]))
	signed := man + "\n\n— key sig\n"
	f.Add([]byte(fmt.Sprintf("%s%d\n%s%s", backupMagic, len(signed), signed, db)))
	f.Add([]byte(backupMagic + "9999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseBackup(bytes.NewReader(data))
		if err != nil {
			return
		}
		got := sha256.Sum256(b.db)
		if int64(len(b.db)) != b.Manifest.Size || hex.EncodeToString(got[:]) != b.Manifest.SHA256 {
			t.Fatal("accepted a backup whose database does not match its manifest")
		}
	})
}
