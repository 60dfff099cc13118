package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Witness cosignatures, as C2SP tlog-cosignature defines cosignature/v1 for
// Ed25519 (signature type 0x04). A witness is an auditor's own key, never
// the vault's: its cosignature on a checkpoint says that, as of its
// timestamp, the witness checked the export that checkpoint closes.
//
// The cosignature is a second signature line of the checkpoint's note:
//
//	— <witness name> base64(key ID (4) || timestamp (8, big-endian) || Ed25519 signature (64))
//
// key ID = SHA-256(name || "\n" || 0x04 || public key)[:4]; the signature is
// over "cosignature/v1\ntime <timestamp, decimal>\n" followed by the whole
// checkpoint text (the note body, including the time line and the final
// newline). The verifier key is <name>+<key ID, 8 hex>+<base64(0x04 ||
// public key)>; the signer key is PRIVATE+KEY+<name>+<key ID>+<base64(0x04
// || 32-byte seed)>.

// algCosignatureV1 is the signed-note signature type of cosignature/v1.
const algCosignatureV1 = 0x04

const cosignaturePrefix = "cosignature/v1\ntime "

func witnessKeyID(name string, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{algCosignatureV1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "+ \t\n") && strings.ToValidUTF8(name, "") == name
}

// GenerateWitnessKey makes a witness key named name from rand: the signer
// key (keep it private; wipe the slice after use) and the verifier key
// (give it to whoever verifies).
func GenerateWitnessKey(rand io.Reader, name string) (skey []byte, vkey string, err error) {
	if !validName(name) {
		return nil, "", errors.New("audit: a witness name must be non-empty, without spaces or '+'")
	}
	seed := make([]byte, ed25519.SeedSize)
	defer clear(seed)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, "", err
	}
	skey, vkey = witnessKeys(name, seed)
	return skey, vkey, nil
}

func witnessKeys(name string, seed []byte) (skey []byte, vkey string) {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	id := fmt.Sprintf("%08x", witnessKeyID(name, pub))
	raw := append([]byte{algCosignatureV1}, seed...)
	defer clear(raw)
	skey = []byte("PRIVATE+KEY+" + name + "+" + id + "+")
	skey = base64.StdEncoding.AppendEncode(skey, raw)
	return skey, name + "+" + id + "+" + base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...))
}

// parseWitnessKey reads <name>+<id>+<base64(0x04 || key)> with a key of n
// bytes. The key comes back in a fresh slice (the caller may wipe it).
func parseWitnessKey(s []byte, n int) (string, uint32, []byte, error) {
	parts := bytes.SplitN(s, []byte("+"), 3)
	if len(parts) != 3 || !validName(string(parts[0])) || len(parts[1]) != 8 || !bytes.Equal(bytes.ToLower(parts[1]), parts[1]) {
		return "", 0, nil, errors.New("audit: not a witness key (name+keyid+key)")
	}
	id, err := strconv.ParseUint(string(parts[1]), 16, 32)
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(parts[2])))
	m, err2 := base64.StdEncoding.Strict().Decode(raw, parts[2])
	if err != nil || err2 != nil || m != 1+n || raw[0] != algCosignatureV1 {
		clear(raw)
		return "", 0, nil, errors.New("audit: not a cosignature/v1 Ed25519 witness key")
	}
	return string(parts[0]), uint32(id), raw[1 : 1+n], nil
}

// WitnessSigner makes cosignature/v1 signatures; it is a note.Signer.
type WitnessSigner struct {
	name string
	id   uint32
	priv ed25519.PrivateKey
	now  func() time.Time
}

