package barrier

import (
	"bytes"
	"errors"
	"testing"

	"strongroom/internal/vectors"
)

// Golden vectors in testdata/good_*.txt and fail_*.txt for the sealed record
// format v1 (fixed key and nonce → exact bytes). They are never
// regenerated: every database ever written must open, so a change that
// moves encoder and decoder together still fails here. A new version gets
// new files. A vector file is header lines "name: value" (# starts a
// comment), a blank line, then the record in hex (white space ignored).
func TestFormatVectors(t *testing.T) {
	for _, v := range vectors.Read(t, "testdata") {
		t.Run(v.File, func(t *testing.T) {
			if v.Header["format"] != "sealed record v1" {
				t.Fatalf("unknown format %q", v.Header["format"])
			}
			v.Body = v.Hex(t, string(v.Body)) // the record's bytes, written in hex
			testSealedRecordVector(t, v)
		})
	}
}

func testSealedRecordVector(t *testing.T, v vectors.Vector) {
	key := v.Hex(t, v.Header["key"])
	path := v.Header["path"]
	pt, err := OpenRecord(key, v.Body, path)
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
	term, gotPath, _, err := RecordHeader(v.Body)
	if err != nil || uint64(term) != v.Num(t, "term") || gotPath != path {
		t.Fatalf("header: term %d path %q (%v)", term, gotPath, err)
	}
	blob, err := SealRecordNonce(key, uint32(v.Num(t, "term")), path, pt, v.Hex(t, v.Header["nonce"]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blob, v.Body) {
		t.Fatalf("sealed\n%x\nwant\n%x", blob, v.Body)
	}
}
