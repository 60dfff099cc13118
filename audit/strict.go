package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// The strict readers of export lines (SECURITY.md "Verifying a log", step
// 2). encoding/json alone is too lenient for a format a second
// implementation must match: it matches keys case-insensitively, keeps the
// last of two equal keys, turns null into "", and replaces invalid UTF-8
// with U+FFFD. These readers walk the tokens and accept exactly the keys of
// the format, in order, with values of the right type; anything else is
// refused, naming the field, never quoting the line.

// Keys of a full entry and of a redacted line, in order.
var (
	entryKeys    = []string{"seq", "time", "actor", "action", "target", "outcome", "reason", "client", "request_id", "prev", "hash"}
	redactedKeys = []string{"seq", "digest", "prev", "hash"}
)

// shapeError is a line that is not of the format's shape; its text names
// the field only.
type shapeError string

func (e shapeError) Error() string { return string(e) }

// lineProblem refuses what every line must be before its JSON is read:
// valid UTF-8, without the byte 0x0D (no CRLF line ends), and not only
// white space.
func lineProblem(line []byte) string {
	switch {
	case !utf8.Valid(line):
		return "the line is not valid UTF-8"
	case bytes.IndexByte(line, '\r') >= 0:
		return "the line holds a carriage return (0x0D): CRLF line ends are not accepted"
	case len(bytes.TrimLeft(line, " \t")) == 0:
		return "the line holds only white space"
	}
	return ""
}

// walker reads one JSON object's tokens strictly.
type walker struct{ dec *json.Decoder }

func newWalker(line []byte) walker {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	return walker{dec}
}

func (w walker) delim(d json.Delim, where string) error {
	t, err := w.dec.Token()
	if err != nil || t != d {
		return shapeError(fmt.Sprintf("expected %q %s", string(d), where))
	}
	return nil
}

// object reads an object with exactly keys, in order, calling val to read
// each value.
func (w walker) object(keys []string, prefix string, val func(key string) error) error {
	if err := w.delim('{', "to open "+prefix+"the object"); err != nil {
		return err
	}
	for i, k := range keys {
		t, err := w.dec.Token()
		if s, ok := t.(string); err != nil || !ok || s != k {
			return shapeError(fmt.Sprintf("key %d of %sthe object is not %q (keys are exactly %q, in this order, case included)", i+1, prefix, k, keys))
		}
		if err := val(k); err != nil {
			return err
		}
	}
	return w.delim('}', "after "+prefix+keys[len(keys)-1]+" (no other keys are allowed)")
}

func (w walker) str(field string) (string, error) {
	t, err := w.dec.Token()
	s, ok := t.(string)
	if err != nil || !ok {
		return "", shapeError(field + " is not a string")
	}
	return s, nil
}

// hex64 reads a string of exactly 64 lower-case hex digits.
func (w walker) hex64(field string) (string, error) {
	s, err := w.str(field)
	if err != nil {
		return "", err
	}
	if !isHex64(s) {
		return "", shapeError(field + " is not 64 lower-case hex digits")
	}
	return s, nil
}

func isHex64(s string) bool { return lowerHex(s, 64) }

// lowerHex reports whether s is exactly n lower-case hex digits.
func lowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

// seq reads a JSON integer in [0, 2^64): no sign, fraction or exponent.
func (w walker) seq() (uint64, error) {
	t, err := w.dec.Token()
	n, ok := t.(json.Number)
	if err != nil || !ok {
		return 0, shapeError("seq is not a number")
	}
	v, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		return 0, shapeError("seq is not an integer from 0 to 2^64-1")
	}
	return v, nil
}

// end requires nothing but white space after the object.
func (w walker) end() error {
	if _, err := w.dec.Token(); err != io.EOF {
		return shapeError("data after the object")
	}
	return nil
}

