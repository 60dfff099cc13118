package passwords

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"strongroom/vault/access"
	"strongroom/vault/barrier"

	"golang.org/x/crypto/argon2"
)

// Hash returns an Argon2id hash of an account password in PHC string form:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>.
func Hash(p barrier.KDFParams, pw []byte) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	sum := argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(sum))
}

// phc is a parsed Argon2id PHC string.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, hash   []byte
}

// parsePHC reads $argon2id$v=19$m=M,t=T,p=P$salt$hash, refusing costs
// outside sane bounds so a corrupt record cannot make a login allocate
// gigabytes.
func parsePHC(s string) (*phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return nil, errBadPHC
	}
	var h phc
	var extra string
	n, _ := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d%s", &h.memory, &h.time, &h.threads, &extra)
	if n != 3 || h.memory < 8 || h.memory > 1<<18 || h.time < 1 || h.time > 20 || h.threads < 1 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", h.memory, h.time, h.threads) {
		return nil, errBadPHC
	}
	enc := base64.RawStdEncoding.Strict()
	var err1, err2 error
	h.salt, err1 = enc.DecodeString(parts[4])
	h.hash, err2 = enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(h.salt) < 8 || len(h.hash) < 16 || len(h.hash) > 64 {
		return nil, errBadPHC
	}
	return &h, nil
}

var errBadPHC = errors.New("passwords: malformed password hash")

// verifyPassword checks pw against a PHC string in constant time.
// Verify reports, in constant time, whether pw matches the PHC hash s; a
// malformed hash matches nothing.
func Verify(s string, pw []byte) bool {
	h, err := parsePHC(s)
	if err != nil {
		return false
	}
	got := argon2.IDKey(pw, h.salt, h.time, h.memory, h.threads, uint32(len(h.hash)))
	return subtle.ConstantTimeCompare(got, h.hash) == 1
}

// checkNewPassword applies the account password rules: length, not the old
// one, not the name, and not common or guessable (checkStrength).
// CheckNew applies the account password rules to pw, the new password of
// the account called name whose old password is old (nil if none).
func CheckNew(name string, old, pw []byte) error {
	n := utf8.RuneCount(pw)
	switch {
	case !utf8.Valid(pw):
		return access.Invalid("new_password", "the new password is not valid text")
	case n < 12:
		return access.Invalid("new_password", "the new password must be at least 12 characters (three random words work well)")
	case n > 256:
		return access.Invalid("new_password", "the new password must be at most 256 characters")
	case old != nil && subtle.ConstantTimeCompare(old, pw) == 1:
		return access.Invalid("new_password", "the new password must differ from the old one")
	case len(name) >= 3 && strings.Contains(strings.ToLower(string(pw)), strings.ToLower(name)):
		return access.Invalid("new_password", "the new password must not contain the account name")
	}
	return CheckStrength(name, pw)
}

// oneTimePassword makes a first-login password: 20 characters of Crockford
// base32 in groups of five (100 bits).
// OneTime makes a first-login password.
func OneTime() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 20)
	rand.Read(b)
	var s strings.Builder
	for i, x := range b {
		if i > 0 && i%5 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(alphabet[x&31])
	}
	return s.String()
}
