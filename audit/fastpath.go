package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
	"unicode/utf8"
)

// The fast path verifies a full line without decoding JSON: it walks the
// canonical layout byte by byte, and if the line is canonical the bytes
// that are hashed are the line itself minus its hash field. Anything it
// does not accept goes to the strict slow path, which names the problem,
// so both paths reach the same verdict (FuzzFastPathAgrees checks that).

var layout = []string{`{"seq":`, `,"time":`, `,"actor":{"id":`, `,"name":`, `,"role":`, `},"action":`,
	`,"target":{"kind":`, `,"id":`, `,"name":`, `},"outcome":`, `,"reason":`, `,"client":{"ip":`,
	`,"user_agent":`, `},"request_id":`, `,"prev":`, `,"hash":`}

// scanCanonical returns the seq, prev and hash of a canonical full line and
// the length of its canonical part (up to the hash field), or ok=false.
func scanCanonical(line []byte) (seq uint64, prev, hash []byte, cut int, ok bool) {
	i := 0
	expect := func(lit string) bool {
		if len(line)-i < len(lit) || string(line[i:i+len(lit)]) != lit {
			return false
		}
		i += len(lit)
		return true
	}
	for f, lit := range layout {
		if !expect(lit) {
			return 0, nil, nil, 0, false
		}
		if f == 0 { // seq: a decimal without leading zeros
			start := i
			for i < len(line) && line[i] >= '0' && line[i] <= '9' {
				if seq > (1<<63)/10 {
					return 0, nil, nil, 0, false
				}
				seq = seq*10 + uint64(line[i]-'0')
				i++
			}
			if i == start || (line[start] == '0' && i-start > 1) {
				return 0, nil, nil, 0, false
			}
			continue
		}
		if f == len(layout)-1 {
			cut = i - len(lit)
		}
		start := i
		if !scanString(line, &i) {
			return 0, nil, nil, 0, false
		}
		s := line[start+1 : i-1]
		switch f {
		case 1:
			if len(s) != len(TimeFormat) {
				return 0, nil, nil, 0, false
			}
			if !validTime(s) {
				return 0, nil, nil, 0, false
			}
		case 9:
			if !validOutcome(string(s)) {
				return 0, nil, nil, 0, false
			}
		case len(layout) - 2:
			prev = s
		case len(layout) - 1:
			hash = s
		}
	}
	if i != len(line)-1 || line[i] != '}' {
		return 0, nil, nil, 0, false
	}
	return seq, prev, hash, cut, true
}

// scanString moves i past a canonically escaped JSON string of valid UTF-8.
func scanString(b []byte, i *int) bool {
	j := *i
	if j >= len(b) || b[j] != '"' {
		return false
	}
	j++
	for j < len(b) {
		c := b[j]
		if c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
			j++
			continue
		}
		switch {
		case c == '"':
			*i = j + 1
			return true
		case c >= 0x80:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			j += size
			continue
		case c < 0x20:
			return false
		}
		// a backslash
		if j+1 >= len(b) {
			return false
		}
		switch b[j+1] {
		case '"', '\\', 'b', 'f', 'n', 'r', 't':
			j += 2
		case 'u': // only \u00XX, lower-case, for bytes below 0x20 without a short escape
			if j+5 >= len(b) || b[j+2] != '0' || b[j+3] != '0' || !isLowerHex(b[j+4]) || !isLowerHex(b[j+5]) {
				return false
			}
			v := unhex(b[j+4])<<4 | unhex(b[j+5])
			if v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t' {
				return false
			}
			j += 6
		default:
			return false
		}
	}
	return false
}

// validTime accepts exactly the strings TimeFormat produces for a real
// instant: YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ with every field in range.
func validTime(s []byte) bool {
	const shape = "dddd-dd-ddTdd:dd:dd.dddddddddZ"
	if len(s) != len(shape) {
		return false
	}
	for k := range s {
		if shape[k] == 'd' {
			if s[k] < '0' || s[k] > '9' {
				return false
			}
		} else if s[k] != shape[k] {
			return false
		}
	}
	num := func(a, b int) int {
		n := 0
		for _, c := range s[a:b] {
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	if mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
		return false
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	return t.Day() == d && int(t.Month()) == mo // no 31 April or 29 February in a common year
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// fastAdd checks a canonical full line; ok=false means "take the slow path".
func (c *Chain) fastAdd(line []byte) (err error, ok bool) {
	seq, prev, hash, cut, ok := scanCanonical(line)
	if !ok || len(prev) != 64 || len(hash) != 64 {
		return nil, false
	}
	wantSeq, wantPrev := c.Head()
	if seq != wantSeq+1 || string(prev) != wantPrev {
		return nil, false // let the slow path name it
	}
	var buf [64]byte // raw prev || digest
	if _, err := hex.Decode(buf[:32], prev); err != nil {
		return nil, false
	}
	if c.h == nil {
		c.h = sha256.New()
	}
	c.h.Reset()
	c.h.Write(line[:cut])
	c.h.Write([]byte{'}'})
	c.h.Sum(buf[32:32])
	sum := sha256.Sum256(buf[:])
	var got [64]byte
	hex.Encode(got[:], sum[:])
	if string(got[:]) != string(hash) {
		return nil, false
	}
	c.count++
	c.lastSeq, c.lastHash, c.started = seq, string(hash), true
	return nil, true
}
