package passwords

import (
	"errors"
	"math"
	"strings"
	"testing"

	"strongroom/vault/access"
)

func TestGeneratePasswordEntropyAndShape(t *testing.T) {
	cases := []struct {
		opts  GenOptions
		words int
		bits  float64
	}{
		{DefaultGenOptions(), 3, 3 * math.Log2(7776)},
		{GenOptions{Words: 4, Separator: " ", Digits: 2}, 4, 4*math.Log2(7776) + 2*math.Log2(10)},
		{GenOptions{Words: 3, Separator: ".", MinLength: 40}, -1, -1},
	}
	for _, tc := range cases {
		g, err := GeneratePassword(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		pw := string(g.Password)
		if tc.words > 0 && (g.Words != tc.words || math.Abs(g.EntropyBits-tc.bits) > 0.05) {
			t.Errorf("%+v: %d words, %.1f bits, want %d and %.1f", tc.opts, g.Words, g.EntropyBits, tc.words, tc.bits)
		}
		if tc.opts.MinLength > 0 && (len(pw) < tc.opts.MinLength || math.Abs(g.EntropyBits-float64(g.Words)*math.Log2(7776)) > 0.05) {
			t.Errorf("min length: %q (%d words, %.1f bits)", pw, g.Words, g.EntropyBits)
		}
		parts := strings.Split(strings.TrimRight(pw, "0123456789"), tc.opts.Separator)
		if len(parts) != g.Words {
			t.Errorf("%q does not split into %d words", pw, g.Words)
		}
	}
	for _, bad := range []GenOptions{{Words: 2}, {Words: 3, Digits: 9}, {Words: 3, Separator: "abc"}, {Words: 3, MinLength: 300}} {
		if _, err := GeneratePassword(bad); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// No repeats in a large sample beyond chance: 20,000 three-word passwords
// from 7776³ ≈ 4.7e11 expect 2e-4 collisions, so one is a failure.
func TestGeneratedPasswordsDoNotRepeat(t *testing.T) {
	seen := map[string]bool{}
	firstWords := map[string]bool{}
	for i := 0; i < 20000; i++ {
		g, err := GeneratePassword(DefaultGenOptions())
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(g.Password)] {
			t.Fatalf("repeat after %d: %s", i, g.Password)
		}
		seen[string(g.Password)] = true
		firstWords[strings.SplitN(string(g.Password), "-", 2)[0]] = true
	}
	// 20,000 draws from 7,776 words should cover about 7,776·(1−e^(−20000/7776)) ≈ 7,181 of them.
	if len(firstWords) < 6900 {
		t.Fatalf("only %d distinct first words: not uniform", len(firstWords))
	}
}

func TestAccountPasswordStrength(t *testing.T) {
	for _, pw := range []string{"password1234", "qwertyuiop123", "Password12345!", "aaaaaaaaaaaaaa", "council-council"} {
		if err := CheckNew("Clerk", nil, []byte(pw)); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("%q accepted", pw)
		}
	}
	g, _ := GeneratePassword(DefaultGenOptions())
	if err := CheckNew("Clerk", nil, g.Password); err != nil {
		t.Errorf("a generated password was refused: %v", err)
	}
}

func TestShippedWordlist(t *testing.T) {
	words, err := wordlist()
	if err != nil || len(words) != 7776 || words[0] != "abacus" || words[7775] != "zoom" {
		t.Fatalf("wordlist: %d words, %v", len(words), err)
	}
}
