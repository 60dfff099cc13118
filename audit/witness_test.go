package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strongroom/internal/vectors"
)

type witnessPair struct {
	signer *WitnessSigner
	vkey   string
}

func newWitness(t testing.TB, name string, at time.Time) witnessPair {
	return newWitnessClock(t, name, func() time.Time { return at })
}

func newWitnessClock(t testing.TB, name string, now func() time.Time) witnessPair {
	skey, vkey, err := GenerateWitnessKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewWitnessSigner(skey, now)
	if err != nil {
		t.Fatal(err)
	}
	return witnessPair{s, vkey}
}

func signedAt(t testing.TB, k keys, lines [][]byte, size int, at time.Time) []byte {
	e, err := ParseLine(lines[size-1])
	if err != nil {
		t.Fatal(err)
	}
	signed, err := SignCheckpoint(&Checkpoint{Origin: testOrigin, Size: uint64(size), Head: e.Hash, Time: at}, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func closingLine(signed []byte) []byte {
	line, _ := json.Marshal(map[string]string{"checkpoint": string(signed)})
	return line
}

func exportOf(lines [][]byte, closing []byte) []byte {
	return join(append(append([][]byte(nil), lines...), closingLine(closing)))
}

func TestWitnessCosignature(t *testing.T) {
	k := newKeys(t, "strongroom-test")
	at := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	w := newWitness(t, "auditor.example/w1", at.Add(time.Minute))
	w2 := newWitness(t, "auditor.example/w2", at.Add(2*time.Minute))
	signed := signedAt(t, k, buildLog(3), 3, at)
	once, err := Cosign(signed, k.vkey, w.signer)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := Cosign(once, k.vkey, w2.signer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(twice, signed) || bytes.Count(twice, []byte("\n— ")) != 3 {
		t.Fatalf("cosigned note does not keep the vault's and the first witness's lines:\n%s", twice)
	}
	cp, cos, err := OpenWitnessed(twice, k.vkey, []string{w.vkey, w2.vkey})
	if err != nil || cp.Size != 3 {
		t.Fatalf("open: %v %+v", err, cp)
	}
	want := []Cosignature{{w.vkey, at.Add(time.Minute)}, {w2.vkey, at.Add(2 * time.Minute)}}
	if len(cos) != 2 || cos[0] != want[0] || cos[1] != want[1] {
		t.Fatalf("cosignatures %+v, want %+v", cos, want)
	}
	// A witness alone is not the vault.
	other := newKeys(t, "strongroom-test")
	if _, err := Cosign(signed, other.vkey, w.signer); err == nil {
		t.Fatal("cosigned a checkpoint the vault key did not sign")
	}
	// An altered cosignature is a bad signature, not an absent one.
	// (a character of the Ed25519 signature, near the end of the line)
	bad := append([]byte(nil), once...)
	i := len(bad) - 8
	bad[i] = map[bool]byte{true: 'B', false: 'A'}[bad[i] == 'A']
	var se *SignatureError
	if _, _, err := OpenWitnessed(bad, k.vkey, []string{w.vkey}); !errors.As(err, &se) || se.Kind != SigInvalid {
		t.Fatalf("altered cosignature: %v", err)
	}
	if _, _, err := OpenWitnessed(bad, k.vkey, nil); err != nil {
		t.Fatalf("a cosignature by a key not asked for must be ignored: %v", err)
	}
}

func TestVerifyWithWitness(t *testing.T) {
	k := newKeys(t, "strongroom-test")
	t10 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	t20 := t10.Add(30 * 24 * time.Hour)
	clock := t10.Add(time.Minute)
	w := newWitnessClock(t, "auditor.example/w1", func() time.Time { return clock })
	stranger := newWitness(t, "auditor.example/w1", t20.Add(time.Minute)) // same name, another key
	base := buildLog(20)
	cp10, cp20 := signedAt(t, k, base, 10, t10), signedAt(t, k, base, 20, t20)
	cosign := func(signed []byte, by witnessPair) []byte {
		out, err := Cosign(signed, k.vkey, by.signer)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	w10 := cosign(cp10, w)
	clock = t20.Add(time.Minute)
	w20, s20 := cosign(cp20, w), cosign(cp20, stranger)
	full := exportOf(base, cp20)
	cutBack := exportOf(base[:10], cp10) // an older genuine closing: in every backup and older export
	// Cut back to seq 10 and closed again now by someone holding keys
	// recovered from envelopes.
	forged := exportOf(base[:10], signedAt(t, k, base, 10, t20.Add(time.Hour)))
	cases := []struct {
		name      string
		log       []byte
		kept      [][]byte
		witnesses []string
		seq       uint64
		kind      string
		closing   time.Time
		cosigned  time.Time
	}{
		{"vault signature only", full, nil, nil, 0, "", t20, time.Time{}},
		{"cut back: the older closing time shows", cutBack, nil, nil, 0, "", t10, time.Time{}},
		{"re-signed with recovered keys, no witness asked", forged, nil, nil, 0, "", t20.Add(time.Hour), time.Time{}},
		{"no cosignature", full, nil, []string{w.vkey}, 1, ProblemUnwitnessed, t20, time.Time{}},
		{"cosigned closing line", exportOf(base, w20), nil, []string{w.vkey}, 0, "", t20, t20.Add(time.Minute)},
		{"cosigned checkpoint kept beside the export", full, [][]byte{w20}, []string{w.vkey}, 0, "", t20, t20.Add(time.Minute)},
		{"cosignature by another key", exportOf(base, s20), [][]byte{s20}, []string{w.vkey}, 1, ProblemUnwitnessed, t20, time.Time{}},
		{"cosigned only an earlier point", full, [][]byte{w10}, []string{w.vkey}, 11, ProblemUnwitnessed, t20, time.Time{}},
		{"cut back below a cosigned checkpoint", cutBack, [][]byte{w20}, []string{w.vkey}, 11, ProblemTruncated, t10, time.Time{}},
		{"re-signed with recovered keys at an unwitnessed point", exportOf(base[:15], signedAt(t, k, base, 15, t20.Add(time.Hour))),
			[][]byte{w10}, []string{w.vkey}, 11, ProblemUnwitnessed, t20, time.Time{}},
		// The witness did vouch for seq 10, a month ago: the forged closing
		// time is new, the cosignature's is not (--max-age checks both).
		{"re-signed at a witnessed point", forged, [][]byte{w10}, []string{w.vkey}, 0, "", t20.Add(time.Hour), t10.Add(time.Minute)},
		{"two witnesses, one missing", exportOf(base, w20), nil, []string{w.vkey, stranger.vkey}, 1, ProblemUnwitnessed, t20, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Verify(bytes.NewReader(c.log), k.vkey, c.kept, c.witnesses...)
			if c.kind != "" {
				var ce *ChainError
				if !errors.As(err, &ce) || ce.Kind != c.kind || ce.Seq != c.seq {
					t.Fatalf("err = %v, want seq %d %q", err, c.seq, c.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Closed || rep.ClosingTime == nil || !rep.ClosingTime.Equal(c.closing) {
				t.Fatalf("closed %v at %v, want %v", rep.Closed, rep.ClosingTime, c.closing)
			}
			if len(rep.Witnessed) != len(c.witnesses) {
				t.Fatalf("witnessed %+v", rep.Witnessed)
			}
			for _, cs := range rep.Witnessed {
				if cs.Witness != w.vkey || !cs.Time.Equal(c.cosigned) {
					t.Fatalf("witnessed %+v, want %s at %v", cs, w.vkey, c.cosigned)
				}
			}
		})
	}
	if _, err := Verify(bytes.NewReader(full), "", nil, w.vkey); err == nil {
		t.Fatal("a witness without the vault's key was accepted")
	}
}

// witnessSeedKeys restates the cosignature/v1 key format rather than
// calling witnessKeys: <name>+<key ID, 8 hex>+<base64(0x04 || key)>, the key
// ID being the first 4 bytes of SHA-256(name || "\n" || 0x04 || public key).
func witnessSeedKeys(t testing.TB, seedHex, name string, at time.Time) (*WitnessSigner, string) {
	t.Helper()
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("bad seed %q", seedHex)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	h := sha256.Sum256(append([]byte(name+"\n\x04"), pub...))
	id := hex.EncodeToString(h[:4])
	enc := base64.StdEncoding.EncodeToString
	s, err := NewWitnessSigner([]byte("PRIVATE+KEY+"+name+"+"+id+"+"+enc(append([]byte{4}, seed...))), func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	return s, name + "+" + id + "+" + enc(append([]byte{4}, pub...))
}

func testCosignedVector(t *testing.T, v vectors.Vector) {
	signer, vkey := vectors.SeedKeys(t, v.Header["signer seed"], v.Header["key name"])
	wt, err := time.Parse(time.RFC3339, v.Header["witness time"])
	if err != nil {
		t.Fatal(err)
	}
	ws, wkey := witnessSeedKeys(t, v.Header["witness seed"], v.Header["witness name"], wt)
	if vkey != v.Header["verifier key"] || wkey != v.Header["witness verifier key"] {
		t.Fatalf("keys %s, %s; want %s, %s", vkey, wkey, v.Header["verifier key"], v.Header["witness verifier key"])
	}
	cp, cos, err := OpenWitnessed(v.Body, vkey, []string{wkey})
	switch want := v.Header["expect"]; want {
	case "ok":
	case "no cosignature":
		if err != nil || len(cos) != 0 {
			t.Fatalf("err = %v, cosignatures %+v; want none", err, cos)
		}
		return
	default:
		var se *SignatureError
		if !errors.As(err, &se) || se.Kind != want {
			t.Fatalf("err = %v, want %q", err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if len(cos) != 1 || cos[0] != (Cosignature{wkey, wt}) || cp.Size != v.Num(t, "size") || cp.Head != v.Header["head"] {
		t.Fatalf("opened %+v with %+v", cp, cos)
	}
	tm, err := time.Parse(time.RFC3339, v.Header["time"])
	if err != nil {
		t.Fatal(err)
	}
	signed, err := SignCheckpoint(&Checkpoint{Origin: v.Header["origin"], Size: cp.Size, Head: cp.Head, Time: tm}, signer)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := Cosign(signed, vkey, ws)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cosigned, v.Body) {
		t.Fatalf("cosigned\n%s\nwant\n%s", cosigned, v.Body)
	}
}

// TestIndependentCosignatureCheck runs testdata/verify_cosignature.py,
// written from SECURITY.md alone, on every cosigned checkpoint vector: its
// verdict must be the vector's.
func TestIndependentCosignatureCheck(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import cryptography").Run()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 with the cryptography package is needed for the independent check")
		}
		t.Skip("python3 with the cryptography package is not installed")
	}
	n := 0
	for _, v := range vectors.Read(t, "testdata") {
		if v.Header["format"] != "cosigned checkpoint" {
			continue
		}
		n++
		out, _ := exec.Command(py, filepath.Join("testdata", "verify_cosignature.py"), filepath.Join("testdata", v.File)).Output()
		got := strings.TrimSpace(string(out))
		want := "FAIL " + v.Header["expect"]
		if v.Header["expect"] == "ok" {
			wt, _ := time.Parse(time.RFC3339, v.Header["witness time"])
			want = fmt.Sprintf("OK %d", wt.Unix())
		}
		if got != want {
			t.Errorf("%s: independent check says %q, want %q", v.File, got, want)
		}
	}
	if n < 3 {
		t.Fatalf("only %d cosigned vectors", n)
	}
}

func TestCheckAge(t *testing.T) {
	closed := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cosigned := closed.Add(-48 * time.Hour)
	now := closed.Add(2 * time.Hour)
	cases := []struct {
		name string
		rep  Report
		max  time.Duration
		bad  bool
	}{
		{"fresh", Report{HeadSeq: 7, ClosingTime: &closed}, 3 * time.Hour, false},
		{"closing too old", Report{HeadSeq: 7, ClosingTime: &closed}, time.Hour, true},
		{"not closed", Report{HeadSeq: 7}, time.Hour, true},
		{"witness too old", Report{HeadSeq: 7, ClosingTime: &closed, Witnessed: []Cosignature{{"w+00000000+x", cosigned}}}, 3 * time.Hour, true},
		{"witness fresh", Report{HeadSeq: 7, ClosingTime: &closed, Witnessed: []Cosignature{{"w+00000000+x", closed}}}, 3 * time.Hour, false},
	}
	for _, c := range cases {
		err := c.rep.CheckAge(now, c.max)
		var ce *ChainError
		if c.bad != (err != nil) || (c.bad && (!errors.As(err, &ce) || ce.Kind != ProblemTooOld || ce.Seq != 8)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestWitnessSignerRedacts(t *testing.T) {
	skey, _, err := GenerateWitnessKey(rand.Reader, "auditor.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewWitnessSigner(skey, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(s)
	out := fmt.Sprintf("%v %+v %#v %s %x", s, s, s, s, s) + string(j)
	// PRIVATE+KEY+<name>+<key ID>+<base64 seed>: the base64 may itself
	// hold a '+', so the seed is everything after the fourth.
	secret := strings.SplitN(string(skey), "+", 5)[4]
	if strings.Contains(out, secret) || strings.Contains(out, "PRIVATE") || !strings.Contains(out, "auditor.example/w1") {
		t.Fatalf("signer printed as %s", out)
	}
	if _, _, err := GenerateWitnessKey(rand.Reader, "two words"); err == nil {
		t.Fatal("a name with a space was accepted")
	}
}

func FuzzOpenWitnessed(f *testing.F) {
	var vkey, wkey string
	for _, v := range vectors.Read(f, "testdata") {
		if v.Header["format"] == "cosigned checkpoint" {
			f.Add(v.Body)
			vkey, wkey = v.Header["verifier key"], v.Header["witness verifier key"]
		}
	}
	f.Fuzz(func(t *testing.T, signed []byte) {
		cp, cos, err := OpenWitnessed(signed, vkey, []string{wkey})
		if err != nil {
			return
		}
		if _, err := ParseCheckpoint(cp.Text()); err != nil || len(cos) > 1 {
			t.Fatalf("opened %+v %+v: %v", cp, cos, err)
		}
	})
}
