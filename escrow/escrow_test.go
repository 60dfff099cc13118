package escrow

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/internal/vectors"
)

func testShares(t testing.TB, n, k int) ([]byte, [VaultIDLen]byte, []*Share) {
	secret := make([]byte, 32)
	var id [VaultIDLen]byte
	rand.Read(secret)
	rand.Read(id[:])
	shares, err := Split(secret, id, 1, n, k)
	if err != nil {
		t.Fatal(err)
	}
	return secret, id, shares
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	_, _, shares := testShares(t, 3, 2)
	for _, s := range shares {
		enc := s.Encode()
		got, err := Decode(strings.ToLower(enc))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.Index != s.Index || got.Threshold != 2 || got.VaultID != s.VaultID || got.Generation != 1 || !bytes.Equal(got.Value, s.Value) {
			t.Fatalf("round trip changed the share")
		}
		if got.Commitment() != s.Commitment() {
			t.Fatal("commitment changed")
		}
	}
}

// Every single-character substitution anywhere is caught and its group named.
func TestEverySingleTypoLocated(t *testing.T) {
	_, _, shares := testShares(t, 3, 2)
	groups := shares[0].groups()
	for g := range groups {
		for pos := 0; pos < groupLen; pos++ {
			for _, c := range []byte(alphabet) {
				if groups[g][pos] == c {
					continue
				}
				typo := append([]string(nil), groups...)
				b := []byte(typo[g])
				b[pos] = c
				typo[g] = string(b)
				_, err := Decode(strings.Join(typo, " "))
				var te *TypoError
				if !errors.As(err, &te) || te.Group != g+1 {
					t.Fatalf("typo %q at group %d pos %d: err = %v", c, g+1, pos, err)
				}
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	_, _, shares := testShares(t, 2, 2)
	enc := shares[0].Encode()
	groups := strings.Fields(enc)
	swapped := append([]string(nil), groups...)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"short", strings.Join(groups[:23], " "), ErrFormat},
		{"empty", "", ErrFormat},
		{"bad character", strings.Replace(enc, enc[:1], "U", 1), ErrTypo},
		{"non-ascii", "é" + enc[1:], ErrTypo},
		{"groups swapped", strings.Join(swapped, " "), ErrTypo},
	}
	for _, tc := range cases {
		if _, err := Decode(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// Recovery works with every K-subset and with no (K-1)-subset.
func TestCombineSubsets(t *testing.T) {
	for _, nk := range [][2]int{{3, 2}, {5, 3}, {1, 1}} {
		n, k := nk[0], nk[1]
		secret, _, shares := testShares(t, n, k)
		for mask := 1; mask < 1<<n; mask++ {
			var subset []*Share
			for i := 0; i < n; i++ {
				if mask&(1<<i) != 0 {
					subset = append(subset, shares[i])
				}
			}
			got, err := Combine(subset)
			ok := err == nil && bytes.Equal(got, secret)
			if len(subset) >= k && !ok {
				t.Fatalf("%d of %d: subset %b failed: %v", k, n, mask, err)
			}
			if len(subset) < k && ok {
				t.Fatalf("%d of %d: subset %b of %d shares recovered the secret", k, n, mask, len(subset))
			}
		}
	}
}

func TestSplitParameters(t *testing.T) {
	var id [VaultIDLen]byte
	for _, nk := range [][2]int{{0, 0}, {3, 1}, {2, 3}, {11, 2}} {
		if _, err := Split(make([]byte, 32), id, 1, nk[0], nk[1]); !errors.Is(err, ErrParameters) {
			t.Errorf("Split(%d,%d) err = %v", nk[0], nk[1], err)
		}
	}
}

func TestEnvelopeTextRoundTrip(t *testing.T) {
	_, id, shares := testShares(t, 3, 2)
	env := &Envelope{Council: "Drayton Bassett PC", VaultID: id, Holder: "Chairman", Shares: 3, Share: shares[1],
		Issued: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), VerifierKey: "strongroom+abcd+AQID"}
	text := env.Text()
	got, err := ReadShareFile(text)
	if err != nil {
		t.Fatal(err)
	}
	c := shares[1].Commitment()
	if !got.Matches(c[:]) {
		t.Fatal("share from the text envelope does not match")
	}
	if key, err := ReadVerifierKey(text); err != nil || key != "strongroom+abcd+AQID" {
		t.Fatalf("verifier key from the text envelope: %q %v", key, err)
	}
	if _, err := ReadVerifierKey(shares[1].Encode()); !errors.Is(err, ErrFormat) {
		t.Fatalf("verifier key from a bare share: %v", err)
	}
	for _, want := range []string{"Chairman", "2 of 3", "Drayton Bassett PC", "strongroom+abcd+AQID", "generation: 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("envelope lacks %q", want)
		}
	}
	// A redacting String: the encoded share must not leak through %v.
	if s := env.String(); strings.Contains(s, strings.Fields(shares[1].Encode())[3]) {
		t.Fatal("String leaks the share")
	}
}

func FuzzDecode(f *testing.F) {
	_, _, shares := testShares(f, 3, 2)
	f.Add(shares[0].Encode())
	f.Add(BeginMarker + "\n" + shares[1].Encode() + "\n" + EndMarker)
	f.Add("0000")
	f.Add((&Envelope{Holder: "Clerk", Shares: 3, Share: shares[2]}).Text())
	f.Add(strings.Join(shares[0].rows(), " "))
	f.Add("1-4 5-8 9-12")
	for _, v := range vectors.Read(f, "testdata") {
		f.Add(string(v.Body))
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ReadShareFile(in)
		if err != nil {
			return
		}
		// Anything accepted re-encodes to a share that decodes identically.
		again, err := Decode(s.Encode())
		if err != nil || again.Commitment() != s.Commitment() {
			t.Fatalf("accepted share does not round-trip: %v", err)
		}
		// So does its printed form, row labels and all.
		if again, err = Decode(strings.Join(s.rows(), "\n")); err != nil || again.Commitment() != s.Commitment() {
			t.Fatalf("accepted share's printed rows do not read back: %v", err)
		}
	})
}
