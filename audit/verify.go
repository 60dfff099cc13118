package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Problem kinds a verification failure reports; callers branch on them with
// errors.As and (*ChainError).Kind.
const (
	ProblemUnreadable   = "unreadable"    // not a JSON entry of the expected shape
	ProblemNotCanonical = "not canonical" // contents hash fine but bytes differ from the canonical line
	ProblemAltered      = "altered"       // hash does not match contents: a field was changed
	ProblemMissing      = "missing"       // a seq was skipped: an entry was deleted
	ProblemOrder        = "out of order"  // a seq repeats or goes back: reordered or inserted
	ProblemBrokenLink   = "broken link"   // prev is not the previous entry's hash
	ProblemEmpty        = "empty"         // no entries at all
)

// ChainError is the first failure found in a log. Seq is the seq at which
// the log stops being trustworthy: the entry expected at that position.
type ChainError struct {
	Seq    uint64
	Kind   string
	Detail string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit: seq %d: %s: %s", e.Seq, e.Kind, e.Detail)
}

// Chain checks entries one at a time, in order. The zero value expects the
// log to start at seq 1 with prev = ZeroHash.
type Chain struct {
	count    uint64
	lastSeq  uint64
	lastHash string
	started  bool
}

// NewChainAt returns a Chain that expects the next entry to be seq+1 with
// prev = hash: for checking a log whose earlier entries were pruned, from a
// trusted anchor.
func NewChainAt(seq uint64, hash string) *Chain {
	return &Chain{lastSeq: seq, lastHash: hash, started: true}
}

// Checked reports how many entries have passed.
func (c *Chain) Checked() uint64 { return c.count }

// Head reports the seq and hash of the last entry that passed.
func (c *Chain) Head() (uint64, string) {
	if !c.started {
		return 0, ZeroHash
	}
	return c.lastSeq, c.lastHash
}

// ParseLine decodes one stored or exported line strictly: unknown fields are
// refused, and so is trailing data.
func ParseLine(line []byte) (*Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var e Entry
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("audit: bad entry: %w", err)
	}
	if dec.More() {
		return nil, errors.New("audit: bad entry: trailing data")
	}
	return &e, nil
}

// Add checks the next line of the log against everything before it.
func (c *Chain) Add(line []byte) error {
	wantSeq, wantPrev := c.Head()
	wantSeq++
	e, err := ParseLine(line)
	if err != nil {
		return &ChainError{wantSeq, ProblemUnreadable, err.Error()}
	}
	switch {
	case e.Seq > wantSeq:
		return &ChainError{wantSeq, ProblemMissing,
			fmt.Sprintf("entry %d is absent (the next entry present has seq %d)", wantSeq, e.Seq)}
	case e.Seq < wantSeq:
		return &ChainError{wantSeq, ProblemOrder,
			fmt.Sprintf("found seq %d where seq %d was expected", e.Seq, wantSeq)}
	}
	if got := e.ComputeHash(); got != e.Hash {
		return &ChainError{e.Seq, ProblemAltered, "hash does not match the entry's contents (a field was changed)"}
	}
	if e.Prev != wantPrev {
		return &ChainError{e.Seq, ProblemBrokenLink,
			"prev does not equal the hash of the entry before it (entries removed, inserted or rewritten)"}
	}
	if !bytes.Equal(e.Line(), line) {
		return &ChainError{e.Seq, ProblemNotCanonical, "bytes differ from the canonical encoding"}
	}
	c.count++
	c.lastSeq, c.lastHash, c.started = e.Seq, e.Hash, true
	return nil
}

// Report is the result of a successful verification.
type Report struct {
	Checked  uint64 `json:"checked"`
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash string `json:"head_hash"`
}

// MaxLine bounds one JSONL line; an entry is a few hundred bytes.
const MaxLine = 1 << 20

// VerifyJSONL reads a JSONL export (one entry a line, blank lines ignored)
// and checks it as one chain from seq 1. It returns the report, or the
// first failure as a *ChainError.
func VerifyJSONL(r io.Reader) (Report, error) {
	var c Chain
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), MaxLine)
	for sc.Scan() {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := c.Add(line); err != nil {
			return Report{}, err
		}
	}
	if err := sc.Err(); err != nil {
		seq, _ := c.Head()
		return Report{}, &ChainError{seq + 1, ProblemUnreadable, err.Error()}
	}
	if c.Checked() == 0 {
		return Report{}, &ChainError{1, ProblemEmpty, "the log has no entries"}
	}
	seq, hash := c.Head()
	return Report{Checked: c.Checked(), HeadSeq: seq, HeadHash: hash}, nil
}
