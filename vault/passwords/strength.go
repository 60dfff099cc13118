package passwords

import (
	"unicode/utf8"
	"unsafe"

	"github.com/ccojocar/zxcvbn-go"
)

// StrengthRunes is how much of a password Strength judges: its first 32
// characters. zxcvbn-go's matching grows much faster than the length (on
// this machine a 32-character string of l33t-able symbols took 35 ms, 64
// took 450 ms and 1,024 took 15 s), and a stored password may be 4,096
// bytes, so judging it whole would let one credential stall a report. A
// prefix is a fair stand-in: a password whose first 32 characters are easy
// to guess is weak however it ends, and a generated one is strong from its
// first few words.
const StrengthRunes = 32

// Strength is zxcvbn's score of pw, 0 (too guessable) to 4 (very unlikely
// to be guessed), judged on its first StrengthRunes characters, with hints
// (the credential's name, its user name, the site) counted as guessable
// words. An empty password scores 0.
//
// pw is read in place, not copied into a string of ours; zxcvbn makes its
// own lower-cased and de-l33ted copies on the Go heap while it runs, which
// are garbage (unreferenced, overwritten only on reuse) once it returns.
// The caller must not change or free pw while Strength runs.
func Strength(pw []byte, hints []string) int {
	if len(pw) == 0 {
		return 0
	}
	n, runes := 0, 0
	for n < len(pw) && runes < StrengthRunes {
		_, size := utf8.DecodeRune(pw[n:])
		n += size
		runes++
	}
	// A view of pw, valid while Strength runs; zxcvbn keeps nothing after
	// it returns (its result is dropped here, score apart).
	return zxcvbn.PasswordStrength(unsafe.String(&pw[0], n), hints).Score
}
