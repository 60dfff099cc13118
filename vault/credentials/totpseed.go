package credentials

// TOTP seeds as the vault keeps them: every form a council brings
// (otpauth://totp URIs with any of RFC 6238's parameters, KeePassXC's
// encoder=steam, Bitwarden's steam://, a bare base32 seed) is read into
// totpSeed, kept exactly (digits 5 to 10; SHA-1, SHA-256 or SHA-512;
// periods of 1 second to 24 hours; Steam's five letters) or refused with
// a reason, never changed into something the site would not accept. The
// codes are computed here (RFC 4226 section 5.3, RFC 6238; Steam's
// alphabet as Steam and KeePassXC use it) so that no library's defaults
// can change them.

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"hash"
	"net/url"
	"strconv"
	"strings"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/barrier"
)

// TOTP limits: RFC 4226 allows 6 to 8 digits, sites and KeePassXC use 5
// to 10; KeePassXC takes periods up to 24 hours.
const (
	minTOTPDigits, maxTOTPDigits = 5, 10
	maxTOTPPeriod                = 86400
	// rfc4226MinBits is RFC 4226's minimum shared-secret length (section 4, R6).
	rfc4226MinBits = 128
	steamAlphabet  = "23456789BCDFGHJKMNPQRTVWXY"
)

// totpSeed is a parsed TOTP: the secret (base32, upper case, unpadded)
// and how codes are made from it.
type totpSeed struct {
	secret    string
	algorithm string // "SHA1", "SHA256" or "SHA512"
	digits    int
	period    int
	steam     bool // Steam Guard: 5 characters of steamAlphabet every 30 s
	label     string
	issuer    string
}

// totpRefused is why a TOTP cannot be kept as one; the text is fixed (it
// never quotes the input, which may hold the seed).
func totpRefused(why string) error { return access.Invalid("totp", "%s", why) }

// parseTOTP reads an otpauth://totp URI, a steam:// URI or a bare base32
// seed. name labels a seed that has no label of its own.
func parseTOTP(in, name string) (totpSeed, error) {
	in = strings.TrimSpace(in)
	s := totpSeed{algorithm: "SHA1", digits: 6, period: 30, label: name, issuer: "Strongroom"}
	lower := strings.ToLower(in)
	switch {
	case strings.HasPrefix(lower, "otpauth://"):
		if err := s.readURI(in); err != nil {
			return totpSeed{}, err
		}
	case strings.HasPrefix(lower, "steam://"):
		s.secret, s.steam, s.digits = in[len("steam://"):], true, 5
	default:
		s.secret = in
	}
	secret, err := cleanBase32(s.secret)
	if err != nil {
		return totpSeed{}, err
	}
	s.secret = secret
	return s, nil
}

// readURI reads an otpauth:// URI's label and parameters into s.
func (s *totpSeed) readURI(in string) error {
	u, err := url.Parse(in)
	if err != nil {
		return totpRefused("the TOTP URI is not a valid otpauth:// URI")
	}
	switch strings.ToLower(u.Host) {
	case "totp":
	case "hotp":
		return totpRefused("the TOTP URI is for counter-based (HOTP) codes, which Strongroom does not generate")
	default:
		return totpRefused("the TOTP URI is not otpauth://totp")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return totpRefused("the TOTP URI's parameters cannot be read")
	}
	if l := strings.TrimPrefix(u.Path, "/"); l != "" {
		s.label = l
	}
	if i := q.Get("issuer"); i != "" {
		s.issuer = i
	}
	s.secret = q.Get("secret")
	switch a := strings.ToUpper(strings.TrimSpace(q.Get("algorithm"))); a {
	case "", "SHA1", "SHA256", "SHA512":
		if a != "" {
			s.algorithm = a
		}
	default:
		return totpRefused("the TOTP algorithm is not SHA1, SHA256 or SHA512")
	}
	switch e := strings.ToLower(strings.TrimSpace(q.Get("encoder"))); e {
	case "":
	case "steam":
		// Steam's codes are always 5 characters every 30 seconds:
		// Steam and KeePassXC ignore any digits or period given.
		s.steam, s.digits, s.period = true, 5, 30
		return nil
	default:
		return totpRefused("the TOTP encoder is not one Strongroom knows (only steam)")
	}
	if d := q.Get("digits"); d != "" {
		n, err := strconv.Atoi(strings.TrimSpace(d))
		if err != nil || n < minTOTPDigits || n > maxTOTPDigits {
			return totpRefused("the TOTP digits are not a number from 5 to 10")
		}
		s.digits = n
	}
	if p := q.Get("period"); p != "" {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > maxTOTPPeriod {
			return totpRefused("the TOTP period is not a number of seconds from 1 to 86400 (24 hours)")
		}
		s.period = n
	}
	return nil
}

