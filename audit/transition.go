package audit

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// KeyTransition is a re-key's statement that the vault's audit signing
// key changed: from the entry of seq Seq on (the re-key's own escrow.rekey
// entry, whose hash is Head) checkpoints are signed by New, and before it
// by Old. Its note text is
//
//	<origin>\nkey transition <seq>\n<base64 of the 32 head hash bytes>\nold <old verifier key>\nnew <new verifier key>\ntime <RFC 3339 UTC>\n
//
// and it is signed by both keys, so neither key alone can introduce the
// other: a verifier given the new key follows it back to the old one, a
// verifier given the old key forward to the new one.
type KeyTransition struct {
	Origin   string
	Seq      uint64
	Head     string // hex
	Old, New string // verifier keys
	Time     time.Time
}

// Text is the note body that both keys sign.
func (k *KeyTransition) Text() string {
	raw, _ := hex.DecodeString(k.Head)
	return fmt.Sprintf("%s\nkey transition %d\n%s\nold %s\nnew %s\ntime %s\n", k.Origin, k.Seq,
		base64.StdEncoding.EncodeToString(raw), k.Old, k.New, k.Time.UTC().Format(time.RFC3339))
}

// ParseTransition reads a key transition's note body strictly.
func ParseTransition(text string) (*KeyTransition, error) {
	lines := strings.Split(text, "\n")
	bad := errors.New("audit: not a key transition (origin, key transition <seq>, head, old, new and time lines)")
	if len(lines) != 7 || lines[6] != "" {
		return nil, bad
	}
	if id, ok := strings.CutPrefix(lines[0], OriginPrefix); !ok || !lowerHex(id, 32) {
		return nil, errors.New("audit: key transition origin is not strongroom/<32 lower-case hex digits>")
	}
	seqText, ok := strings.CutPrefix(lines[1], "key transition ")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if !ok || err != nil || seq == 0 {
		return nil, bad
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(raw) != 32 {
		return nil, errors.New("audit: key transition head is not 32 bytes of base64")
	}
	oldKey, ok1 := strings.CutPrefix(lines[3], "old ")
	newKey, ok2 := strings.CutPrefix(lines[4], "new ")
	_, err1 := note.NewVerifier(oldKey)
	_, err2 := note.NewVerifier(newKey)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || oldKey == newKey {
		return nil, errors.New("audit: key transition keys are not two different note verifier keys")
	}
	ts, ok := strings.CutPrefix(lines[5], "time ")
	t, err := time.Parse(time.RFC3339, ts)
	if !ok || err != nil {
		return nil, bad
	}
	k := &KeyTransition{Origin: lines[0], Seq: seq, Head: hex.EncodeToString(raw), Old: oldKey, New: newKey, Time: t}
	if k.Text() != text {
		return nil, errors.New("audit: key transition is not in canonical form")
	}
	return k, nil
}

// SignTransition returns the transition signed by the old key, then the
// new one.
func SignTransition(k *KeyTransition, old, new note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: k.Text()}, old, new)
}

// OpenTransition parses a signed key transition and requires valid
// signatures by both the keys it names. It does not say whether either key
// is to be trusted: the Verifier links transitions to the key it was given.
func OpenTransition(signed []byte) (*KeyTransition, error) {
	k, err := readTransition(signed)
	if err != nil {
		return nil, err
	}
	for _, key := range []string{k.Old, k.New} {
		v, _ := note.NewVerifier(key)
		if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
			return nil, &SignatureError{SigInvalid, "the key transition at seq " + strconv.FormatUint(k.Seq, 10) +
				" is not signed by both keys it names (" + v.Name() + ")"}
		}
	}
	return k, nil
}

// readTransition parses a signed key transition for its form only: what a
// verifier without a key can check.
func readTransition(signed []byte) (*KeyTransition, error) {
	text, err := noteText(signed)
	if err != nil {
		return nil, err
	}
	k, err := ParseTransition(text)
	if err != nil {
		return nil, &SignatureError{SigMalformed, err.Error()}
	}
	return k, nil
}

const transitionPrefix = `{"transition":`

// TransitionLine is an export's line for a signed key transition:
// {"transition":<the note as a JSON string>}, escaped as ClosingLine is.
// Transition lines come first in an export, oldest first, before any
// anchor and entry.
func TransitionLine(signed []byte) []byte {
	return append(AppendString([]byte(transitionPrefix), signed), '}')
}

// SigRetired is the kind of a checkpoint signed, for a seq at or after a
// key transition, by the key that transition retired.
const SigRetired = "signed by a retired key"

// era is one audit signing key and the first seq it signs for.
type era struct {
	key  string
	from uint64
}

// keyHistory is the chain of eras linked to the key the verifier was
// given, built from the export's transitions.
type keyHistory struct {
	eras     []era // by from; eras[0].from is 0
	followed []*KeyTransition
	forward  bool // a transition was followed from the given key to a newer one
}

// linkTransitions links the transitions to key: backwards from it (each
// transition whose new key is trusted makes its old key trusted before its
// seq) and forwards (each whose old key is trusted makes its new key
// trusted from its seq). A transition that does not link, two that
// disagree, or seqs that do not increase, fail.
func linkTransitions(key string, ts []*KeyTransition) (keyHistory, error) {
	h := keyHistory{eras: []era{{key, 0}}}
	used := make([]bool, len(ts))
	for progress := true; progress; {
		progress = false
		for i, t := range ts {
			if used[i] {
				continue
			}
			first, last := h.eras[0], h.eras[len(h.eras)-1]
			switch {
			case t.New == first.key && (len(h.eras) == 1 || t.Seq < h.eras[1].from):
				h.eras[0].from = t.Seq
				h.eras = append([]era{{t.Old, 0}}, h.eras...)
			case t.Old == last.key && t.Seq > last.from:
				h.eras = append(h.eras, era{t.New, t.Seq})
				h.forward = true
			default:
				continue
			}
			used[i], progress = true, true
			h.followed = append(h.followed, t)
		}
	}
	for i, t := range ts {
		if !used[i] {
			return h, &ChainError{0, SigForeignKey, fmt.Sprintf("the key transition at seq %d does not link to the verifier key given (or disagrees with another)", t.Seq)}
		}
	}
	return h, nil
}

// keyFor is the key that signs checkpoints of size.
func (h *keyHistory) keyFor(size uint64) string {
	k := h.eras[0].key
	for _, e := range h.eras[1:] {
		if size >= e.from {
			k = e.key
		}
	}
	return k
}

// retired reports whether signed verifies under a key of an era before
// the one that covers size: a retired key, possibly recovered from
// superseded envelopes, signing where it no longer may.
func (h *keyHistory) retired(signed []byte, size uint64) bool {
	for _, e := range h.eras {
		if e.key == h.keyFor(size) {
			return false
		}
		if _, err := OpenCheckpoint(signed, e.key); err == nil {
			return true
		}
	}
	return false
}
