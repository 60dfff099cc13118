package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
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
	ProblemForked       = "forked"        // an entry's hash differs from a signed checkpoint: rewritten or forked
	ProblemTruncated    = "truncated below a checkpoint"
	ProblemAnchor       = "anchor"                       // a pruned log's starting checkpoint is missing or wrong
	ProblemAfterClose   = "after the closing checkpoint" // lines added after the export was signed
	ProblemUnwitnessed  = "not witnessed"                // entries no checkpoint cosigned by a required witness covers
	ProblemTransition   = "key transition"               // a key transition line is unreadable, unsigned or out of place
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
	h        hash.Hash // reused by the fast path
	slowOnly bool      // tests compare the two paths
	count    uint64
	redacted uint64
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

// Redacted is an entry left out of a filtered export: its seq, the
// SHA-256 digest of its canonical bytes, and its prev and hash, which the
// digest is enough to recompute. Its line is
// {"seq":N,"digest":"<hex>","prev":"<hex>","hash":"<hex>"}.
type Redacted struct {
	Seq    uint64 `json:"seq"`
	Digest string `json:"digest"`
	Prev   string `json:"prev"`
	Hash   string `json:"hash"`
}

// Redact returns the redacted form of e.
func Redact(e *Entry) *Redacted {
	d := e.Digest()
	return &Redacted{Seq: e.Seq, Digest: hex.EncodeToString(d[:]), Prev: e.Prev, Hash: e.Hash}
}

// Line is the redacted line's canonical encoding.
func (r *Redacted) Line() []byte {
	b := append([]byte(`{"seq":`), strconv.FormatUint(r.Seq, 10)...)
	b = append(append(b, `,"digest":`...), strconv.Quote(r.Digest)...)
	b = append(append(b, `,"prev":`...), strconv.Quote(r.Prev)...)
	b = append(append(b, `,"hash":`...), strconv.Quote(r.Hash)...)
	return append(b, '}')
}

func isRedacted(line []byte) bool {
	i := bytes.IndexByte(line, ',')
	return i > 0 && bytes.HasPrefix(line[i:], []byte(`,"digest":`))
}

// Add checks the next line of the log (a full entry or a redacted one)
// against everything before it.
func (c *Chain) Add(line []byte) error {
	wantSeq, wantPrev := c.Head()
	wantSeq++
	var seq uint64
	var prev, hash, got string
	var canonical []byte
	if !c.slowOnly {
		if err, ok := c.fastAdd(line); ok {
			return err
		}
	}
	if isRedacted(line) {
		r, err := parseRedacted(line)
		if err != nil {
			return &ChainError{wantSeq, ProblemUnreadable, err.Error()}
		}
		d, _ := hex.DecodeString(r.Digest)
		seq, prev, hash, got, canonical = r.Seq, r.Prev, r.Hash, ChainHash(r.Prev, d), r.Line()
		c.redacted++
	} else {
		e, err := ParseLine(line)
		if err != nil {
			return &ChainError{wantSeq, ProblemUnreadable, err.Error()}
		}
		seq, prev, hash, got, canonical = e.Seq, e.Prev, e.Hash, e.ComputeHash(), e.Line()
	}
	switch {
	case seq > wantSeq:
		return &ChainError{wantSeq, ProblemMissing,
			fmt.Sprintf("entry %d is absent (the next entry present has seq %d)", wantSeq, seq)}
	case seq < wantSeq:
		return &ChainError{wantSeq, ProblemOrder,
			fmt.Sprintf("found seq %d where seq %d was expected", seq, wantSeq)}
	}
	if got != hash {
		return &ChainError{seq, ProblemAltered, "hash does not match the entry's contents (a field was changed)"}
	}
	if prev != wantPrev {
		return &ChainError{seq, ProblemBrokenLink,
			"prev does not equal the hash of the entry before it (entries removed, inserted or rewritten)"}
	}
	if !bytes.Equal(canonical, line) {
		return &ChainError{seq, ProblemNotCanonical, "bytes differ from the canonical encoding"}
	}
	c.count++
	c.lastSeq, c.lastHash, c.started = seq, hash, true
	return nil
}

