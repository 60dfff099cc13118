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

// Checkpoint is a signed statement of the log's state: after Size entries
// the head hash was Head. Its note text (C2SP checkpoint style) is
//
//	<origin>\n<size>\n<base64 of the 32 head hash bytes>\ntime <RFC 3339 UTC>\n
//
// signed with the vault's audit key in the sumdb/note format. Origin is
// "strongroom/<vault id, 32 lower-case hex digits>".
type Checkpoint struct {
	Origin string
	Size   uint64
	Head   string // hex
	Time   time.Time
}

// Text is the note body that is signed.
func (c *Checkpoint) Text() string {
	raw, _ := hex.DecodeString(c.Head)
	return fmt.Sprintf("%s\n%d\n%s\ntime %s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(raw),
		c.Time.UTC().Format(time.RFC3339))
}

// ParseCheckpoint reads a note body strictly.
func ParseCheckpoint(text string) (*Checkpoint, error) {
	lines := strings.Split(text, "\n")
	if len(lines) != 5 || lines[4] != "" {
		return nil, errors.New("audit: checkpoint is not origin, size, hash and time lines")
	}
	if id, ok := strings.CutPrefix(lines[0], OriginPrefix); !ok || !lowerHex(id, 32) {
		return nil, errors.New("audit: checkpoint origin is not strongroom/<32 lower-case hex digits>")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return nil, errors.New("audit: checkpoint size is not a decimal number")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(raw) != 32 {
		return nil, errors.New("audit: checkpoint hash is not 32 bytes of base64")
	}
	ts, ok := strings.CutPrefix(lines[3], "time ")
	t, err := time.Parse(time.RFC3339, ts)
	if !ok || err != nil || t.UTC().Format(time.RFC3339) != ts {
		return nil, errors.New("audit: checkpoint time is not RFC 3339 UTC")
	}
	c := &Checkpoint{Origin: lines[0], Size: size, Head: hex.EncodeToString(raw), Time: t}
	if c.Text() != text {
		return nil, errors.New("audit: checkpoint is not in canonical form")
	}
	return c, nil
}

// OriginPrefix starts every checkpoint's origin line; the vault ID follows.
const OriginPrefix = "strongroom/"

// VaultID is the vault ID the origin names (32 lower-case hex digits).
func (c *Checkpoint) VaultID() string { return strings.TrimPrefix(c.Origin, OriginPrefix) }

// checkKeyName refuses a checkpoint for another vault than the verifier
// key's: a key named strongroom-<12 lower-case hex digits> (what the vault
// makes, SECURITY.md "Keys") belongs to the vault whose ID starts with
// them. Keys named otherwise carry no vault ID to compare.
func checkKeyName(c *Checkpoint, keyName string) error {
	prefix, ok := strings.CutPrefix(keyName, "strongroom-")
	if !ok || !lowerHex(prefix, 12) {
		return nil
	}
	if !strings.HasPrefix(c.VaultID(), prefix) {
		return &SignatureError{SigOtherVault, "the checkpoint's origin names vault " + c.VaultID() + ", not the vault of key " + keyName}
	}
	return nil
}

// noKeys knows no verifier: note.Open then checks a note's syntax alone.
type noKeys struct{}

func (noKeys) Verifier(name string, hash uint32) (note.Verifier, error) {
	return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
}

// noteText is the text of a signed note whose syntax is right, without
// checking any signature.
func noteText(signed []byte) (string, error) {
	_, err := note.Open(signed, noKeys{})
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return "", &SignatureError{SigMalformed, "not a signed note"}
	}
	return unverified.Note.Text, nil
}

// ReadCheckpoint parses a signed checkpoint without checking any signature:
// the note's syntax (SECURITY.md "Checkpoints": valid UTF-8, no control
// character but newline, text, blank line, at least one well-formed
// signature line) and the checkpoint text. It is what a verifier without
// the vault's key can check of a closing line; it proves nothing about who
// signed it.
func ReadCheckpoint(signed []byte) (*Checkpoint, error) {
	text, err := noteText(signed)
	if err != nil {
		return nil, err
	}
	c, err := ParseCheckpoint(text)
	if err != nil {
		return nil, &SignatureError{SigMalformed, err.Error()}
	}
	return c, nil
}

// SignCheckpoint returns the signed note.
func SignCheckpoint(c *Checkpoint, signer note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.Text()}, signer)
}

// SignatureError says why a signed checkpoint was not accepted.
type SignatureError struct{ Kind, Detail string }

func (e *SignatureError) Error() string { return "audit: checkpoint " + e.Kind + ": " + e.Detail }

// Kinds of SignatureError.
const (
	SigForeignKey = "signed by another key"
	SigInvalid    = "bad signature"
	SigMalformed  = "malformed"
	SigOtherVault = "for another vault" // the origin names another vault than the key's or the one given
)

// OpenCheckpoint verifies a signed checkpoint with the vault's verifier key
// and parses it. It is a pure function of its inputs.
func OpenCheckpoint(signed []byte, verifierKey string) (*Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return nil, &SignatureError{SigMalformed, "the verifier key is not a note verifier key"}
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return nil, &SignatureError{SigForeignKey, "no signature by " + v.Name() + " (signed by a key this vault does not use)"}
		case errors.As(err, &invalid):
			return nil, &SignatureError{SigInvalid, "the signature by " + v.Name() + " does not verify (the checkpoint was altered)"}
		}
		return nil, &SignatureError{SigMalformed, err.Error()}
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return nil, &SignatureError{SigMalformed, err.Error()}
	}
	if err := checkKeyName(c, v.Name()); err != nil {
		return nil, err
	}
	return c, nil
}
