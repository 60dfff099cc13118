package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"strongroom/internal/vectors"

	"golang.org/x/mod/sumdb/note"
)

// Golden vectors in testdata/good_*.txt and fail_*.txt for the backup file
// v1 (fixed signing key and manifest → exact file). They are never
// regenerated: every backup ever written must open, so a change that moves
// encoder and decoder together still fails here. A new version gets new
// files. A vector file is header lines "name: value" (# starts a comment),
// a blank line, then the backup file's exact bytes.
func TestFormatVectors(t *testing.T) {
	for _, v := range vectors.Read(t, "testdata") {
		t.Run(v.File, func(t *testing.T) {
			if v.Header["format"] != "backup v1" {
				t.Fatalf("unknown format %q", v.Header["format"])
			}
			testBackupVector(t, v)
		})
	}
}

func testBackupVector(t *testing.T, v vectors.Vector) {
	signer, vkey := vectors.SeedKeys(t, v.Header["signer seed"], v.Header["key name"])
	if vkey != v.Header["verifier key"] {
		t.Fatalf("verifier key %s, want %s", vkey, v.Header["verifier key"])
	}
	b, err := Parse(bytes.NewReader(v.Body))
	want := v.Header["expect"]
	kinds := map[string]error{"not a backup": ErrNotBackup, "truncated": ErrTruncated, "corrupt": ErrCorrupt}
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
	_, err = note.Open(b.Signed, note.VerifierList(mustVerifier(t, vkey)))
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
	if !b.Manifest.Created.Equal(m.Created) || !bytes.Equal(b.DB, db) {
		t.Fatalf("parsed %+v, want %+v and the header's database", b.Manifest, m)
	}
	b.Manifest.Created = m.Created
	if b.Manifest != m {
		t.Fatalf("parsed %+v, want %+v", b.Manifest, m)
	}
	signed, err := Sign(&m, signer)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := WriteFrame(&file, signed, bytes.NewReader(db)); err != nil {
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