// Report is the result of a successful verification.
type Report struct {
	Checked            uint64 `json:"checked"`
	Redacted           uint64 `json:"redacted"`
	HeadSeq            uint64 `json:"head_seq"`
	HeadHash           string `json:"head_hash"`
	CheckpointsMatched int    `json:"checkpoints_matched"`
	// CheckpointsBefore counts kept checkpoints older than a pruned log's
	// start: they cover entries no longer in the log.
	CheckpointsBefore int    `json:"checkpoints_before_start,omitempty"`
	StartSeq          uint64 `json:"start_seq"`
	// Closed says the export ended with the vault's signed checkpoint of
	// exactly its last entry, so nothing was appended after it.
	Closed bool `json:"closed"`
	// ClosingTime is the time in that closing checkpoint: when the vault
	// signed the export. An export cut back to an older checkpoint shows
	// that checkpoint's (older) time.
	ClosingTime *time.Time `json:"closing_time,omitempty"`
	// Witnessed is, for each required witness, its cosignature on the
	// checkpoint at the head (the closing one or a kept one of that size).
	Witnessed []Cosignature `json:"witnessed,omitempty"`
	// ClosingNote is the closing line's signed checkpoint, as it was read
	// (what a witness cosigns).
	ClosingNote []byte `json:"-"`
	// ClosingKey is the verifier key that signed the closing checkpoint:
	// the key given, or one a key transition links it to.
	ClosingKey string `json:"-"`
	// Transitions are the key transitions followed from the key given;
	// FollowedForward says one led to a newer key than the one given, which
	// is only as trustworthy as the key given (check the newest key against
	// the current envelopes).
	Transitions     []*KeyTransition `json:"-"`
	FollowedForward bool             `json:"-"`
}

// Verifier checks an export against the vault's verifier key and the
// checkpoints an auditor kept. It does no I/O of its own.
type Verifier struct {
	chain   Chain
	key     string
	cps     []*Checkpoint // sorted by size
	next    int
	matched int
	before  int
	lines   int
	closing *Checkpoint
	// closingNote is the closing line's signed note.
	closingNote []byte
	// origin is the origin every checkpoint must name: "strongroom/" and
	// the vault ID given, else that of the first checkpoint read.
	origin string
	wit    witnessing
	// raw are the kept checkpoints, opened once the transitions are read
	// (prepare), as each is checked with the key of its era.
	raw         [][]byte
	transitions []*KeyTransition
	hist        keyHistory
	prepared    bool
	linked      map[*Checkpoint]bool // heads named by key transitions
}

// NewVerifier checks every kept checkpoint's signature with key (a
// sumdb/note verifier key). key may be empty when no checkpoint and no
// witness is given; then only the chain is checked, and the closing line's
// form (ReadCheckpoint) and its size and head, but not its signature. With
// witnesses (cosignature/v1 verifier keys, witness.go), every entry of the
// log must be covered by a checkpoint that each witness cosigned: in
// practice the closing checkpoint, or a kept checkpoint of the same size,
// must carry every witness's cosignature. Every checkpoint (kept, anchor,
// closing) must name the same vault in its origin line.
func NewVerifier(key string, checkpoints [][]byte, witnesses ...string) (*Verifier, error) {
	return NewVaultVerifier("", key, checkpoints, witnesses...)
}

