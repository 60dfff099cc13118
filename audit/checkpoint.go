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
// "strongroom/<vault id in hex>".
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
	if len(lines) != 5 || lines[4] != "" || lines[0] == "" || strings.ContainsAny(lines[0], " \t") {
		return nil, errors.New("audit: checkpoint is not origin, size, hash and time lines")
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
	return c, nil
}
