package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"strongroom/internal/vectors"
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

func TestFormatVectors(t *testing.T) {
	for _, v := range vectors.Read(t, "testdata") {
		t.Run(v.File, func(t *testing.T) {
			switch v.Header["format"] {
			case "sealed record v1":
				v.Body = v.Hex(t, string(v.Body)) // the record's bytes, written in hex
				testSealedRecordVector(t, v)
			case "backup v1":
				testBackupVector(t, v)
			default:
				t.Fatalf("unknown format %q", v.Header["format"])
			}
		})
	}
}

func testSealedRecordVector(t *testing.T, v vectors.Vector) {
	key := v.Hex(t, v.Header["key"])
	path := v.Header["path"]
	pt, err := barrier.OpenRecord(key, v.Body, path)
	if want := v.Header["expect"]; want != "ok" {
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
	if string(pt) != v.Header["plaintext"] {
		t.Fatalf("opened %q, want the header's plaintext", pt)
	}
	term, gotPath, _, err := barrier.RecordHeader(v.Body)
	if err != nil || uint64(term) != v.Num(t, "term") || gotPath != path {
		t.Fatalf("header: term %d path %q (%v)", term, gotPath, err)
	}
	blob, err := barrier.SealRecordNonce(key, uint32(v.Num(t, "term")), path, pt, v.Hex(t, v.Header["nonce"]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blob, v.Body) {
		t.Fatalf("sealed\n%x\nwant\n%x", blob, v.Body)
	}
}

func testBackupVector(t *testing.T, v vectors.Vector) {
	signer, vkey := vectors.SeedKeys(t, v.Header["signer seed"], v.Header["key name"])
	if vkey != v.Header["verifier key"] {
		t.Fatalf("verifier key %s, want %s", vkey, v.Header["verifier key"])
	}
	b, err := parseBackup(bytes.NewReader(v.Body))
	want := v.Header["expect"]
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
	db := []byte(v.Header["database"])
	sum := sha256.Sum256(db)
	created, err := time.Parse(time.RFC3339, v.Header["created"])
	if err != nil {
		t.Fatal(err)
	}
	m := Manifest{VaultID: v.Header["vault id"], Created: created, HeadSeq: v.Num(t, "audit head seq"),
		HeadHash: v.Header["audit head hash"], Generation: uint32(v.Num(t, "escrow generation")),
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
	if !bytes.Equal(file.Bytes(), v.Body) {
		t.Fatalf("wrote\n%q\nwant\n%q", file.Bytes(), v.Body)
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
