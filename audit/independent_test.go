package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func python(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is needed for the independent verifier")
		}
		t.Skip("python3 not installed")
	}
	return py
}

// goVerdict is what the Go verifier says of log without a key, in the
// independent verifier's words: "OK <entries> <head>" or "FAIL <seq> <kind>".
func goVerdict(t *testing.T, log []byte, vaultID string) string {
	t.Helper()
	v, err := NewVaultVerifier(vaultID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := v.Read(bytes.NewReader(log))
	var ce *ChainError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("FAIL %d %s", ce.Seq, ce.Kind)
	case err != nil:
		t.Fatal(err)
	}
	return fmt.Sprintf("OK %d %s", rep.Checked, rep.HeadHash)
}

// independentCases are logs, valid and tampered, one for each rule of
// SECURITY.md "Verifying a log" that a verifier without the key applies,
// with the verdict both verifiers must reach (checked against Go's too, so
// a case cannot silently stop testing its rule).
func independentCases(t *testing.T) map[string]struct {
	log  []byte
	want string
} {
	base := buildLog(15)
	filtered := make([][]byte, len(base))
	for i, l := range base {
		filtered[i] = l
		if i%3 != 0 {
			e, _ := ParseLine(l)
			filtered[i] = Redact(e).Line()
		}
	}
	edit := func(lines [][]byte, i int, old, new string) [][]byte {
		out := append([][]byte(nil), lines...)
		if !bytes.Contains(out[i], []byte(old)) {
			t.Fatalf("line %d lacks %q", i, old)
		}
		out[i] = bytes.Replace(out[i], []byte(old), []byte(new), 1)
		return out
	}
	k := newKeys(t, "strongroom-0123456789ab")
	closing := ClosingLine(checkpointAt(t, k, base, 15))
	closed := append(append([][]byte(nil), base...), closing)
	anchored := append([][]byte{AnchorLine(checkpointAt(t, k, base, 5))}, base[5:]...)
	changed := edit(base, 6, `"outcome":"ok"`, `"outcome":"denied"`)
	hash7 := string(hashOf(base[6]))
	digest := string(filtered[4][bytes.Index(filtered[4], []byte(`"digest":"`))+10:][:64])
	head := func(lines [][]byte) string { return string(hashOf(lines[len(lines)-1])) }
	ok := func(lines [][]byte) string { return fmt.Sprintf("OK %d %s", len(lines), head(lines)) }
	long := legacyLongLog(2 << 20)
	forged, _ := ParseLine(base[2]) // a correct hash over the wrong prev
	forged.Seal(2, ZeroHash)
	extraKey := func(line []byte) []byte {
		return append(append([]byte(nil), bytes.TrimSuffix(line, []byte("}"))...), `,"x":1}`...)
	}
	other := func(c byte) string {
		if c == 'f' {
			return "e"
		}
		return "f"
	}
	k2 := newKeys(t, "strongroom-0123456789ab")
	tr := &KeyTransition{Origin: testOrigin, Seq: 6, Head: string(hashOf(base[5])), Old: k.vkey, New: k2.vkey, Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	transition, err := SignTransition(tr, k.signer, k2.signer)
	if err != nil {
		t.Fatal(err)
	}
	tline := TransitionLine(transition)
	type tc = struct {
		log  []byte
		want string
	}
	cases := map[string]tc{
		"valid":                   {join(base), ok(base)},
		"filtered":                {join(filtered), ok(filtered)},
		"unicode and ctrl":        {join(buildLog(5)), ok(buildLog(5))},
		"a 12 MB line":            {long, ok(bytes.Split(bytes.TrimSuffix(long, []byte("\n")), []byte("\n")))},
		"field changed":           {join(changed), "FAIL 7 altered"},
		"entry deleted":           {join(append(append([][]byte(nil), base[:9]...), base[10:]...)), "FAIL 10 missing"},
		"two reordered":           {join(append([][]byte{base[0], base[2], base[1]}, base[3:]...)), "FAIL 2 missing"},
		"duplicated":              {join(append([][]byte{base[0], base[1]}, base[1:]...)), "FAIL 3 out of order"},
		"forged digest":           {join(edit(filtered, 4, digest, other(digest[0])+digest[1:])), "FAIL 5 altered"},
		"non-canonical":           {join(edit(base, 2, `"seq":3,`, `"seq":3, `)), "FAIL 3 not canonical"},
		"rewritten chain":         {join(rehash(t, changed, 6)), ok(rehash(t, changed, 6))},
		"broken link":             {join([][]byte{base[0], base[1], forged.Line()}), "FAIL 3 broken link"},
		"empty":                   {[]byte("\n\n"), "FAIL 1 empty"},
		"hash in upper case":      {join(edit(base, 6, hash7, strings.ToUpper(hash7))), "FAIL 7 unreadable"},
		"prev in upper case":      {join(edit(base, 7, `"prev":"`+hash7, `"prev":"`+strings.ToUpper(hash7))), "FAIL 8 unreadable"},
		"digest in upper case":    {join(edit(filtered, 4, digest, strings.ToUpper(digest))), "FAIL 5 unreadable"},
		"CRLF line ends":          {bytes.ReplaceAll(join(base), []byte("\n"), []byte("\r\n")), "FAIL 1 unreadable"},
		"a whitespace-only line":  {join(append(append([][]byte(nil), base[:4]...), append([][]byte{[]byte(" \t")}, base[4:]...)...)), "FAIL 5 unreadable"},
		"blank lines are skipped": {bytes.ReplaceAll(join(base), []byte("\n"), []byte("\n\n")), ok(base)},
		"outcome not allowed":     {join(edit(base, 3, `"outcome":"`, `"outcome":"x`)), "FAIL 4 unreadable"},
		"key in another case":     {join(edit(base, 3, `"reason":`, `"Reason":`)), "FAIL 4 unreadable"},
		"key repeated":            {join(edit(base, 3, `"reason":"",`, `"reason":"","reason":"",`)), "FAIL 4 unreadable"},
		"unknown key":             {join(edit(base, 3, `"reason":"",`, `"reason":"","x":"",`)), "FAIL 4 unreadable"},
		"keys reordered":          {join(edit(base, 3, `"reason":"","client":`, `"client":`)), "FAIL 4 unreadable"},
		"null for a string":       {join(edit(base, 3, `"reason":""`, `"reason":null`)), "FAIL 4 unreadable"},
		"negative zero seq":       {join(edit(base, 3, `"seq":4,`, `"seq":-0,`)), "FAIL 4 unreadable"},
		"seq with a fraction":     {join(edit(base, 3, `"seq":4,`, `"seq":4.0,`)), "FAIL 4 unreadable"},
		"seq beyond 64 bits":      {join(edit(base, 3, `"seq":4,`, `"seq":18446744073709551616,`)), "FAIL 4 unreadable"},
		"time not a real day":     {join(edit(base, 3, `"time":"2026-05-01`, `"time":"2026-02-30`)), "FAIL 4 unreadable"},
		"time with an offset":     {join(edit(base, 3, `.123456789Z"`, `.123456789+00:00"`)), "FAIL 4 unreadable"},
		"invalid UTF-8":           {join(edit(base, 3, `"reason":""`, "\"reason\":\"\xff\"")), "FAIL 4 unreadable"},
		"a lone surrogate escape": {join(edit(base, 3, `"reason":""`, `"reason":"\ud800"`)), "FAIL 4 altered"},
		"closed":                  {join(closed), ok(base)},
		"closing key in capitals": {join(append(append([][]byte(nil), base...), bytes.Replace(closing, []byte(`"checkpoint"`), []byte(`"Checkpoint"`), 1))), "FAIL 16 unreadable"},
		"closing with another key": {join(append(append([][]byte(nil), base...),
			bytes.Replace(closing, []byte(`{"checkpoint":`), []byte(`{"checkpoint":"x","checkpoint":`), 1))), "FAIL 0 unreadable"},
		"closing with extra key": {join(append(append([][]byte(nil), base...), extraKey(closing))), "FAIL 0 unreadable"},
		"closing escaped otherwise": {join(append(append([][]byte(nil), base...),
			bytes.Replace(closing, []byte(`\n`), []byte(`\u000a`), 1))), "FAIL 0 unreadable"},
		"closing with CRLF":             {append(append(join(base), closing...), "\r\n"...), "FAIL 0 unreadable"},
		"closing without signature":     {join(append(append([][]byte(nil), base...), ClosingLine([]byte(strings.SplitAfter(string(checkpointAt(t, k, base, 15)), "\n\n")[0])))), "FAIL 0 malformed"},
		"closing too short":             {join(append(append([][]byte(nil), base...), ClosingLine(checkpointAt(t, k, base, 12)))), "FAIL 13 after the closing checkpoint"},
		"closing beyond the end":        {join(append(append([][]byte(nil), base[:12]...), closing)), "FAIL 13 truncated below a checkpoint"},
		"closing over another head":     {join(append(rehash(t, changed, 6), closing)), "FAIL 15 forked"},
		"a line after the closing":      {join(append(append([][]byte(nil), closed...), base[0])), "FAIL 16 after the closing checkpoint"},
		"a key transition":              {join(append([][]byte{tline}, closed...)), ok(base)},
		"key transition after an entry": {join(append([][]byte{base[0], tline}, base[1:]...)), "FAIL 0 key transition"},
		"key transition, head forked":   {join(append([][]byte{tline}, rehash(t, edit(base, 5, `"reason":"`, `"reason":"x`), 5)...)), "FAIL 6 forked"},
		"key transition beyond the end": {join(append([][]byte{tline}, base[:4]...)), "FAIL 5 truncated below a checkpoint"},
		"key transition malformed":      {join(append([][]byte{bytes.Replace(tline, []byte("key transition 6"), []byte("key transition 06"), 1)}, base...)), "FAIL 0 key transition"},
		"anchored (needs the key)":      {join(anchored), "FAIL 0 anchor"},
		"anchor key in capitals":        {join(append([][]byte{bytes.Replace(anchored[0], []byte(`"anchor"`), []byte(`"Anchor"`), 1)}, base[5:]...)), "FAIL 1 unreadable"},
		"anchor with extra key":         {join(append([][]byte{extraKey(anchored[0])}, base[5:]...)), "FAIL 0 anchor"},
		"anchor not first":              {join(append(append([][]byte(nil), base...), anchored[0])), "FAIL 0 anchor"},
	}
	return cases
}

// TestIndependentVerifierAgrees runs testdata/verify_chain.py, written from
// SECURITY.md's words alone, on valid, filtered and tampered logs: both must
// reach the verdict the case names, seq and kind (or entries and head).
// This is the proof that the documentation is enough to re-implement the
// check, rule by rule.
func TestIndependentVerifierAgrees(t *testing.T) {
	py := python(t)
	for name, c := range independentCases(t) {
		t.Run(name, func(t *testing.T) {
			if got := goVerdict(t, c.log, ""); got != c.want {
				t.Fatalf("Go says %q, want %q", got, c.want)
			}
			cmd := exec.Command(py, filepath.Join("testdata", "verify_chain.py"))
			cmd.Stdin = bytes.NewReader(c.log)
			out, _ := cmd.Output()
			if got := strings.TrimSpace(string(out)); got != c.want {
				t.Fatalf("Python says %q, want %q", got, c.want)
			}
		})
	}
}

// TestIndependentOrigin: with the vault ID given, a closing checkpoint whose
// origin names another vault fails in both verifiers.
func TestIndependentOrigin(t *testing.T) {
	py := python(t)
	base := buildLog(3)
	log := join(append(base, ClosingLine(checkpointAt(t, newKeys(t, "strongroom-0123456789ab"), base, 3))))
	for _, c := range []struct{ id, want string }{
		{"0123456789abcdef0123456789abcdef", fmt.Sprintf("OK 3 %s", hashOf(base[2]))},
		{"0123456789abcdef0123456789abcdee", "FAIL 0 for another vault"},
	} {
		if got := goVerdict(t, log, c.id); got != c.want {
			t.Fatalf("vault %s: Go says %q, want %q", c.id, got, c.want)
		}
		cmd := exec.Command(py, filepath.Join("testdata", "verify_chain.py"), "--vault-id", c.id)
		cmd.Stdin = bytes.NewReader(log)
		out, _ := cmd.Output()
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Fatalf("vault %s: Python says %q, want %q", c.id, got, c.want)
		}
	}
}