// NewVaultVerifier is NewVerifier for the vault whose ID (32 lower-case hex
// digits, as envelopes print it) is vaultID: every checkpoint's origin must
// be strongroom/<vaultID>, else it fails as SigOtherVault. An empty
// vaultID is NewVerifier.
func NewVaultVerifier(vaultID, key string, checkpoints [][]byte, witnesses ...string) (*Verifier, error) {
	v := &Verifier{key: key, wit: newWitnessing(witnesses)}
	if vaultID != "" {
		if !lowerHex(vaultID, 32) {
			return nil, &ChainError{0, SigOtherVault, "the vault ID given is not 32 lower-case hex digits"}
		}
		v.origin = OriginPrefix + vaultID
	}
	if (len(checkpoints) > 0 || len(witnesses) > 0) && key == "" {
		return nil, &ChainError{0, ProblemAnchor, "checkpoints and witnesses need --key (the vault's verifier key) to be checked"}
	}
	for _, w := range witnesses {
		if _, err := NewWitnessVerifier(w); err != nil {
			return nil, &ChainError{0, SigMalformed, "a witness key: " + err.Error()}
		}
	}
	v.raw = checkpoints
	v.hist = keyHistory{eras: []era{{key, 0}}}
	v.linked = map[*Checkpoint]bool{}
	return v, nil
}

// prepare links the key transitions read to the key, then opens the kept
// checkpoints, each with the key of its era: it runs at the first line
// that is not a key transition.
func (v *Verifier) prepare() error {
	if v.prepared {
		return nil
	}
	v.prepared = true
	if v.key != "" {
		h, err := linkTransitions(v.key, v.transitions)
		if err != nil {
			return err
		}
		v.hist = h
	}
	for _, t := range v.transitions {
		if v.origin == "" {
			v.origin = t.Origin
		} else if t.Origin != v.origin {
			return &ChainError{0, SigOtherVault, fmt.Sprintf("the key transition at seq %d names another vault", t.Seq)}
		}
		cp := &Checkpoint{Origin: t.Origin, Size: t.Seq, Head: t.Head, Time: t.Time}
		v.cps, v.linked[cp] = append(v.cps, cp), true
	}
	for i, signed := range v.raw {
		cp, cos, err := v.open(signed)
		if err != nil {
			var se *SignatureError
			if errors.As(err, &se) {
				return &ChainError{0, se.Kind, fmt.Sprintf("checkpoint %d: %s", i+1, se.Detail)}
			}
			return err
		}
		v.cps = append(v.cps, cp)
		v.wit.cos[cp] = cos
	}
	sort.SliceStable(v.cps, func(i, j int) bool { return v.cps[i].Size < v.cps[j].Size })
	for i := 1; i < len(v.cps); i++ {
		if v.cps[i].Size == v.cps[i-1].Size && v.cps[i].Head != v.cps[i-1].Head {
			return &ChainError{v.cps[i].Size, ProblemForked, "two checkpoints signed by the vault disagree about the same seq (the vault's log forked)"}
		}
	}
	return nil
}

// addTransition reads a key transition line: exactly, and (with a key)
// signed by both keys it names; without a key for its form only.
func (v *Verifier) addTransition(line []byte) error {
	if v.prepared {
		return &ChainError{0, ProblemTransition, "a key transition line may only come before the anchor and the entries"}
	}
	signed, err := parseNoteLine(line, transitionPrefix)
	if err != nil {
		return &ChainError{0, ProblemTransition, "the key transition line: " + err.Error()}
	}
	var t *KeyTransition
	if v.key == "" {
		t, err = readTransition(signed)
	} else {
		t, err = OpenTransition(signed)
	}
	if err != nil {
		return &ChainError{0, ProblemTransition, err.Error()}
	}
	if n := len(v.transitions); n > 0 && t.Seq <= v.transitions[n-1].Seq {
		return &ChainError{0, ProblemTransition, "key transitions are not in increasing seq order"}
	}
	v.transitions = append(v.transitions, t)
	return nil
}

