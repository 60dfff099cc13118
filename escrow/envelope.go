package escrow

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Markers around the share in a text envelope. ReadShareFile takes what is
// between them, or the whole text when they are absent.
const (
	BeginMarker = "-----BEGIN STRONGROOM SHARE-----"
	EndMarker   = "-----END STRONGROOM SHARE-----"
)

// VerifierKeyLabel starts the text envelope's line that carries the vault's
// audit verifier key; ReadVerifierKey reads it back.
const VerifierKeyLabel = "Audit verifier key:"

// Envelope is what one holder keeps. It holds a share: it redacts itself.
type Envelope struct {
	Council     string
	VaultID     [VaultIDLen]byte
	Holder      string
	Shares      int // N
	Share       *Share
	Issued      time.Time
	VerifierKey string
}

// String never shows the share.
func (e *Envelope) String() string {
	return fmt.Sprintf("envelope for %s (%s)", e.Holder, e.Share)
}

// Text renders the plain-text envelope: everything a holder needs, in plain
// English, with the share between the markers in rows of four groups,
// each row labelled with its group numbers as the PDF labels it.
func (e *Envelope) Text() string {
	var b strings.Builder
	s := e.Share
	council := e.Council
	if council == "" {
		council = "(council not named)"
	}
	fmt.Fprintf(&b, "STRONGROOM SEALED ENVELOPE - KEEP SAFE - EMERGENCY USE ONLY\n\n")
	fmt.Fprintf(&b, "Council:          %s\n", council)
	fmt.Fprintf(&b, "Vault ID:         %s\n", hex.EncodeToString(e.VaultID[:]))
	fmt.Fprintf(&b, "Holder:           %s\n", e.Holder)
	fmt.Fprintf(&b, "Share number:     %d of %d (any %d shares together open the vault)\n", s.Index, e.Shares, s.Threshold)
	fmt.Fprintf(&b, "Escrow generation: %d\n", s.Generation)
	fmt.Fprintf(&b, "Issued:           %s\n", e.Issued.UTC().Format("2 January 2006 15:04 MST"))
	fmt.Fprintf(&b, "%s %s\n\n", VerifierKeyLabel, e.VerifierKey)
	b.WriteString(BeginMarker + "\n")
	b.WriteString(strings.Join(s.rows(), "\n") + "\n")
	b.WriteString(EndMarker + "\n\n")
	b.WriteString(Instructions)
	return b.String()
}

// rows is the share as printed, one row of rowGroups groups per line, each
// after its RowLabel, the numbers padded to two places (" 1-4  047HH …",
// "21-24 3CE1V …"), so the groups line up.
func (s *Share) rows() []string {
	groups := s.groups()
	var out []string
	for i := 0; i < len(groups); i += rowGroups {
		end := min(i+rowGroups, len(groups))
		out = append(out, fmt.Sprintf("%2d-%-2d ", i+1, end)+strings.Join(groups[i:end], " "))
	}
	return out
}

// Instructions are the emergency steps printed on every envelope; the same
// text is docs/emergency.md.
const Instructions = `WHAT THIS IS
This envelope holds one piece of the key to the council's password vault.
On its own it opens nothing. Together with the other holders' pieces it
opens the vault in an emergency, for example when the IT provider cannot be
reached or the passphrase is lost. Every use is recorded and reported.

IN AN EMERGENCY
1. Meet at least the number of holders shown above, each with their envelope.
2. Ask whoever runs the vault (or a trusted IT person) to start it, or use
   the vault's web page if it is running.
3. Each holder in turn gives their share: type it exactly as printed, scan
   the QR code, or give the file of this envelope:
   strongroom unseal --share-file FILE
4. When enough shares are in, the vault opens in emergency recovery. It
   records who took part and refuses routine changes until step 7.
5. If the passphrase is lost, the chairman logs in and sets a new one:
   strongroom recover set-passphrase --passphrase-file FILE
6. To read an admin password, the chairman states why:
   strongroom breakglass --reason "why"   then   strongroom cred get NAME
   This works for a few hours only, and every read is recorded.
7. Have new envelopes made at once (this one must never be used again):
   strongroom escrow rekey --out DIR
   Print, seal and hand out the new envelopes; destroy the old ones.

KEEPING IT SAFE
- Keep it sealed, somewhere locked. Do not photograph or copy it.
- If it is lost or seen by someone else, tell the clerk and the IT provider
  the same day: new envelopes will be issued and this one stops working.
- To check it without opening the vault: strongroom escrow check --share-file FILE
`

// ReadShareFile extracts a share from a text envelope as written by init, or
// from text holding only the share's groups.
func ReadShareFile(text string) (*Share, error) {
	if i := strings.Index(text, BeginMarker); i >= 0 {
		rest := text[i+len(BeginMarker):]
		j := strings.Index(rest, EndMarker)
		if j < 0 {
			return nil, fmt.Errorf("%w: envelope has no end marker", ErrFormat)
		}
		text = rest[:j]
	}
	return Decode(text)
}

// ReadVerifierKey returns the audit verifier key on a text envelope: what
// follows VerifierKeyLabel on the first line that starts with it, before the
// share. It does not check the key's form (its user does, with
// note.NewVerifier); ErrFormat if the envelope has no such line.
func ReadVerifierKey(text string) (string, error) {
	if i := strings.Index(text, BeginMarker); i >= 0 {
		text = text[:i]
	}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), VerifierKeyLabel); ok {
			if key := strings.TrimSpace(rest); key != "" {
				return key, nil
			}
		}
	}
	return "", fmt.Errorf("%w: no %q line in the envelope", ErrFormat, VerifierKeyLabel)
}