// TestIndependentRepair: the U+FFFD repair SECURITY.md describes (one
// U+FFFD for each maximal run of bytes that are not valid UTF-8), as the
// independent script implements it, gives the bytes Seal stores.
func TestIndependentRepair(t *testing.T) {
	py := python(t)
	inputs := []string{"plain", "\xff", "\xff\xfe", "a\xffb\xfec", "\xe2\x82", "\xe2\x82\xac", "\xed\xa0\x80",
		"\xf0\x9f\x98", "\xc0\xaf", "\xf4\x90\x80\x80", "x\x80\x80\x80y", "é\xe9", "\xef\xbf\xbd\xff"}
	var in, want bytes.Buffer
	for _, s := range inputs {
		in.WriteString(hex.EncodeToString([]byte(s)) + "\n")
		want.WriteString(hex.EncodeToString([]byte(fit(s, MaxReason))) + "\n")
	}
	cmd := exec.Command(py, filepath.Join("testdata", "verify_chain.py"), "--repair")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != want.String() {
		t.Fatalf("Python repairs to\n%s\nGo to\n%s", got, want.String())
	}
	if got := fit("\xff\xfe|\xed\xa0\x80", MaxReason); got != "\uFFFD|\uFFFD" {
		t.Fatalf("fit = %q: a run of invalid bytes must become one U+FFFD", got)
	}
}