// cleanBase32 returns a seed as unpadded upper-case base32, refusing one
// that is empty or not base32.
func cleanBase32(seed string) (string, error) {
	seed = strings.TrimRight(strings.ToUpper(strings.Join(strings.Fields(seed), "")), "=")
	if seed == "" {
		return "", totpRefused("the TOTP secret is empty")
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(seed)
	if err != nil || len(raw) == 0 {
		return "", totpRefused("the TOTP secret is not base32 (letters A to Z and digits 2 to 7)")
	}
	return seed, nil
}

// bits is the secret's length in bits.
func (s totpSeed) bits() int {
	raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s.secret)
	return 8 * len(raw)
}

// warning says what is unusual about a seed that is kept anyway; "" if
// nothing is.
func (s totpSeed) warning() string {
	if b := s.bits(); b < rfc4226MinBits {
		return "the TOTP seed is " + strconv.Itoa(b) + " bits, below RFC 4226's 128-bit minimum; kept, as the site chose it " +
			"(set up a new one if the site offers it)"
	}
	return ""
}

// uri is the canonical form the vault stores: parameters that differ from
// RFC 6238's defaults are written, encoder=steam for Steam.
func (s totpSeed) uri() []byte {
	q := url.Values{}
	q.Set("secret", s.secret)
	q.Set("issuer", s.issuer)
	if s.algorithm != "SHA1" {
		q.Set("algorithm", s.algorithm)
	}
	if s.steam {
		q.Set("encoder", "steam")
	} else {
		if s.digits != 6 {
			q.Set("digits", strconv.Itoa(s.digits))
		}
		if s.period != 30 {
			q.Set("period", strconv.Itoa(s.period))
		}
	}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + s.label, RawQuery: q.Encode()}
	return []byte(u.String())
}

// code is the code for time t.
func (s totpSeed) code(t time.Time) string {
	key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s.secret)
	defer barrier.Wipe(key)
	var h func() hash.Hash
	switch s.algorithm {
	case "SHA256":
		h = sha256.New
	case "SHA512":
		h = sha512.New
	default:
		h = sha1.New
	}
	mac := hmac.New(h, key)
	mac.Write(binary.BigEndian.AppendUint64(nil, uint64(t.Unix())/uint64(s.period)))
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	bin := uint64(binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff)
	if s.steam {
		out := make([]byte, 5)
		for i := range out {
			out[i] = steamAlphabet[bin%uint64(len(steamAlphabet))]
			bin /= uint64(len(steamAlphabet))
		}
		return string(out)
	}
	mod := uint64(1)
	for range s.digits {
		mod *= 10
	}
	c := strconv.FormatUint(bin%mod, 10)
	return strings.Repeat("0", s.digits-len(c)) + c
}

// normaliseTOTP accepts a TOTP in any form parseTOTP reads and returns
// the canonical otpauth://totp URI, with any warning about it. Errors
// never echo the input.
func normaliseTOTP(in, name string) (uri []byte, warning string, err error) {
	if strings.TrimSpace(in) == "" {
		return nil, "", nil
	}
	s, err := parseTOTP(in, name)
	if err != nil {
		return nil, "", err
	}
	return s.uri(), s.warning(), nil
}

// storedTOTPWarning is the warning for a stored canonical URI ("" for none).
func storedTOTPWarning(uri []byte) string {
	if len(uri) == 0 {
		return ""
	}
	s, err := parseTOTP(string(uri), "")
	if err != nil {
		return ""
	}
	return s.warning()
}
