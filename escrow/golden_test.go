package escrow

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"strongroom/internal/vectors"
)

// Golden vectors for share encoding v1, in testdata/good_* and fail_*. They
// are never regenerated: every reader of v1 must read these bytes for ever
// (the shares are printed on paper), so a change that moves encoder and
// decoder together still fails here. A new encoding gets new files.
//
// A vector file is header lines "name: value" (lines starting with # are
// comments), a blank line, then the body: the share as printed. "typed:
// yes" marks a holder's typing (decoded only); "printed: yes" a body that
// is exactly the rows the envelopes print.

// share builds the vector's share from its header.
func shareOf(t *testing.T, v vectors.Vector) *Share {
	t.Helper()
	num := func(k string, bits int) uint64 {
		n, err := strconv.ParseUint(v.Header[k], 10, bits)
		if err != nil {
			t.Fatalf("%s: %s: %v", v.File, k, err)
		}
		return n
	}
	id, err1 := hex.DecodeString(v.Header["vault id"])
	value, err2 := hex.DecodeString(v.Header["share value"])
	if err1 != nil || err2 != nil || len(id) != VaultIDLen {
		t.Fatalf("%s: bad vault id or share value", v.File)
	}
	s := &Share{Generation: uint32(num("generation", 32)), Index: uint8(num("share number", 8)),
		Threshold: uint8(num("threshold", 8)), Value: value}
	copy(s.VaultID[:], id)
	return s
}

func TestShareVectors(t *testing.T) {
	for _, v := range vectors.Read(t, "testdata") {
		t.Run(v.File, func(t *testing.T) {
			switch want := v.Header["expect"]; {
			case want == "ok":
				testGoodShare(t, v)
			case want == "":
				t.Fatal("no expect header")
			default:
				testFailShare(t, v, want)
			}
		})
	}
}

func testGoodShare(t *testing.T, v vectors.Vector) {
	want := shareOf(t, v)
	got, err := Decode(string(v.Body))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got.VaultID != want.VaultID || got.Generation != want.Generation || got.Index != want.Index ||
		got.Threshold != want.Threshold || !bytes.Equal(got.Value, want.Value) {
		t.Fatalf("decoded %+v, want the share in the header", *got)
	}
	c := got.Commitment()
	if hex.EncodeToString(c[:]) != v.Header["commitment"] {
		t.Fatalf("commitment %x, want %s", c, v.Header["commitment"])
	}
	if v.Header["printed"] == "yes" {
		// The share's rows exactly as both envelopes print them.
		env := (&Envelope{Holder: "Clerk", Shares: 5, Share: want, Issued: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}).Text()
		if !strings.Contains(env, BeginMarker+"\n"+string(v.Body)+EndMarker+"\n") || strings.Join(want.rows(), "\n")+"\n" != string(v.Body) {
			t.Fatalf("the envelopes do not print the vector's rows:\n%s", env)
		}
		return
	}
	if v.Header["typed"] == "yes" {
		return // a holder's typing of a share: decode only
	}
	text := string(v.Body)
	if enc := want.Encode() + "\n"; enc != text {
		t.Fatalf("encoded\n%q\nwant\n%q", enc, text)
	}
	if qr := want.QRText() + "\n"; qr != text {
		t.Fatalf("QR text\n%q\nwant\n%q", qr, text)
	}
	groups := strings.Fields(text)
	if len(groups) != groupCount || strings.Join(want.groups(), " ") != strings.Join(groups, " ") {
		t.Fatalf("%d groups, want the vector's %d", len(want.groups()), len(groups))
	}
	// The text envelope prints the same groups, four to a row, each row
	// after its group numbers as the PDF prints them, between the markers;
	// read back, labels and all, it is the same share.
	env := (&Envelope{Holder: "Clerk", Shares: 5, Share: want, Issued: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}).Text()
	var rows strings.Builder
	for i := 0; i < len(groups); i += 4 {
		fmt.Fprintf(&rows, "%2d-%-2d %s\n", i+1, i+4, strings.Join(groups[i:i+4], " "))
	}
	if !strings.Contains(env, BeginMarker+"\n"+rows.String()+EndMarker+"\n") {
		t.Fatalf("the text envelope does not print the golden rows:\n%s", env)
	}
	if back, err := ReadShareFile(env); err != nil || back.Commitment() != c {
		t.Fatalf("the text envelope reads back as %v, %v", back, err)
	}
}

func testFailShare(t *testing.T, v vectors.Vector, want string) {
	_, err := Decode(string(v.Body))
	if g, ok := strings.CutPrefix(want, "typo in group "); ok {
		var te *TypoError
		if !errors.As(err, &te) || strconv.Itoa(te.Group) != g {
			t.Fatalf("err = %v, want a typo in group %s", err, g)
		}
		return
	}
	kinds := map[string]error{"not a share": ErrFormat, "unsupported version": ErrVersion, "checksum": ErrChecksum}
	kind, ok := kinds[want]
	if !ok {
		t.Fatalf("unknown expect %q", want)
	}
	var te *TypoError
	if !errors.Is(err, kind) || errors.As(err, &te) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
}