// NewWitnessSigner reads a signer key from GenerateWitnessKey (it does not
// keep skey: the caller wipes it); now gives each cosignature's timestamp.
func NewWitnessSigner(skey []byte, now func() time.Time) (*WitnessSigner, error) {
	rest, ok := bytes.CutPrefix(bytes.TrimSpace(skey), []byte("PRIVATE+KEY+"))
	if !ok {
		return nil, errors.New("audit: not a witness signer key")
	}
	name, id, seed, err := parseWitnessKey(rest, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	clear(seed)
	if witnessKeyID(name, priv.Public().(ed25519.PublicKey)) != id {
		return nil, errors.New("audit: the witness key's id does not match its key")
	}
	return &WitnessSigner{name: name, id: id, priv: priv, now: now}, nil
}

// Name is the witness's key name.
func (s *WitnessSigner) Name() string { return s.name }

// String, Format and MarshalJSON name the witness, never its key.
func (s *WitnessSigner) String() string { return "witness signer " + s.name }

// Format writes String for every verb.
func (s *WitnessSigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// MarshalJSON is String as a JSON string.
func (s *WitnessSigner) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// KeyHash is the key ID.
func (s *WitnessSigner) KeyHash() uint32 { return s.id }

// Sign returns timestamp || signature over the cosigned message of msg.
func (s *WitnessSigner) Sign(msg []byte) ([]byte, error) {
	t := s.now().Unix()
	if t < 0 {
		return nil, errors.New("audit: a cosignature time before 1970")
	}
	m := append([]byte(cosignaturePrefix+strconv.FormatInt(t, 10)+"\n"), msg...)
	return append(binary.BigEndian.AppendUint64(nil, uint64(t)), ed25519.Sign(s.priv, m)...), nil
}

// witnessVerifier checks cosignature/v1 signatures; it is a note.Verifier.
type witnessVerifier struct {
	key  string
	name string
	id   uint32
	pub  ed25519.PublicKey
}

// NewWitnessVerifier reads a witness verifier key.
func NewWitnessVerifier(vkey string) (note.Verifier, error) {
	name, id, pub, err := parseWitnessKey([]byte(strings.TrimSpace(vkey)), ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	if witnessKeyID(name, pub) != id {
		return nil, errors.New("audit: the witness key's id does not match its key")
	}
	return &witnessVerifier{key: strings.TrimSpace(vkey), name: name, id: id, pub: pub}, nil
}

func (v *witnessVerifier) Name() string    { return v.name }
func (v *witnessVerifier) KeyHash() uint32 { return v.id }
func (v *witnessVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return false
	}
	m := append([]byte(cosignaturePrefix+strconv.FormatUint(t, 10)+"\n"), msg...)
	return ed25519.Verify(v.pub, m, sig[8:])
}

// Cosignature is a witness's verified cosignature on a checkpoint.
type Cosignature struct {
	Witness string    `json:"witness"` // the witness's verifier key
	Time    time.Time `json:"time"`    // when the witness cosigned (whole seconds, UTC)
}

// Cosign verifies signed with the vault's verifier key and returns it with
// w's cosignature added after the signatures already on it (another
// witness's are kept; an earlier one by w is replaced).
func Cosign(signed []byte, verifierKey string, w note.Signer) ([]byte, error) {
	if _, _, err := OpenWitnessed(signed, verifierKey, nil); err != nil {
		return nil, err
	}
	v, _ := note.NewVerifier(verifierKey)
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return nil, err
	}
	n.Sigs = append(n.Sigs, n.UnverifiedSigs...)
	n.UnverifiedSigs = nil
	return note.Sign(n, w)
}

// OpenWitnessed is OpenCheckpoint that also checks cosignatures by the
// witness verifier keys given: it returns those that verified. A
// signature line by a witness key that does not verify fails as
// SigInvalid; lines by keys not given are ignored. The vault's signature
// is required whatever witnesses sign.
func OpenWitnessed(signed []byte, verifierKey string, witnesses []string) (*Checkpoint, []Cosignature, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return nil, nil, &SignatureError{SigMalformed, "the verifier key is not a note verifier key"}
	}
	list := []note.Verifier{v}
	for _, k := range witnesses {
		wv, err := NewWitnessVerifier(k)
		if err != nil {
			return nil, nil, &SignatureError{SigMalformed, "a witness key: " + err.Error()}
		}
		list = append(list, wv)
	}
	n, err := note.Open(signed, note.VerifierList(list...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return nil, nil, &SignatureError{SigForeignKey, "no signature by " + v.Name() + " (signed by a key this vault does not use)"}
		case errors.As(err, &invalid):
			return nil, nil, &SignatureError{SigInvalid, "the signature by " + invalid.Name + " does not verify (the checkpoint was altered)"}
		}
		return nil, nil, &SignatureError{SigMalformed, err.Error()}
	}
	var cos []Cosignature
	vault := false
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			vault = true
			continue
		}
		raw, _ := base64.StdEncoding.DecodeString(s.Base64)
		for _, wv := range list[1:] {
			if w := wv.(*witnessVerifier); s.Name == w.name && s.Hash == w.id {
				t := int64(binary.BigEndian.Uint64(raw[4:12]))
				cos = append(cos, Cosignature{Witness: w.key, Time: time.Unix(t, 0).UTC()})
			}
		}
	}
	if !vault {
		return nil, nil, &SignatureError{SigForeignKey, "no signature by " + v.Name() + " (only a witness signed it)"}
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return nil, nil, &SignatureError{SigMalformed, err.Error()}
	}
	if err := checkKeyName(c, v.Name()); err != nil {
		return nil, nil, err
	}
	return c, cos, nil
}

