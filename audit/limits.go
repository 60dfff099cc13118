package audit

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// The longest each string field of an entry may be, in bytes of UTF-8
// (after invalid sequences are replaced by U+FFFD). Seal cuts a longer
// field, so no caller can write an entry larger than MaxLine whatever it
// is handed: a refused file's reason, a client's user agent and request
// id all come from outside.
const (
	MaxActorID    = 64
	MaxActorName  = 512
	MaxActorRole  = 32
	MaxAction     = 64
	MaxTargetKind = 32
	MaxTargetID   = 128
	MaxTargetName = 1024
	MaxOutcome    = 16
	MaxReason     = 8192
	MaxClientIP   = 64
	MaxUserAgent  = 256
	MaxRequestID  = 128
)

// CutMarker ends a field that Seal cut to its maximum.
const CutMarker = "…[cut]"

// MaxLine is the longest line the vault writes for an entry: every field
// at its maximum and every byte escaped as \u00XX (6 bytes), plus the keys,
// seq, time, prev and hash. Entries written before the maxima existed can
// be longer; verifiers read lines of any length (readLines).
const MaxLine = 6*(MaxActorID+MaxActorName+MaxActorRole+MaxAction+MaxTargetKind+MaxTargetID+
	MaxTargetName+MaxOutcome+MaxReason+MaxClientIP+MaxUserAgent+MaxRequestID) + 1024

// cut returns s if it is at most max bytes, else its longest prefix that
// ends on a character boundary and leaves room for CutMarker, then the
// marker: at most max bytes in all. s must be valid UTF-8.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len(CutMarker)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + CutMarker
}

// fit is s as an entry stores it: valid UTF-8, then cut to max.
func fit(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return cut(s, max)
}

// limit makes every string field valid UTF-8 and at most its maximum.
func (e *Entry) limit() {
	e.Action = Action(fit(string(e.Action), MaxAction))
	for _, f := range []struct {
		s   *string
		max int
	}{
		{&e.Actor.ID, MaxActorID}, {&e.Actor.Name, MaxActorName}, {&e.Actor.Role, MaxActorRole},
		{&e.Target.Kind, MaxTargetKind}, {&e.Target.ID, MaxTargetID}, {&e.Target.Name, MaxTargetName},
		{&e.Outcome, MaxOutcome}, {&e.Reason, MaxReason},
		{&e.Client.IP, MaxClientIP}, {&e.Client.UserAgent, MaxUserAgent}, {&e.RequestID, MaxRequestID},
	} {
		*f.s = fit(*f.s, f.max)
	}
}

// readLines calls fn with each line of r, without its "\n", however long:
// a log may hold entries longer than MaxLine from before the maxima, and
// one of them must not make every later export unverifiable (a
// bufio.Scanner stops at its buffer size with "token too long"). The
// slice fn gets is valid only until it returns.
func readLines(r io.Reader, fn func(line []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 {
			if ferr := fn(bytes.TrimSuffix(line, []byte("\n"))); ferr != nil {
				return ferr
			}
		}
		long = long[:0]
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
