package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"strongroom/audit"
)

// Secret is a secret string field (a password, TOTP seed, passphrase,
// envelope share) held as bytes its holder wipes after use. On the wire
// it is an ordinary JSON string. It decodes without passing through a Go
// string, and it redacts itself in String and Format, so a Secret that
// reaches a log line or an error prints "(redacted)".
//
// Unlike other secret holders it does marshal its content: sending it is
// its purpose. encoding/json copies the bytes through its own pooled
// buffers, which nobody can wipe; writers that need every copy wiped use
// [AppendObject] into a buffer of their own.
type Secret []byte

// MarshalJSON writes the bytes as a JSON string (escaped as
// audit.AppendString escapes).
func (s Secret) MarshalJSON() ([]byte, error) { return audit.AppendString(nil, []byte(s)), nil }

// UnmarshalJSON reads a JSON string (null leaves s empty) into fresh
// bytes, decoding escapes exactly as encoding/json does, invalid UTF-8
// and lone surrogates becoming U+FFFD, without an intermediate string.
func (s *Secret) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	out, ok := unquote(b)
	if !ok {
		return errors.New("expected a string")
	}
	*s = out
	return nil
}

// String redacts.
func (s Secret) String() string { return "(redacted)" }

// Format redacts for every verb, %x and %q included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("(redacted)")) }

// GoString redacts (%#v).
func (s Secret) GoString() string { return "(redacted)" }

// Wipe zeroes the bytes.
func (s Secret) Wipe() {
	for i := range s {
		s[i] = 0
	}
}

// unquote decodes a JSON string literal into new bytes, following
// encoding/json's unquoteBytes.
func unquote(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, false
	}
	b = b[1 : len(b)-1]
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\':
			n, r, ok := unescape(b[i:])
			if !ok {
				wipe(out)
				return nil, false
			}
			out = utf8.AppendRune(out, r)
			i += n
		case c == '"' || c < 0x20:
			wipe(out)
			return nil, false
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			out = utf8.AppendRune(out, r) // an invalid byte becomes U+FFFD
			i += size
		}
	}
	return out, true
}

// unescape reads one escape at the start of b: how many bytes it took
// and the rune it stands for.
func unescape(b []byte) (int, rune, bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	switch b[1] {
	case '"', '\\', '/':
		return 2, rune(b[1]), true
	case 'b':
		return 2, '\b', true
	case 'f':
		return 2, '\f', true
	case 'n':
		return 2, '\n', true
	case 'r':
		return 2, '\r', true
	case 't':
		return 2, '\t', true
	case 'u':
		r := hex4(b[2:])
		if r < 0 {
			return 0, 0, false
		}
		if utf16.IsSurrogate(r) {
			if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
				if r2 := hex4(b[8:]); r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						return 12, dec, true
					}
				}
			}
			return 6, utf8.RuneError, true
		}
		return 6, r, true
	}
	return 0, 0, false
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// AppendObject appends to dst a JSON object: the fields of public (which
// must marshal to an object and hold no secret) followed by the named
// secret fields, in that order, written straight into dst so that a
// caller who owns dst can wipe every copy (dst is grown once, to the
// worst case, and the old array wiped).
func AppendObject(dst []byte, public any, fields []string, values [][]byte) ([]byte, error) {
	base, err := json.Marshal(public)
	if err != nil {
		return nil, err
	}
	if len(base) < 2 || base[0] != '{' {
		return nil, errors.New("wire: AppendObject needs a value that marshals to an object")
	}
	n := len(dst) + len(base) + 16
	for i := range fields {
		n += len(fields[i]) + 6*len(values[i]) + 8 // \u00XX is the longest escape
	}
	if cap(dst) < n {
		grown := make([]byte, len(dst), n)
		copy(grown, dst)
		wipe(dst)
		dst = grown
	}
	start := len(dst)
	dst = append(dst, base[:len(base)-1]...)
	for i, f := range fields {
		if len(dst) > start+1 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, f)
		dst = append(dst, ':')
		dst = audit.AppendString(dst, values[i])
	}
	return append(dst, '}'), nil
}