// witnessing tracks, for each required witness, the largest checkpoint the
// log matched that the witness cosigned.
type witnessing struct {
	keys   []string
	cos    map[*Checkpoint][]Cosignature // the kept checkpoints' cosignatures
	upTo   map[string]uint64
	latest map[string]Cosignature
}

func newWitnessing(keys []string) witnessing {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = strings.TrimSpace(k)
	}
	return witnessing{keys: ks, cos: map[*Checkpoint][]Cosignature{}, upTo: map[string]uint64{}, latest: map[string]Cosignature{}}
}

// cover notes that the log matched a checkpoint of size seq carrying cos.
func (w *witnessing) cover(seq uint64, cos []Cosignature) {
	for _, c := range cos {
		if seq > w.upTo[c.Witness] || (seq == w.upTo[c.Witness] && c.Time.After(w.latest[c.Witness].Time)) {
			w.upTo[c.Witness], w.latest[c.Witness] = seq, c
		}
	}
}

// check requires every witness to have cosigned a checkpoint at head: the
// hash chain makes it vouch for every entry before it, so it is at or after
// every kept point (kept checkpoints, the anchor, the closing one).
func (w *witnessing) check(head uint64) ([]Cosignature, error) {
	var out []Cosignature
	for _, k := range w.keys {
		if w.upTo[k] < head {
			name, _, _ := strings.Cut(k, "+")
			return nil, &ChainError{w.upTo[k] + 1, ProblemUnwitnessed, fmt.Sprintf(
				"no checkpoint at seq %d (the log's last entry) carries a cosignature by witness %s: entries %d to %d are vouched for by the vault's key alone",
				head, name, w.upTo[k]+1, head)}
		}
		out = append(out, w.latest[k])
	}
	return out, nil
}

// ProblemTooOld is the kind CheckAge reports.
const ProblemTooOld = "too old"

// CheckAge fails (as ProblemTooOld, naming the seq after the head: what
// may have been cut) when the export's closing checkpoint was signed more
// than maxAge before now, or when a required witness's cosignature is
// older than that. An export cut back to an earlier genuine checkpoint
// shows that checkpoint's time; one cut back and closed again with keys
// recovered from envelopes shows a new closing time, but no witness's
// cosignature on its head can be newer than when the witness saw it.
func (r Report) CheckAge(now time.Time, maxAge time.Duration) error {
	if r.ClosingTime == nil {
		return &ChainError{r.HeadSeq + 1, ProblemTooOld, "the export has no signed closing checkpoint, so its age is unknown"}
	}
	if age := now.Sub(*r.ClosingTime); age > maxAge {
		return &ChainError{r.HeadSeq + 1, ProblemTooOld, fmt.Sprintf(
			"the export was closed at %s, %s ago, longer ago than %s: it may have been cut back to an earlier checkpoint",
			r.ClosingTime.Format(time.RFC3339), age.Truncate(time.Second), maxAge)}
	}
	for _, c := range r.Witnessed {
		if age := now.Sub(c.Time); age > maxAge {
			name, _, _ := strings.Cut(c.Witness, "+")
			return &ChainError{r.HeadSeq + 1, ProblemTooOld, fmt.Sprintf(
				"witness %s cosigned the export's head at %s, %s ago, longer ago than %s: the export may have been cut back to a point it saw earlier",
				name, c.Time.Format(time.RFC3339), age.Truncate(time.Second), maxAge)}
		}
	}
	return nil
}
