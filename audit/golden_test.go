package audit

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

	"golang.org/x/mod/sumdb/note"
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
		out = append(out, v)
	}
	return out
}

func (v vector) num(t testing.TB, k string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(v.header[k], 10, 64)
	if err != nil {
		t.Fatalf("%s: %s: %v", v.file, k, err)
	}
	return n
}

func (v vector) str(t testing.TB, k string) string {
	t.Helper()
	s, err := strconv.Unquote(v.header[k])
	if err != nil {
		t.Fatalf("%s: %s is not a Go-quoted string: %v", v.file, k, err)
	}
	return s
}

// seedKeys builds the note signer and verifier key of an Ed25519 seed,
// restating the note key format rather than calling note.GenerateKey:
// <name>+<key hash, 8 hex>+<base64(0x01 || key)>, the key hash being the
// first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).
func seedKeys(t testing.TB, seedHex, name string) (note.Signer, string) {
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

func TestAuditVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(v.file, func(t *testing.T) {
			switch v.header["format"] {
			case "checkpoint":
				testCheckpointVector(t, v)
			case "entry":
				testEntryVector(t, v)
			default:
				t.Fatalf("unknown format %q", v.header["format"])
			}
		})
	}
}

func testCheckpointVector(t *testing.T, v vector) {
	signer, vkey := seedKeys(t, v.header["signer seed"], v.header["key name"])
	if vkey != v.header["verifier key"] {
		t.Fatalf("verifier key %s, want %s", vkey, v.header["verifier key"])
	}
	want := v.header["expect"]
	cp, err := OpenCheckpoint(v.body, vkey)
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
	tm, err := time.Parse(time.RFC3339, v.header["time"])
	if err != nil {
		t.Fatal(err)
	}
	in := &Checkpoint{Origin: v.header["origin"], Size: v.num(t, "size"), Head: v.header["head"], Time: tm}
	if *cp != *in {
		t.Fatalf("opened %+v, want %+v", *cp, *in)
	}
	signed, err := SignCheckpoint(in, signer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(signed, v.body) {
		t.Fatalf("signed\n%s\nwant\n%s", signed, v.body)
	}
}

func testEntryVector(t *testing.T, v vector) {
	after, afterHash := v.num(t, "after seq"), v.header["after hash"]
	want := v.header["expect"]
	line := bytes.TrimSuffix(v.body, []byte("\n"))
	// The fast and the strict path must reach the same verdict.
	for _, slow := range []bool{false, true} {
		c := NewChainAt(after, afterHash)
		c.slowOnly = slow
		err := c.Add(line)
		var ce *ChainError
		switch {
		case want == "ok" && err != nil:
			t.Fatalf("slow=%v: %v", slow, err)
		case want != "ok" && (!errors.As(err, &ce) || ce.Kind != want || ce.Seq != v.num(t, "expect seq")):
			t.Fatalf("slow=%v: err = %v, want seq %s %q", slow, err, v.header["expect seq"], want)
		}
	}
	if want != "ok" {
		return
	}
	tm, err := time.Parse(time.RFC3339Nano, v.header["time"])
	if err != nil {
		t.Fatal(err)
	}
	e := &Entry{Time: tm, Actor: Actor{v.str(t, "actor id"), v.str(t, "actor name"), v.str(t, "actor role")},
		Action: Action(v.str(t, "action")), Target: Target{v.str(t, "target kind"), v.str(t, "target id"), v.str(t, "target name")},
		Outcome: v.str(t, "outcome"), Reason: v.str(t, "reason"),
		Client: Client{v.str(t, "client ip"), v.str(t, "client user agent")}, RequestID: v.str(t, "request id")}
	e.Seal(after, afterHash)
	d := e.Digest()
	for _, c := range []struct{ name, got, want string }{
		{"canonical", string(e.Canonical()), v.header["canonical"]},
		{"digest", hex.EncodeToString(d[:]), v.header["digest"]},
		{"hash", e.Hash, v.header["hash"]},
		{"line", string(e.Line()), string(line)},
		{"redacted", string(Redact(e).Line()), v.header["redacted"]},
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
	if err := c.Add([]byte(v.header["redacted"])); err != nil {
		t.Fatal(err)
	}
	if seq, h := c.Head(); seq != e.Seq || h != e.Hash {
		t.Fatalf("redacted line heads %d %s, want %d %s", seq, h, e.Seq, e.Hash)
	}
}