// open opens a signed checkpoint with the key and witnesses (or, without a
// key, reads its form only) and holds it to the verification's origin.
func (v *Verifier) open(signed []byte) (*Checkpoint, []Cosignature, error) {
	var cp *Checkpoint
	var cos []Cosignature
	var err error
	cp, err = ReadCheckpoint(signed)
	if err == nil && v.key != "" {
		size := cp.Size
		cp, cos, err = OpenWitnessed(signed, v.hist.keyFor(size), v.wit.keys)
		var se *SignatureError
		if errors.As(err, &se) && se.Kind == SigForeignKey && v.hist.retired(signed, size) {
			err = &SignatureError{SigRetired, "a checkpoint for a seq after a re-key is signed by the audit key that re-key retired (a key recovered from superseded envelopes?)"}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if v.origin == "" {
		v.origin = cp.Origin
	} else if cp.Origin != v.origin {
		return nil, nil, &SignatureError{SigOtherVault, "its origin names vault " + cp.VaultID() + ", not " + strings.TrimPrefix(v.origin, OriginPrefix)}
	}
	return cp, cos, nil
}

// Add takes the next line: an optional leading anchor line
// {"anchor":"<signed checkpoint>"} for a pruned log, then entries, then an
// optional closing line {"checkpoint":"<signed checkpoint>"} signed by the
// vault over exactly the last entry, after which nothing may follow.
func (v *Verifier) Add(line []byte) error {
	v.lines++
	if v.closing != nil {
		seq, _ := v.chain.Head()
		return &ChainError{seq + 1, ProblemAfterClose, "lines follow the export's closing checkpoint (added after it was signed)"}
	}
	if bytes.HasPrefix(line, []byte(transitionPrefix)) {
		return v.addTransition(line)
	}
	anchor := bytes.HasPrefix(line, []byte(anchorPrefix))
	if anchor && v.prepared {
		return &ChainError{0, ProblemAnchor, "an anchor may only follow key transitions, before every entry"}
	}
	if err := v.prepare(); err != nil {
		return err
	}
	if bytes.HasPrefix(line, []byte(closingPrefix)) {
		return v.addClosing(line)
	}
	if anchor {
		return v.addAnchor(line)
	}
	if v.chain.count == 0 {
		if err := v.skipBefore(line); err != nil {
			return err
		}
	}
	if err := v.chain.Add(line); err != nil {
		return err
	}
	seq, hash := v.chain.Head()
	for v.next < len(v.cps) && v.cps[v.next].Size == seq {
		cp := v.cps[v.next]
		if cp.Head != hash {
			return &ChainError{seq, ProblemForked, fmt.Sprintf(
				"entry %d's hash differs from the checkpoint signed at %s: the log was rewritten or forked at or before seq %d",
				seq, cp.Time.Format(time.RFC3339), seq)}
		}
		if !v.linked[cp] {
			v.matched++
		}
		v.wit.cover(seq, v.wit.cos[cp])
		v.next++
	}
	return nil
}

// addClosing checks the closing line: read exactly, opened with the key
// (or, without one, read for its form), over exactly the last entry.
func (v *Verifier) addClosing(line []byte) error {
	signed, err := parseNoteLine(line, closingPrefix)
	if err != nil {
		return &ChainError{0, ProblemUnreadable, "the closing line: " + err.Error()}
	}
	cp, cos, err := v.open(signed)
	if err != nil {
		var se *SignatureError
		if errors.As(err, &se) {
			return &ChainError{0, se.Kind, "the closing checkpoint: " + se.Detail}
		}
		return err
	}
	seq, hash := v.chain.Head()
	switch {
	case cp.Size > seq:
		return &ChainError{seq + 1, ProblemTruncated, fmt.Sprintf("the export was signed at seq %d but ends at seq %d", cp.Size, seq)}
	case cp.Size < seq:
		return &ChainError{cp.Size + 1, ProblemAfterClose, fmt.Sprintf("entries %d to %d are not covered by the export's signature (added)", cp.Size+1, seq)}
	case cp.Head != hash:
		return &ChainError{seq, ProblemForked, "the export's signature covers another head (rewritten)"}
	}
	v.closing, v.closingNote = cp, signed
	v.wit.cover(cp.Size, cos)
	return nil
}

// addAnchor starts a pruned log from its signed anchor checkpoint.
func (v *Verifier) addAnchor(line []byte) error {
	signed, err := parseNoteLine(line, anchorPrefix)
	if err != nil {
		return &ChainError{0, ProblemAnchor, "the anchor line: " + err.Error()}
	}
	if v.key == "" {
		return &ChainError{0, ProblemAnchor, "this log was pruned: give --key to check the signed checkpoint it starts from"}
	}
	cp, cos, err := v.open(signed)
	if err != nil {
		return &ChainError{0, ProblemAnchor, err.Error()}
	}
	v.chain = *NewChainAt(cp.Size, cp.Head)
	v.wit.cover(cp.Size, cos)
	return nil
}

// skipBefore sets aside kept checkpoints older than where this log starts.
func (v *Verifier) skipBefore(line []byte) error {
	start, _ := v.chain.Head()
	for v.next < len(v.cps) && v.cps[v.next].Size <= start {
		cp := v.cps[v.next]
		if cp.Size == start && v.chain.started && cp.Head != v.chain.lastHash {
			return &ChainError{start, ProblemForked, "the anchor and a kept checkpoint disagree about the same seq"}
		}
		switch {
		case cp.Size == start && v.chain.started:
			if !v.linked[cp] {
				v.matched++
			}
			v.wit.cover(start, v.wit.cos[cp])
		case !v.linked[cp]:
			v.before++
		}
		v.next++
	}
	return nil
}

// Finish reports, or names the first failure: a kept checkpoint beyond the
// end of the log means the tail was cut.
func (v *Verifier) Finish() (Report, error) {
	if err := v.prepare(); err != nil {
		return Report{}, err
	}
	seq, hash := v.chain.Head()
	if v.chain.count == 0 {
		return Report{}, &ChainError{seq + 1, ProblemEmpty, "the log has no entries"}
	}
	if v.next < len(v.cps) {
		cp := v.cps[v.next]
		return Report{}, &ChainError{seq + 1, ProblemTruncated, fmt.Sprintf(
			"the log ends at seq %d but a checkpoint signed at %s covers seq %d: entries %d to %d were cut",
			seq, cp.Time.Format(time.RFC3339), cp.Size, seq+1, cp.Size)}
	}
	witnessed, err := v.wit.check(seq)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Checked: v.chain.count, Redacted: v.chain.redacted, HeadSeq: seq, HeadHash: hash,
		CheckpointsMatched: v.matched, CheckpointsBefore: v.before, StartSeq: seq - v.chain.count + 1,
		Closed: v.closing != nil && v.key != "", Witnessed: witnessed}
	if rep.Closed {
		t := v.closing.Time
		rep.ClosingTime, rep.ClosingNote, rep.ClosingKey = &t, v.closingNote, v.hist.keyFor(v.closing.Size)
	}
	rep.Transitions, rep.FollowedForward = v.hist.followed, v.hist.forward
	return rep, nil
}

// Verify reads a JSONL export and checks it with the verifier key, kept
// checkpoints and required witnesses (NewVerifier).
func Verify(r io.Reader, key string, checkpoints [][]byte, witnesses ...string) (Report, error) {
	v, err := NewVerifier(key, checkpoints, witnesses...)
	if err != nil {
		return Report{}, err
	}
	return v.Read(r)
}

// Read feeds the lines of a JSONL export to Add and then Finish. Lines end
// with "\n" (the last may lack it); empty lines are skipped; any other line
// is given to Add as it is, so a "\r" or a line of white space fails there.
func (v *Verifier) Read(r io.Reader) (Report, error) {
	var addErr error
	err := readLines(r, func(line []byte) error {
		if len(line) == 0 {
			return nil
		}
		addErr = v.Add(line)
		return addErr
	})
	if addErr != nil {
		return Report{}, addErr
	}
	if err != nil {
		seq, _ := v.chain.Head()
		return Report{}, &ChainError{seq + 1, ProblemUnreadable, err.Error()}
	}
	return v.Finish()
}

// VerifyJSONL checks an export's chain alone, from seq 1.
func VerifyJSONL(r io.Reader) (Report, error) { return Verify(r, "", nil) }
