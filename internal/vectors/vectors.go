// Package vectors reads the golden test vectors kept in testdata folders:
// files named good_*.txt and fail_*.txt, each "name: value" header lines
// (lines starting with # are comments), a blank line, then the body, the
// exact bytes a format must produce. The tests of audit, escrow and vault
// read their vectors with it, so the file format is one thing.
package vectors

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// Vector is one vector file.
type Vector struct {
	File   string
	Header map[string]string
	Body   []byte
}

// Read reads every good_*.txt, then every fail_*.txt, in dir; it fails the
// test if there are none of either.
func Read(t testing.TB, dir string) []Vector {
	t.Helper()
	good, _ := filepath.Glob(filepath.Join(dir, "good_*.txt"))
	fail, _ := filepath.Glob(filepath.Join(dir, "fail_*.txt"))
	if len(good) == 0 || len(fail) == 0 {
		t.Fatal("no golden vectors in " + dir)
	}
	var out []Vector
	for _, f := range append(good, fail...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		head, body, ok := bytes.Cut(data, []byte("\n\n"))
		if !ok {
			t.Fatalf("%s: no blank line after the header", f)
		}
		v := Vector{File: filepath.Base(f), Header: map[string]string{}, Body: body}
		for _, line := range strings.Split(string(head), "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			k, val, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("%s: header line %q is not \"name: value\"", f, line)
			}
			v.Header[k] = val
		}
		out = append(out, v)
	}
	return out
}

// Num is header k as a decimal number.
func (v Vector) Num(t testing.TB, k string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(v.Header[k], 10, 64)
	if err != nil {
		t.Fatalf("%s: %s: %v", v.File, k, err)
	}
	return n
}

// Str is header k, written Go-quoted.
func (v Vector) Str(t testing.TB, k string) string {
	t.Helper()
	s, err := strconv.Unquote(v.Header[k])
	if err != nil {
		t.Fatalf("%s: %s is not a Go-quoted string: %v", v.File, k, err)
	}
	return s
}

// Hex decodes s, hex with any white space.
func (v Vector) Hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("%s: %v", v.File, err)
	}
	return b
}

// SeedKeys builds the note signer and verifier key of an Ed25519 seed,
// restating the note key format rather than calling note.GenerateKey:
// <name>+<key hash, 8 hex>+<base64(0x01 || key)>, the key hash being the
// first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).
func SeedKeys(t testing.TB, seedHex, name string) (note.Signer, string) {
	t.Helper()
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("bad seed %q", seedHex)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	h := sha256.Sum256(append([]byte(name+"\n\x01"), pub...))
	id := fmt.Sprintf("%08x", binary.BigEndian.Uint32(h[:4]))
	signer, err := note.NewSigner("PRIVATE+KEY+" + name + "+" + id + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed...)))
	if err != nil {
		t.Fatal(err)
	}
	return signer, name + "+" + id + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, pub...))
}
