package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"strongroom/internal/vectors"
)

// Golden vectors in testdata/good_*.txt and fail_*.txt: signed checkpoints
// (fixed Ed25519 seed → exact note) and single entries (fixed fields → exact
// canonical bytes, digest, hash, stored line and redacted line). They are
// never regenerated: outside verifiers rely on these bytes, so a change that
// moves encoder and decoder together still fails here. good_chain.jsonl, a
// whole export, is checked by TestGoldenChain.
//
// A vector file is header lines "name: value" (lines starting with # are
// comments), a blank line, then the body: the exact bytes of the note or
// line. String fields of entries are written Go-quoted in the header.

func TestAuditVectors(t *testing.T) {
	for _, v := range vectors.Read(t, "testdata") {
		t.Run(v.File, func(t *testing.T) {
			switch v.Header["format"] {
			case "checkpoint":
				testCheckpointVector(t, v)
			case "cosigned checkpoint":
				testCosignedVector(t, v)
			case "entry":
				testEntryVector(t, v)
			default:
				t.Fatalf("unknown format %q", v.Header["format"])
			}
		})
	}
}

func testCheckpointVector(t *testing.T, v vectors.Vector) {
	signer, vkey := vectors.SeedKeys(t, v.Header["signer seed"], v.Header["key name"])
	if vkey != v.Header["verifier key"] {
		t.Fatalf("verifier key %s, want %s", vkey, v.Header["verifier key"])
	}
	want := v.Header["expect"]
	cp, err := OpenCheckpoint(v.Body, vkey)
	if want != "ok" {
		var se *SignatureError
		if !errors.As(err, &se) || se.Kind != want {
			t.Fatalf("err = %v, want %q", err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	tm, err := time.Parse(time.RFC3339, v.Header["time"])
	if err != nil {
		t.Fatal(err)
	}
	in := &Checkpoint{Origin: v.Header["origin"], Size: v.Num(t, "size"), Head: v.Header["head"], Time: tm}
	if *cp != *in {
		t.Fatalf("opened %+v, want %+v", *cp, *in)
	}
	signed, err := SignCheckpoint(in, signer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(signed, v.Body) {
		t.Fatalf("signed\n%s\nwant\n%s", signed, v.Body)
	}
}

func testEntryVector(t *testing.T, v vectors.Vector) {
	after, afterHash := v.Num(t, "after seq"), v.Header["after hash"]
	want := v.Header["expect"]
	line := bytes.TrimSuffix(v.Body, []byte("\n"))
	// The fast and the strict path must reach the same verdict.
	for _, slow := range []bool{false, true} {
		c := NewChainAt(after, afterHash)
		c.slowOnly = slow
		err := c.Add(line)
		var ce *ChainError
		switch {
		case want == "ok" && err != nil:
			t.Fatalf("slow=%v: %v", slow, err)
		case want != "ok" && (!errors.As(err, &ce) || ce.Kind != want || ce.Seq != v.Num(t, "expect seq")):
			t.Fatalf("slow=%v: err = %v, want seq %s %q", slow, err, v.Header["expect seq"], want)
		}
	}
	if want != "ok" {
		return
	}
	tm, err := time.Parse(time.RFC3339Nano, v.Header["time"])
	if err != nil {
		t.Fatal(err)
	}
	e := &Entry{Time: tm, Actor: Actor{v.Str(t, "actor id"), v.Str(t, "actor name"), v.Str(t, "actor role")},
		Action: Action(v.Str(t, "action")), Target: Target{v.Str(t, "target kind"), v.Str(t, "target id"), v.Str(t, "target name")},
		Outcome: v.Str(t, "outcome"), Reason: v.Str(t, "reason"),
		Client: Client{v.Str(t, "client ip"), v.Str(t, "client user agent")}, RequestID: v.Str(t, "request id")}
	e.Seal(after, afterHash)
	d := e.Digest()
	for _, c := range []struct{ name, got, want string }{
		{"canonical", string(e.Canonical()), v.Header["canonical"]},
		{"digest", hex.EncodeToString(d[:]), v.Header["digest"]},
		{"hash", e.Hash, v.Header["hash"]},
		{"line", string(e.Line()), string(line)},
		{"redacted", string(Redact(e).Line()), v.Header["redacted"]},
	} {
		if c.got != c.want {
			t.Fatalf("%s:\n%s\nwant\n%s", c.name, c.got, c.want)
		}
	}
	parsed, err := ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.Time.Equal(e.Time) || parsed.Time.Location() != time.UTC {
		t.Fatalf("parsed time %v, want %v", parsed.Time, e.Time)
	}
	parsed.Time = e.Time
	if *parsed != *e {
		t.Fatalf("parsed %+v, want %+v", *parsed, *e)
	}
	// The redacted line stands in for the entry with the same head.
	c := NewChainAt(after, afterHash)
	if err := c.Add([]byte(v.Header["redacted"])); err != nil {
		t.Fatal(err)
	}
	if seq, h := c.Head(); seq != e.Seq || h != e.Hash {
		t.Fatalf("redacted line heads %d %s, want %d %s", seq, h, e.Seq, e.Hash)
	}
}
