package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/internal/vectors"

	"golang.org/x/mod/sumdb/note"
)

// testOrigin is the origin of the tests' checkpoints: vault ID 0123…ef.
const testOrigin = "strongroom/0123456789abcdef0123456789abcdef"

type keys struct {
	signer note.Signer
	vkey   string
}

func newKeys(t testing.TB, name string) keys {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return keys{s, vkey}
}

func checkpointAt(t testing.TB, k keys, lines [][]byte, size int) []byte {
	e, err := ParseLine(lines[size-1])
	if err != nil {
		t.Fatal(err)
	}
	cp := &Checkpoint{Origin: testOrigin, Size: uint64(size), Head: e.Hash, Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	signed, err := SignCheckpoint(cp, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// rehash rewrites lines from index i on so that the chain is internally
// consistent again: what someone with the database could do.
func rehash(t testing.TB, lines [][]byte, from int) [][]byte {
	out := append([][]byte(nil), lines...)
	prevSeq, prevHash := uint64(from), ZeroHash
	if from > 0 {
		e, _ := ParseLine(out[from-1])
		prevHash = e.Hash
	}
	for i := from; i < len(out); i++ {
		e, err := ParseLine(out[i])
		if err != nil {
			t.Fatal(err)
		}
		e.Seal(prevSeq, prevHash)
		out[i] = e.Line()
		prevSeq, prevHash = e.Seq, e.Hash
	}
	return out
}

func TestCheckpointTamperSuite(t *testing.T) {
	k := newKeys(t, "strongroom-test")
	other := newKeys(t, "strongroom-test")
	base := buildLog(20)
	cp10, cp20 := checkpointAt(t, k, base, 10), checkpointAt(t, k, base, 20)
	kept := [][]byte{cp10, cp20}

	changed := append([][]byte(nil), base...)
	changed[4] = bytes.Replace(changed[4], []byte(`"role":"clerk"`), []byte(`"role":"auditor"`), 1)
	inserted := append(append(append([][]byte(nil), base[:7]...), base[6]), base[7:]...)
	inserted = rehash(t, inserted, 7)
	reordered := append([][]byte(nil), base...)
	reordered[11], reordered[12] = reordered[12], reordered[11]
	rewritten := rehash(t, changed, 4)
	forked := append([][]byte(nil), base...)
	forked[14] = bytes.Replace(forked[14], []byte(`"reason":"`), []byte(`"reason":"x`), 1)
	forked = rehash(t, forked, 14)
	tamperedCP := bytes.Replace(cp20, []byte("\n20\n"), []byte("\n21\n"), 1)

	cases := []struct {
		name  string
		lines [][]byte
		cps   [][]byte
		seq   uint64
		kind  string
	}{
		{"change a field", changed, kept, 5, ProblemAltered},
		{"delete an entry", append(append([][]byte(nil), base[:8]...), base[9:]...), kept, 9, ProblemMissing},
		{"insert one and re-hash the rest", inserted, kept, 10, ProblemForked},
		{"reorder two", reordered, kept, 12, ProblemMissing},
		{"truncate the tail", base[:15], kept, 16, ProblemTruncated},
		{"rewrite the whole chain", rewritten, kept, 10, ProblemForked},
		{"fork after a kept checkpoint", forked, kept, 20, ProblemForked},
		{"checkpoint signed by another key", base, [][]byte{checkpointAt(t, other, base, 20)}, 0, SigForeignKey},
		{"checkpoint altered", base, [][]byte{tamperedCP}, 0, SigInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The chain alone passes the re-hashed attacks; the checkpoints catch them.
			_, err := Verify(bytes.NewReader(join(tc.lines)), k.vkey, tc.cps)
			var ce *ChainError
			if !errors.As(err, &ce) || ce.Seq != tc.seq || ce.Kind != tc.kind {
				t.Fatalf("got %v, want seq %d %q", err, tc.seq, tc.kind)
			}
		})
	}
	rep, err := Verify(bytes.NewReader(join(base)), k.vkey, kept)
	if err != nil || rep.Checked != 20 || rep.CheckpointsMatched != 2 {
		t.Fatalf("clean log: %+v %v", rep, err)
	}
	if _, err := VerifyJSONL(bytes.NewReader(join(rewritten))); err != nil {
		t.Fatal("a consistent rewrite should pass the chain alone (that is what checkpoints are for)")
	}
}

func TestRedactedAndAnchoredLogs(t *testing.T) {
	k := newKeys(t, "strongroom-test")
	base := buildLog(12)
	cp12 := checkpointAt(t, k, base, 12)
	// A filtered export: entries 3 and 7 in full, the rest redacted.
	filtered := make([][]byte, len(base))
	for i, l := range base {
		e, _ := ParseLine(l)
		if i == 2 || i == 6 {
			filtered[i] = l
		} else {
			filtered[i] = Redact(e).Line()
		}
	}
	rep, err := Verify(bytes.NewReader(join(filtered)), k.vkey, [][]byte{cp12})
	if err != nil || rep.Redacted != 10 || rep.Checked != 12 || rep.CheckpointsMatched != 1 {
		t.Fatalf("filtered export: %+v %v", rep, err)
	}
	bad := append([][]byte(nil), filtered...)
	bad[6] = bytes.Replace(bad[6], []byte(`"outcome":"`), []byte(`"outcome":"x`), 1)
	if _, err := Verify(bytes.NewReader(join(bad)), k.vkey, [][]byte{cp12}); err == nil {
		t.Fatal("altered entry in a filtered export passed")
	}
	bad = append([][]byte(nil), filtered...)
	bad[3] = bytes.Replace(bad[3], []byte(`"digest":"`), []byte(`"digest":"0`), 1)
	bad[3] = bytes.Replace(bad[3], []byte(`0","prev"`), []byte(`","prev"`), 1)
	if _, err := Verify(bytes.NewReader(join(bad)), k.vkey, [][]byte{cp12}); err == nil {
		t.Fatal("a forged digest passed")
	}
	// A pruned log: entries 1..5 cut, anchored by a signed checkpoint at 5.
	anchor, _ := json.Marshal(map[string]string{"anchor": string(checkpointAt(t, k, base, 5))})
	pruned := append([][]byte{anchor}, base[5:]...)
	rep, err = Verify(bytes.NewReader(join(pruned)), k.vkey, [][]byte{checkpointAt(t, k, base, 3), cp12})
	if err != nil || rep.StartSeq != 6 || rep.Checked != 7 || rep.CheckpointsBefore != 1 || rep.CheckpointsMatched != 1 {
		t.Fatalf("pruned log: %+v %v", rep, err)
	}
	if _, err := Verify(bytes.NewReader(join(pruned)), "", nil); err == nil || !strings.Contains(err.Error(), "--key") {
		t.Fatalf("pruned log without key: %v", err)
	}
	if _, err := Verify(bytes.NewReader(join(base[5:])), k.vkey, nil); err == nil {
		t.Fatal("a log missing its start passed without an anchor")
	}
	other := newKeys(t, "strongroom-test")
	forgedAnchor, _ := json.Marshal(map[string]string{"anchor": string(checkpointAt(t, other, base, 5))})
	if _, err := Verify(bytes.NewReader(join(append([][]byte{forgedAnchor}, base[5:]...))), k.vkey, nil); err == nil {
		t.Fatal("an anchor signed by another key passed")
	}
}

func FuzzOpenCheckpoint(f *testing.F) {
	k := newKeys(f, "strongroom-test")
	f.Add(checkpointAt(f, k, buildLog(3), 3))
	f.Add([]byte("strongroom/x\n1\nAAAA\ntime 2026-01-01T00:00:00Z\n\n— x y\n"))
	// The golden checkpoints, opened with their own key as well.
	golden := ""
	for _, v := range vectors.Read(f, "testdata") {
		if v.Header["format"] == "checkpoint" {
			f.Add(v.Body)
			golden = v.Header["verifier key"]
		}
	}
	f.Fuzz(func(t *testing.T, signed []byte) {
		for _, key := range []string{k.vkey, golden} {
			cp, err := OpenCheckpoint(signed, key)
			if err != nil {
				continue
			}
			// Only text the key signed opens, and it parses back to itself.
			again, err := ParseCheckpoint(cp.Text())
			if err != nil || *again != *cp {
				t.Fatalf("opened a checkpoint that does not round-trip: %v", err)
			}
		}
	})
}

// FuzzReadCheckpoint: what ReadCheckpoint accepts without a key is a
// signed note whose text is a canonical checkpoint, and any signed
// checkpoint it refuses no key opens either.
func FuzzReadCheckpoint(f *testing.F) {
	k := newKeys(f, "strongroom-0123456789ab")
	f.Add(checkpointAt(f, k, buildLog(3), 3))
	f.Add([]byte("strongroom/0123456789abcdef0123456789abcdef\n1\nAAAA\ntime 2026-01-01T00:00:00Z\n\n— x y\n"))
	for _, v := range vectors.Read(f, "testdata") {
		if strings.Contains(v.Header["format"], "checkpoint") {
			f.Add(v.Body)
		}
	}
	f.Fuzz(func(t *testing.T, signed []byte) {
		cp, err := ReadCheckpoint(signed)
		_, openErr := OpenCheckpoint(signed, k.vkey)
		if err != nil {
			if openErr == nil {
				t.Fatalf("the key opens a checkpoint ReadCheckpoint refuses: %v", err)
			}
			return
		}
		again, err := ParseCheckpoint(cp.Text())
		if err != nil || *again != *cp || !bytes.HasPrefix(signed, []byte(cp.Text()+"\n")) {
			t.Fatalf("read a checkpoint that does not round-trip: %v", err)
		}
	})
}

// FuzzFastPathAgrees: for any line after a valid prefix, the fast path and
// the strict slow path reach the same verdict and the same head.
func FuzzFastPathAgrees(f *testing.F) {
	lines := buildLog(4)
	for _, l := range lines[1:] {
		f.Add(l)
	}
	f.Add(bytes.Replace(lines[1], []byte(`"reason":""`), []byte(`"reason":"\u001f"`), 1))
	f.Add(bytes.Replace(lines[1], []byte(`.123456789Z`), []byte(`.123456789+01:00`), 1))
	for _, v := range vectors.Read(f, "testdata") {
		if v.Header["format"] == "entry" {
			f.Add(bytes.TrimSuffix(v.Body, []byte("\n")))
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		fast, slow := &Chain{}, &Chain{slowOnly: true}
		if err := fast.Add(lines[0]); err != nil {
			t.Fatal(err)
		}
		if err := slow.Add(lines[0]); err != nil {
			t.Fatal(err)
		}
		ef, es := fast.Add(line), slow.Add(line)
		if (ef == nil) != (es == nil) {
			t.Fatalf("fast %v, slow %v for %q", ef, es, line)
		}
		if ef != nil && ef.Error() != es.Error() {
			t.Fatalf("different failures: fast %v, slow %v", ef, es)
		}
		fs, fh := fast.Head()
		ss, sh := slow.Head()
		if fs != ss || fh != sh {
			t.Fatal("different heads")
		}
	})
}

func TestClosingCheckpoint(t *testing.T) {
	k := newKeys(t, "strongroom-test")
	base := buildLog(8)
	closeAt := func(n int) []byte {
		l, _ := json.Marshal(map[string]string{"checkpoint": string(checkpointAt(t, k, base, n))})
		return l
	}
	extra, _ := ParseLine(base[7])
	extra.Reason = "appended"
	extra.Seal(8, extra.Hash)
	cases := []struct {
		name  string
		lines [][]byte
		kind  string
	}{
		{"closed", append(append([][]byte(nil), base...), closeAt(8)), ""},
		{"line after the close", append(append(append([][]byte(nil), base...), closeAt(8)), extra.Line()), ProblemAfterClose},
		{"close short of the end", append(append([][]byte(nil), base...), closeAt(6)), ProblemAfterClose},
		{"close beyond the end", append(append([][]byte(nil), base[:6]...), closeAt(8)), ProblemTruncated},
	}
	for _, tc := range cases {
		rep, err := Verify(bytes.NewReader(join(tc.lines)), k.vkey, nil)
		var ce *ChainError
		switch {
		case tc.kind == "" && (err != nil || !rep.Closed):
			t.Errorf("%s: %+v %v", tc.name, rep, err)
		case tc.kind != "" && (!errors.As(err, &ce) || ce.Kind != tc.kind):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.kind)
		}
	}
}

// Every checkpoint of one verification names one vault: a closing line for
// another vault than a kept checkpoint, a key named for another vault, or a
// vault ID given that the checkpoints do not name, all fail as
// SigOtherVault at seq 0.
func TestCheckpointOrigin(t *testing.T) {
	k := newKeys(t, "strongroom-0123456789ab")
	base := buildLog(4)
	kept := checkpointAt(t, k, base, 2)
	cp := &Checkpoint{Origin: "strongroom/0123456789abffffffffffffffffffff", Size: 4, Head: string(hashOf(base[3])), Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	otherVault, err := SignCheckpoint(cp, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	wrongName := newKeys(t, "strongroom-ffffffffffff")
	cases := []struct {
		name, vaultID, key string
		kept               [][]byte
		closing            []byte
		want               string
	}{
		{"all agree", "", k.vkey, [][]byte{kept}, checkpointAt(t, k, base, 4), ""},
		{"vault ID agrees", "0123456789abcdef0123456789abcdef", k.vkey, [][]byte{kept}, checkpointAt(t, k, base, 4), ""},
		{"closing for another vault than the kept one", "", k.vkey, [][]byte{kept}, otherVault, SigOtherVault},
		{"closing for another vault, no key", "0123456789abcdef0123456789abcdef", "", nil, otherVault, SigOtherVault},
		{"kept one for another vault than given", "0123456789abcdef0123456789abcdee", k.vkey, [][]byte{kept}, nil, SigOtherVault},
		{"key named for another vault", "", wrongName.vkey, nil, checkpointAt(t, wrongName, base, 4), SigOtherVault},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := append([][]byte(nil), base...)
			if tc.closing != nil {
				lines = append(lines, ClosingLine(tc.closing))
			}
			v, err := NewVaultVerifier(tc.vaultID, tc.key, tc.kept)
			if err == nil {
				_, err = v.Read(bytes.NewReader(join(lines)))
			}
			var ce *ChainError
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (!errors.As(err, &ce) || ce.Kind != tc.want || ce.Seq != 0):
				t.Fatalf("err = %v, want seq 0 %q", err, tc.want)
			}
		})
	}
}
