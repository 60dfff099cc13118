package escrow

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/shamir"
)

// Share encoding v1 (also in SECURITY.md):
//
//	payload = version(1)=0x01 || vault ID(16) || generation(u32 BE) ||
//	          index(1) || threshold(1) || value(33: Shamir y bytes || x byte)
//	body    = payload || first 4 bytes of SHA-256("strongroom-share-v1" || payload)
//
// body (60 bytes, 480 bits) is written in Crockford base32 (alphabet
// 0123456789ABCDEFGHJKMNPQRSTVWXYZ, no padding) as 96 characters, cut into
// 24 groups of 4. Each group gets a fifth, check character:
//
//	check(g, c0..c3) = (1*v0 + 3*v1 + 5*v2 + 7*v3 + 11*g) mod 32
//
// where v are the characters' values and g the group's number from 1. The
// weights are odd, so any one wrong character changes the check: a single
// typo is always caught and its group named. Groups are printed with a space
// between them; readers ignore spaces, dashes and line breaks, read O as 0
// and I, L as 1, and accept lower case. Envelopes print the groups in rows
// of four, each row labelled with its group numbers ("1-4", "5-8", …,
// "21-24": RowLabel); a reader drops a word that is exactly the label of
// the row starting at that point of the share, so a share typed as
// printed, labels and all, reads the same as one typed without them.
const (
	Version      = 1
	VaultIDLen   = 16
	valueLen     = 33
	payloadLen   = 1 + VaultIDLen + 4 + 1 + 1 + valueLen
	checksumLen  = 4
	bodyLen      = payloadLen + checksumLen
	groupData    = 4
	groupLen     = groupData + 1
	groupCount   = bodyLen * 8 / 5 / groupData
	rowGroups    = 4 // groups in one printed row
	alphabet     = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	checksumSalt = "strongroom-share-v1"
)

// Share is one holder's piece of the root key.
type Share struct {
	VaultID    [VaultIDLen]byte
	Generation uint32
	Index      uint8 // 1..N, the number printed on the envelope
	Threshold  uint8
	Value      []byte // Shamir output: 32 bytes of y then the x coordinate
}

// String never shows the share value.
func (s *Share) String() string {
	return fmt.Sprintf("share %d of vault %s (generation %d)", s.Index, hex.EncodeToString(s.VaultID[:]), s.Generation)
}

// GoString and Format redact too, so %v, %+v and %#v are safe.
func (s *Share) GoString() string { return s.String() }

// Format implements fmt.Formatter.
func (s *Share) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Errors a caller branches on.
var (
	ErrTypo       = errors.New("escrow: typo")
	ErrFormat     = errors.New("escrow: not a share")
	ErrVersion    = errors.New("escrow: unsupported share version")
	ErrChecksum   = errors.New("escrow: share checksum does not match")
	ErrParameters = errors.New("escrow: bad split parameters")
)

// TypoError names the group (counted from 1) whose check character fails.
type TypoError struct{ Group int }

func (e *TypoError) Error() string {
	return fmt.Sprintf("escrow: typo in group %d: re-type that group from the envelope", e.Group)
}

// Unwrap lets errors.Is(err, ErrTypo) hold.
func (e *TypoError) Unwrap() error { return ErrTypo }

// Split cuts secret into n shares of which k recover it.
func Split(secret []byte, vaultID [VaultIDLen]byte, generation uint32, n, k int) ([]*Share, error) {
	if n < 1 || n > 10 || k < 1 || k > n || (n > 1 && k < 2) {
		return nil, fmt.Errorf("%w: need 2 <= threshold <= shares <= 10 (or one share, threshold 1), got %d of %d", ErrParameters, k, n)
	}
	if len(secret) != valueLen-1 {
		return nil, fmt.Errorf("%w: secret must be %d bytes", ErrParameters, valueLen-1)
	}
	var values [][]byte
	if n == 1 {
		// shamir.Split refuses k=1; a single share is the secret plus x=1.
		values = [][]byte{append(append([]byte(nil), secret...), 1)}
	} else {
		var err error
		if values, err = shamir.Split(secret, n, k); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrParameters, err)
		}
	}
	shares := make([]*Share, n)
	for i, v := range values {
		shares[i] = &Share{VaultID: vaultID, Generation: generation, Index: uint8(i + 1), Threshold: uint8(k), Value: v}
	}
	return shares, nil
}

// Combine recovers the secret from at least Threshold distinct shares of the
// same vault and generation. The caller wipes the result.
func Combine(shares []*Share) ([]byte, error) {
	if len(shares) == 0 {
		return nil, fmt.Errorf("%w: no shares", ErrParameters)
	}
	if len(shares) == 1 && shares[0].Threshold == 1 {
		v := shares[0].Value
		return append([]byte(nil), v[:len(v)-1]...), nil
	}
	parts := make([][]byte, len(shares))
	for i, s := range shares {
		if s.VaultID != shares[0].VaultID || s.Generation != shares[0].Generation {
			return nil, fmt.Errorf("%w: shares from different vaults or generations", ErrParameters)
		}
		parts[i] = s.Value
	}
	return shamir.Combine(parts)
}

// Encode writes the share in encoding v1, groups separated by spaces.
func (s *Share) Encode() string {
	return strings.Join(s.groups(), " ")
}

func (s *Share) groups() []string {
	body := s.body()
	chars := base32Encode(body)
	out := make([]string, groupCount)
	for g := 0; g < groupCount; g++ {
		d := chars[g*groupData : (g+1)*groupData]
		out[g] = d + string(alphabet[groupCheck(g+1, d)])
	}
	return out
}

