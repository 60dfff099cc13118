package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Outcomes of an audited request.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeError  = "error"
)

// TimeFormat is the only time layout in canonical entries: UTC, always nine
// fractional digits, so the bytes of a time never depend on its value.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// ZeroHash is the prev of entry 1: 32 zero bytes, hex-encoded.
var ZeroHash = strings.Repeat("0", 64)

// Actor is who made the request. System actions use role "system".
type Actor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// Target is what the request touched.
type Target struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Client is where the request came from.
type Client struct {
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
}

// Entry is one audit record. It never holds a secret value, TOTP seed,
// session token or share: callers put names and ids here, nothing else.
type Entry struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Actor     Actor     `json:"actor"`
	Action    Action    `json:"action"`
	Target    Target    `json:"target"`
	Outcome   string    `json:"outcome"`
	Reason    string    `json:"reason"`
	Client    Client    `json:"client"`
	RequestID string    `json:"request_id"`
	Prev      string    `json:"prev"`
	Hash      string    `json:"hash"`
}

// Canonical returns the bytes that are hashed: a JSON object with the keys
// seq, time, actor{id,name,role}, action, target{kind,id,name}, outcome,
// reason, client{ip,user_agent}, request_id, prev in exactly that order, no
// white space, seq as a decimal integer, time in TimeFormat, and strings
// escaped as described at AppendString. The hash field is not included.
func (e *Entry) Canonical() []byte {
	b := make([]byte, 0, 512)
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"time":`...)
	b = AppendString(b, e.Time.UTC().Format(TimeFormat))
	b = append(b, `,"actor":{"id":`...)
	b = AppendString(b, e.Actor.ID)
	b = append(b, `,"name":`...)
	b = AppendString(b, e.Actor.Name)
	b = append(b, `,"role":`...)
	b = AppendString(b, e.Actor.Role)
	b = append(b, `},"action":`...)
	b = AppendString(b, string(e.Action))
	b = append(b, `,"target":{"kind":`...)
	b = AppendString(b, e.Target.Kind)
	b = append(b, `,"id":`...)
	b = AppendString(b, e.Target.ID)
	b = append(b, `,"name":`...)
	b = AppendString(b, e.Target.Name)
	b = append(b, `},"outcome":`...)
	b = AppendString(b, e.Outcome)
	b = append(b, `,"reason":`...)
	b = AppendString(b, e.Reason)
	b = append(b, `,"client":{"ip":`...)
	b = AppendString(b, e.Client.IP)
	b = append(b, `,"user_agent":`...)
	b = AppendString(b, e.Client.UserAgent)
	b = append(b, `},"request_id":`...)
	b = AppendString(b, e.RequestID)
	b = append(b, `,"prev":`...)
	b = AppendString(b, e.Prev)
	b = append(b, '}')
	return b
}

// Line is the stored and exported form of an entry: the canonical bytes with
// `,"hash":"<hex>"` inserted before the closing brace. One entry per line in
// a JSONL export.
func (e *Entry) Line() []byte {
	c := e.Canonical()
	c = c[:len(c)-1]
	c = append(c, `,"hash":`...)
	c = AppendString(c, e.Hash)
	return append(c, '}')
}

// Digest returns SHA-256 of the canonical bytes: what a redacted line
// carries in place of the entry.
func (e *Entry) Digest() [32]byte { return sha256.Sum256(e.Canonical()) }

// ComputeHash returns hex(SHA-256(raw prev bytes || SHA-256(Canonical()))).
// Hashing the digest rather than the bytes lets an export leave an entry
// out (a redacted line carries only its digest) while every hash stays
// checkable. A prev that is not 64 hex digits hashes as given, so the
// mismatch surfaces as a hash or link failure rather than a panic.
func (e *Entry) ComputeHash() string {
	d := e.Digest()
	return ChainHash(e.Prev, d[:])
}

// ChainHash is hex(SHA-256(raw prev || digest)).
func ChainHash(prev string, digest []byte) string {
	h := sha256.New()
	if p, err := hex.DecodeString(prev); err == nil && len(p) == sha256.Size {
		h.Write(p)
	} else {
		h.Write([]byte(prev))
	}
	h.Write(digest)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets Seq, Prev and Hash so that e follows an entry whose seq and hash
// are given (0 and ZeroHash for the first entry). Strings that are not valid
// UTF-8 are repaired first so the canonical bytes are well defined, and a
// field longer than its maximum (MaxReason and the others) is cut, ending
// with CutMarker: this is the one place every entry passes through.
func (e *Entry) Seal(prevSeq uint64, prevHash string) {
	e.Seq = prevSeq + 1
	e.Prev = prevHash
	e.Time = e.Time.UTC()
	e.limit()
	e.Hash = e.ComputeHash()
}

// AppendString appends s as a JSON string (the canonical escaping, also
// used by the API to write secrets into buffers it wipes): '"' and '\' are escaped with a
// backslash; \b \f \n \r \t use their short escapes; every other byte below
// 0x20 is written \u00XX with lower-case hex; all other characters,
// including non-ASCII, are written as their UTF-8 bytes unchanged.
func AppendString[T string | []byte](b []byte, s T) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}
