package transfer

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMakeArgon2dFixture writes testdata/argon2d_seed.kdbx, a KDBX 4 file
// whose key derivation is Argon2d, computed by Debian's argon2 tool (the
// reference implementation). Run with MAKE_FIXTURES=1; make_fixtures.sh
// then has keepassxc-cli open and save it, which proves it is a real
// Argon2d database.
func TestMakeArgon2dFixture(t *testing.T) {
	if os.Getenv("MAKE_FIXTURES") == "" {
		t.Skip("set MAKE_FIXTURES=1 to rebuild the Argon2d fixture")
	}
	r, err := DecodeKDBX(read(t, "good_kdbx31_aes.kdbx"), KDBXKey{Password: []byte("fixture-pass")})
	if err != nil {
		t.Fatal(err)
	}
	argon2d := func(composite, salt []byte) []byte {
		if bytes.ContainsAny(composite, "\x00\n") {
			t.Fatal("the composite key holds a NUL or newline; argon2's stdin cannot take it: pick another passphrase")
		}
		cmd := exec.Command("argon2", string(salt), "-d", "-t", "2", "-k", "1024", "-p", "1", "-l", "32", "-r")
		cmd.Stdin = bytes.NewReader(composite)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("argon2: %v", err)
		}
		k, err := hex.DecodeString(strings.TrimSpace(string(out)))
		if err != nil || len(k) != 32 {
			t.Fatalf("argon2 output %q", out)
		}
		return k
	}
	out, err := EncodeKDBX(r.Items, []byte("fixture-pass"), KDBXOptions{MemoryKiB: 1024, Iterations: 2, Lanes: 1, argon2d: argon2d})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/argon2d_seed.kdbx", out, 0o644); err != nil {
		t.Fatal(err)
	}
}
