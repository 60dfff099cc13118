package passwords

import (
	"crypto/rand"
	_ "embed"
	"fmt"
	"math"
	"math/big"
	"strings"
	"sync"
	"unicode"

	"strongroom/vault/access"

	"github.com/ccojocar/zxcvbn-go"
)

// Passwords are NCSC "three random words" drawn with crypto/rand from the
// EFF large wordlist, shipped as the data file eff_large_wordlist.txt
// (7,776 words; © 2016 Electronic Frontier Foundation, CC BY 3.0 US;
// source https://www.eff.org/files/2016/07/18/eff_large_wordlist.txt, taken
// from Debian's diceware package; SHA-256 addd3553…b903e). Each word adds
// log2(7776) ≈ 12.9 bits; capitals and the separator add none (they are
// fixed, not random); each random digit adds log2(10) ≈ 3.3 bits.

//go:embed eff_large_wordlist.txt
var effWordlist string

// wordlist parses the shipped list once, checking its shape: 7,776 lines of
// five dice digits, a tab and a distinct lower-case word.
var wordlist = sync.OnceValues(func() ([]string, error) {
	lines := strings.Split(strings.TrimRight(effWordlist, "\n"), "\n")
	words := make([]string, 0, len(lines))
	seen := map[string]bool{}
	for _, l := range lines {
		dice, w, ok := strings.Cut(l, "\t")
		if !ok || len(dice) != 5 || strings.Trim(dice, "123456") != "" || w == "" || strings.Trim(w, "abcdefghijklmnopqrstuvwxyz-") != "" || seen[w] {
			return nil, fmt.Errorf("vault: wordlist line %q is malformed", l)
		}
		seen[w] = true
		words = append(words, w)
	}
	if len(words) != WordListSize {
		return nil, fmt.Errorf("vault: wordlist has %d words, want %d", len(words), WordListSize)
	}
	return words, nil
})

// GenOptions shapes a generated password for the rules sites impose.
type GenOptions struct {
	Words     int    // at least 3 (NCSC); default 3
	Separator string // between words; default "-"
	Capitals  bool   // capitalise each word's first letter
	Digits    int    // random digits appended (0 to 8)
	MinLength int    // add words until at least this long (0: none)
	MaxWords  int    // cap for MinLength (default 10)
}

// Generated is a new password; the caller wipes Password.
type Generated struct {
	Password    []byte
	EntropyBits float64
	Words       int
}

// DefaultGenOptions are NCSC's three random words, capitalised, hyphenated.
func DefaultGenOptions() GenOptions { return GenOptions{Words: 3, Separator: "-", Capitals: true} }

// WordListSize is how many words a word is drawn from.
const WordListSize = 7776

// GeneratePassword makes a password per opts. Entropy counts only what is
// random: words and digits.
func GeneratePassword(opts GenOptions) (*Generated, error) {
	if opts.Words == 0 {
		opts.Words = 3
	}
	if opts.MaxWords == 0 {
		opts.MaxWords = 10
	}
	switch {
	case opts.Words < 3 || opts.Words > opts.MaxWords || opts.MaxWords > 20:
		return nil, access.Invalid("words", "words must be 3 to %d (NCSC: at least three random words)", opts.MaxWords)
	case opts.Digits < 0 || opts.Digits > 8:
		return nil, access.Invalid("digits", "digits must be 0 to 8")
	case len(opts.Separator) > 3 || strings.ContainsFunc(opts.Separator, unicode.IsLetter):
		return nil, access.Invalid("separator", "the separator must be up to 3 characters and not letters")
	case opts.MinLength < 0 || opts.MinLength > 128:
		return nil, access.Invalid("min_length", "min length must be 0 to 128")
	}
	var words []string
	length := func() int {
		n := opts.Digits + len(opts.Separator)*max(len(words)-1, 0)
		for _, w := range words {
			n += len(w)
		}
		return n
	}
	for len(words) < opts.Words || (length() < opts.MinLength && len(words) < opts.MaxWords) {
		list, err := wordlist()
		if err != nil {
			return nil, err
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
		if err != nil {
			return nil, fmt.Errorf("vault: generate: %w", err)
		}
		words = append(words, list[n.Int64()])
	}
	if length() < opts.MinLength {
		return nil, access.Invalid("min_length", "cannot reach %d characters with %d words; allow more words", opts.MinLength, opts.MaxWords)
	}
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(opts.Separator)
		}
		if opts.Capitals {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
	}
	for i := 0; i < opts.Digits; i++ {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return nil, fmt.Errorf("vault: generate: %w", err)
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	bits := float64(len(words))*math.Log2(WordListSize) + float64(opts.Digits)*math.Log2(10)
	return &Generated{Password: []byte(b.String()), EntropyBits: math.Round(bits*10) / 10, Words: len(words)}, nil
}

// checkStrength refuses common and guessable account passwords using the
// zxcvbn estimator (its dictionaries include the most common passwords).
// CheckStrength refuses a password on the list of the most common ones,
// or one too easy to guess for the account called name.
func CheckStrength(name string, pw []byte) error {
	// Judged on its first StrengthRunes characters, as Strength is: the
	// matcher's cost grows far faster than the length, and a signed-in
	// person could otherwise tie the server up with one long password.
	judged := string(pw)
	if runes := []rune(judged); len(runes) > StrengthRunes {
		judged = string(runes[:StrengthRunes])
	}
	res := zxcvbn.PasswordStrength(judged, []string{name, "strongroom", "council", "parish"})
	for _, m := range res.MatchSequence {
		if m.Pattern == "dictionary" && strings.Contains(strings.ToLower(m.DictionaryName), "password") &&
			m.I == 0 && m.J == len(pw)-1 {
			return access.Invalid("new_password", "the new password is on the list of most common passwords")
		}
	}
	if res.Score < 3 {
		return access.Invalid("new_password", "the new password is too easy to guess (strength %d of 4); three random words work well: strongroom genpass", res.Score)
	}
	return nil
}