func (s *Share) body() []byte {
	b := make([]byte, 0, bodyLen)
	b = append(b, Version)
	b = append(b, s.VaultID[:]...)
	b = binary.BigEndian.AppendUint32(b, s.Generation)
	b = append(b, s.Index, s.Threshold)
	b = append(b, s.Value...)
	sum := sha256.Sum256(append([]byte(checksumSalt), b...))
	return append(b, sum[:checksumLen]...)
}

// Decode reads a share in encoding v1. Separators, case and the printed
// row labels are forgiven; a wrong character is reported as a *TypoError
// naming its group.
func Decode(text string) (*Share, error) {
	clean := shareChars(text)
	if len(clean) != groupCount*groupLen {
		return nil, fmt.Errorf("%w: a share has %d groups of %d characters (%d characters); this has %d characters",
			ErrFormat, groupCount, groupLen, groupCount*groupLen, len(clean))
	}
	data := make([]byte, 0, groupCount*groupData)
	for g := 0; g < groupCount; g++ {
		grp := clean[g*groupLen : (g+1)*groupLen]
		for _, c := range grp {
			if strings.IndexByte(alphabet, c) < 0 {
				return nil, &TypoError{Group: g + 1}
			}
		}
		if alphabet[groupCheck(g+1, string(grp[:groupData]))] != grp[groupData] {
			return nil, &TypoError{Group: g + 1}
		}
		data = append(data, grp[:groupData]...)
	}
	body, err := base32Decode(string(data))
	if err != nil || len(body) != bodyLen {
		return nil, fmt.Errorf("%w: cannot decode", ErrFormat)
	}
	if body[0] != Version {
		return nil, fmt.Errorf("%w %d (this program reads version %d)", ErrVersion, body[0], Version)
	}
	payload, check := body[:payloadLen], body[payloadLen:]
	sum := sha256.Sum256(append([]byte(checksumSalt), payload...))
	if subtle.ConstantTimeCompare(sum[:checksumLen], check) != 1 {
		return nil, ErrChecksum
	}
	s := &Share{}
	copy(s.VaultID[:], payload[1:1+VaultIDLen])
	off := 1 + VaultIDLen
	s.Generation = binary.BigEndian.Uint32(payload[off:])
	s.Index, s.Threshold = payload[off+4], payload[off+5]
	s.Value = append([]byte(nil), payload[off+6:]...)
	if s.Index == 0 || s.Threshold == 0 || s.Threshold > 10 {
		return nil, fmt.Errorf("%w: share number %d, threshold %d", ErrFormat, s.Index, s.Threshold)
	}
	return s, nil
}

// shareChars is the share's characters in text, normalised: words are
// split at spaces, tabs and line breaks; a word that is the label of the
// row starting where it stands is dropped; dashes are dropped; any other
// character outside ASCII becomes '?' (which no group holds).
func shareChars(text string) []byte {
	var clean []byte
	for _, word := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if len(clean)%(rowGroups*groupLen) == 0 && len(clean) < groupCount*groupLen && word == RowLabel(len(clean)/groupLen+1) {
			continue
		}
		for _, r := range word {
			switch {
			case r == '-':
			case r < 0x80:
				clean = append(clean, normalise(byte(r)))
			default:
				clean = append(clean, '?')
			}
		}
	}
	return clean
}

// RowLabel is the label printed before the row that starts with group
// first (1, 5, 9, …): the numbers of its first and last groups, "1-4".
func RowLabel(first int) string {
	return fmt.Sprintf("%d-%d", first, min(first+rowGroups-1, groupCount))
}

func normalise(c byte) byte {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	switch c {
	case 'O':
		return '0'
	case 'I', 'L':
		return '1'
	}
	return c
}

func groupCheck(g int, d string) int {
	sum := 11 * g
	for i := 0; i < len(d); i++ {
		sum += (2*i + 1) * strings.IndexByte(alphabet, d[i])
	}
	return sum % 32
}

func base32Encode(b []byte) string {
	var out bytes.Buffer
	var acc, bits uint
	for _, x := range b {
		acc = acc<<8 | uint(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out.WriteByte(alphabet[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		out.WriteByte(alphabet[(acc<<(5-bits))&31])
	}
	return out.String()
}

func base32Decode(s string) ([]byte, error) {
	var out []byte
	var acc, bits uint
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(alphabet, s[i])
		if v < 0 {
			return nil, ErrFormat
		}
		acc = acc<<5 | uint(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out, nil
}

// Commitment is what the vault stores for a share: SHA-256 over a label,
// the vault ID, generation, index and the share value. A share has 256 bits
// of entropy, so the commitment reveals nothing usable.
func (s *Share) Commitment() [32]byte {
	h := sha256.New()
	h.Write([]byte("strongroom-share-commitment-v1"))
	h.Write(s.VaultID[:])
	_ = binary.Write(h, binary.BigEndian, s.Generation)
	h.Write([]byte{s.Index, s.Threshold})
	h.Write(s.Value)
	var c [32]byte
	copy(c[:], h.Sum(nil))
	return c
}

// Matches compares a share with a stored commitment in constant time.
func (s *Share) Matches(commitment []byte) bool {
	c := s.Commitment()
	return subtle.ConstantTimeCompare(c[:], commitment) == 1
}

// Wipe zeroes the share value.
func (s *Share) Wipe() {
	for i := range s.Value {
		s.Value[i] = 0
	}
}