// ParseLine decodes one stored or exported full entry line strictly: the
// line is valid UTF-8 without 0x0D; its keys are exactly those of
// Entry.Canonical plus hash, in that order, case included, none repeated;
// seq is an integer; every other value is a string (never null); time has
// TimeFormat's shape and is a real instant; outcome is ok, denied or error;
// prev and hash are 64 lower-case hex digits. It does not check that the
// bytes are canonical (Chain.Add does, after the hash).
func ParseLine(line []byte) (*Entry, error) {
	if p := lineProblem(line); p != "" {
		return nil, errors.New("audit: bad entry: " + p)
	}
	var e Entry
	w := newWalker(line)
	strs := func(prefix string, dst ...*string) func(string) error {
		i := 0
		return func(k string) (err error) {
			*dst[i], err = w.str(prefix + k)
			i++
			return err
		}
	}
	err := w.object(entryKeys, "", func(k string) (err error) {
		switch k {
		case "seq":
			e.Seq, err = w.seq()
		case "time":
			e.Time, err = w.time()
		case "actor":
			err = w.object([]string{"id", "name", "role"}, "actor.", strs("actor.", &e.Actor.ID, &e.Actor.Name, &e.Actor.Role))
		case "action":
			var a string
			a, err = w.str(k)
			e.Action = Action(a)
		case "target":
			err = w.object([]string{"kind", "id", "name"}, "target.", strs("target.", &e.Target.Kind, &e.Target.ID, &e.Target.Name))
		case "outcome":
			if e.Outcome, err = w.str(k); err == nil && !validOutcome(e.Outcome) {
				err = shapeError("outcome is not ok, denied or error")
			}
		case "reason":
			e.Reason, err = w.str(k)
		case "client":
			err = w.object([]string{"ip", "user_agent"}, "client.", strs("client.", &e.Client.IP, &e.Client.UserAgent))
		case "request_id":
			e.RequestID, err = w.str(k)
		case "prev":
			e.Prev, err = w.hex64(k)
		case "hash":
			e.Hash, err = w.hex64(k)
		}
		return err
	})
	if err == nil {
		err = w.end()
	}
	if err != nil {
		return nil, fmt.Errorf("audit: bad entry: %w", err)
	}
	return &e, nil
}

func (w walker) time() (time.Time, error) {
	s, err := w.str("time")
	if err != nil {
		return time.Time{}, err
	}
	if !validTime([]byte(s)) {
		return time.Time{}, shapeError("time is not a UTC time of the form YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ")
	}
	t, err := time.Parse(TimeFormat, s)
	if err != nil {
		return time.Time{}, shapeError("time is not a UTC time of the form YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ")
	}
	return t, nil
}

func validOutcome(s string) bool {
	return s == OutcomeOK || s == OutcomeDenied || s == OutcomeError
}

// parseRedacted decodes a redacted line strictly: exactly its four keys, in
// order; seq an integer; digest, prev and hash 64 lower-case hex digits.
func parseRedacted(line []byte) (*Redacted, error) {
	if p := lineProblem(line); p != "" {
		return nil, errors.New("audit: bad redacted entry: " + p)
	}
	var r Redacted
	w := newWalker(line)
	err := w.object(redactedKeys, "", func(k string) (err error) {
		switch k {
		case "seq":
			r.Seq, err = w.seq()
		case "digest":
			r.Digest, err = w.hex64(k)
		case "prev":
			r.Prev, err = w.hex64(k)
		case "hash":
			r.Hash, err = w.hex64(k)
		}
		return err
	})
	if err == nil {
		err = w.end()
	}
	if err != nil {
		return nil, fmt.Errorf("audit: bad redacted entry: %w", err)
	}
	return &r, nil
}

// Prefixes of the two lines of an export that are not entries.
const (
	closingPrefix = `{"checkpoint":`
	anchorPrefix  = `{"anchor":`
)

// ClosingLine is an export's closing line for a signed checkpoint:
// {"checkpoint":<the note as a JSON string>}, the string escaped as
// AppendString does (the canonical escaping of entries).
func ClosingLine(signed []byte) []byte {
	return append(AppendString([]byte(closingPrefix), signed), '}')
}

// AnchorLine is a pruned log's first line for its signed anchor checkpoint:
// {"anchor":<the note as a JSON string>}, escaped as ClosingLine is.
func AnchorLine(signed []byte) []byte {
	return append(AppendString([]byte(anchorPrefix), signed), '}')
}

// parseNoteLine reads a closing or anchor line exactly: prefix, one JSON
// string in the canonical escaping, "}", nothing else. It returns the note.
func parseNoteLine(line []byte, prefix string) ([]byte, error) {
	if p := lineProblem(line); p != "" {
		return nil, errors.New(p)
	}
	body, okPrefix := bytes.CutPrefix(line, []byte(prefix))
	body, okSuffix := bytes.CutSuffix(body, []byte("}"))
	if !okPrefix || !okSuffix || len(body) < 2 || body[0] != '"' {
		return nil, fmt.Errorf("the line is not exactly %s\"…\"}", prefix)
	}
	var s string
	if err := json.Unmarshal(body, &s); err != nil || !bytes.Equal(AppendString(nil, s), body) {
		return nil, errors.New("the note is not one JSON string in the canonical escaping (SECURITY.md, Canonical entry encoding)")
	}
	return []byte(s), nil
}
