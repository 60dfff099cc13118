package vault

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"strongroom/vault/barrier"

	"golang.org/x/mod/sumdb/note"
)

// Golden vectors in testdata/good_*.txt and fail_*.txt for the sealed record
// format v1 (fixed key and nonce → exact bytes) and the backup file v1
// (fixed signing key and manifest → exact file). They are never
// regenerated: every database and backup ever written must open, so a
// change that moves encoder and decoder together still fails here. A new
// version gets new files.
//
// A vector file is header lines "name: value" (lines starting with # are
// comments), a blank line, then the body: the sealed record in hex (white
// space ignored) or the backup file's exact bytes.

type vector struct {
	file   string
	header map[string]string
	body   []byte
}

func readVectors(t testing.TB) []vector {
	t.Helper()
	good, _ := filepath.Glob(filepath.Join("testdata", "good_*.txt"))
	fail, _ := filepath.Glob(filepath.Join("testdata", "fail_*.txt"))
	if len(good) == 0 || len(fail) == 0 {
		t.Fatal("no golden vectors in testdata")
	}
	var out []vector
	for _, f := range append(good, fail...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		head, body, ok := bytes.Cut(data, []byte("\n\n"))
		if !ok {
			t.Fatalf("%s: no blank line after the header", f)
		}
		v := vector{file: filepath.Base(f), header: map[string]string{}, body: body}
		for _, line := range strings.Split(string(head), "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			k, val, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("%s: header line %q is not \"name: value\"", f, line)
			}
			v.header[k] = val
		}
		if v.header["format"] == "sealed record v1" {
			v.body = v.hex(t, string(body))
		}
		out = append(out, v)
	}
	return out
}

func (v vector) hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("%s: %v", v.file, err)
	}
	return b
}

func (v vector) num(t testing.TB, k string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(v.header[k], 10, 64)
	if err != nil {
		t.Fatalf("%s: %s: %v", v.file, k, err)
	}
	return n
}

func TestFormatVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(v.file, func(t *testing.T) {
			switch v.header["format"] {
			case "sealed record v1":
				testSealedRecordVector(t, v)
			case "backup v1":
				testBackupVector(t, v)
			default:
				t.Fatalf("unknown format %q", v.header["format"])
			}
		})
	}
}

func testSealedRecordVector(t *testing.T, v vector) {
	key := v.hex(t, v.header["key"])
	path := v.header["path"]
	pt, err := barrier.OpenRecord(key, v.body, path)
	if want := v.header["expect"]; want != "ok" {
		kinds := map[string]error{"tampered": ErrTampered, "misplaced": ErrMisplaced,
			"unsupported version": ErrBlobVersion, "truncated": ErrBlobTruncated}
		if kinds[want] == nil || !errors.Is(err, kinds[want]) || pt != nil {
			t.Fatalf("err = %v, want %q", err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if string(pt) != v.header["plaintext"] {
		t.Fatalf("opened %q, want the header's plaintext", pt)
	}
	term, gotPath, _, err := barrier.RecordHeader(v.body)
	if err != nil || uint64(term) != v.num(t, "term") || gotPath != path {
		t.Fatalf("header: term %d path %q (%v)", term, gotPath, err)
	}
	blob, err := barrier.SealRecordNonce(key, uint32(v.num(t, "term")), path, pt, v.hex(t, v.header["nonce"]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blob, v.body) {
		t.Fatalf("sealed\n%x\nwant\n%x", blob, v.body)
	}
}

// seedSigner is the note signer of an Ed25519 seed and its verifier key,
// restating the note key format: <name>+<key hash, 8 hex>+<base64(0x01 ||
// key)>, the hash being the first 4 bytes of SHA-256(name "\n" 0x01 key).
func seedSigner(t testing.TB, seedHex, name string) (note.Signer, string) {
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

func testBackupVector(t *testing.T, v vector) {
	signer, vkey := seedSigner(t, v.header["signer seed"], v.header["key name"])
	if vkey != v.header["verifier key"] {
		t.Fatalf("verifier key %s, want %s", vkey, v.header["verifier key"])
	}
	b, err := parseBackup(bytes.NewReader(v.body))
	want := v.header["expect"]
	kinds := map[string]error{"not a backup": ErrNotBackup, "truncated": ErrBackupTruncate, "corrupt": ErrBackupCorrupt}
	if kind := kinds[want]; kind != nil {
		if !errors.Is(err, kind) || b != nil {
			t.Fatalf("err = %v, want %q", err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	// The manifest's signature, as CheckBackup checks it with --key.
	_, err = note.Open(b.signed, note.VerifierList(mustVerifier(t, vkey)))
	var invalid *note.InvalidSignatureError
	var unverified *note.UnverifiedNoteError
	switch want {
	case "edited":
		if !errors.As(err, &invalid) {
			t.Fatalf("err = %v, want an invalid signature", err)
		}
		return
	case "another vault":
		if !errors.As(err, &unverified) {
			t.Fatalf("err = %v, want no signature by the key", err)
		}
		return
	case "ok":
	default:
		t.Fatalf("unknown expect %q", want)
	}
	if err != nil {
		t.Fatalf("manifest signature: %v", err)
	}
	db := []byte(v.header["database"])
	sum := sha256.Sum256(db)
	created, err := time.Parse(time.RFC3339, v.header["created"])
	if err != nil {
		t.Fatal(err)
	}
	m := Manifest{VaultID: v.header["vault id"], Created: created, HeadSeq: v.num(t, "audit head seq"),
		HeadHash: v.header["audit head hash"], Generation: uint32(v.num(t, "escrow generation")),
		Size: int64(len(db)), SHA256: hex.EncodeToString(sum[:])}
	if !b.Manifest.Created.Equal(m.Created) || !bytes.Equal(b.db, db) {
		t.Fatalf("parsed %+v, want %+v and the header's database", b.Manifest, m)
	}
	b.Manifest.Created = m.Created
	if b.Manifest != m {
		t.Fatalf("parsed %+v, want %+v", b.Manifest, m)
	}
	signed, err := signManifest(&m, signer)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := writeBackupFrame(&file, signed, bytes.NewReader(db)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file.Bytes(), v.body) {
		t.Fatalf("wrote\n%q\nwant\n%q", file.Bytes(), v.body)
	}
}

func mustVerifier(t testing.TB, vkey string) note.Verifier {
	t.Helper()
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return verifier
}
