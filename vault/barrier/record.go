package barrier

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Sealed blob format v1 (SECURITY.md "Sealed record format v1"):
//
//	0x01 || term (u32 BE) || len(path) (u16 BE) || path || nonce (24) || ciphertext+tag
//
// The header (everything before the nonce) is the AEAD's additional data, so
// a blob opens only under the key of its term and only at the path it was
// written for. The path names the record and its version, e.g.
// "credentials/9f2c…/v/00000003".
const recordVersion = 1

// Errors about stored ciphertext.
var (
	ErrTampered      = errors.New("vault: record failed authentication (tampered or corrupted)")
	ErrMisplaced     = errors.New("vault: record was sealed for another place (copied or swapped in the database)")
	ErrBlobVersion   = errors.New("vault: unsupported record format version")
	ErrBlobTruncated = errors.New("vault: record is truncated")
)

// SealRecord encrypts plaintext for path under key (of keyring term
// term), with a random nonce.
func SealRecord(key []byte, term uint32, path string, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return SealRecordNonce(key, term, path, plaintext, nonce)
}

// SealRecordNonce is SealRecord with the nonce given. Only SealRecord
// (random nonce) and the golden vectors (fixed nonce) call it: a nonce
// must never repeat under one key.
func SealRecordNonce(key []byte, term uint32, path string, plaintext, nonce []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("vault: cipher: %w", err)
	}
	if len(nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("vault: nonce is %d bytes, want %d", len(nonce), aead.NonceSize())
	}
	hdr := make([]byte, 0, 7+len(path))
	hdr = append(hdr, recordVersion)
	hdr = binary.BigEndian.AppendUint32(hdr, term)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(path)))
	hdr = append(hdr, path...)
	out := make([]byte, 0, len(hdr)+len(nonce)+len(plaintext)+aead.Overhead())
	out = append(append(out, hdr...), nonce...)
	return aead.Seal(out, nonce, plaintext, hdr), nil
}

// RecordHeader parses a record's header without decrypting.
func RecordHeader(blob []byte) (term uint32, path string, hdrLen int, err error) {
	if len(blob) < 7 {
		return 0, "", 0, ErrBlobTruncated
	}
	if blob[0] != recordVersion {
		return 0, "", 0, fmt.Errorf("%w %d", ErrBlobVersion, blob[0])
	}
	term = binary.BigEndian.Uint32(blob[1:5])
	n := int(binary.BigEndian.Uint16(blob[5:7]))
	if len(blob) < 7+n+chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return 0, "", 0, ErrBlobTruncated
	}
	return term, string(blob[7 : 7+n]), 7 + n, nil
}

// OpenRecord decrypts a record expected at path, with the key of its term.
// The caller wipes the plaintext.
func OpenRecord(key []byte, blob []byte, path string) ([]byte, error) {
	_, got, hl, err := RecordHeader(blob)
	if err != nil {
		return nil, err
	}
	if got != path {
		return nil, fmt.Errorf("%w: %q holds the record of %q", ErrMisplaced, path, got)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("vault: cipher: %w", err)
	}
	nonce := blob[hl : hl+aead.NonceSize()]
	pt, err := aead.Open(nil, nonce, blob[hl+aead.NonceSize():], blob[:hl])
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrTampered, path)
	}
	return pt, nil
}

// KDFParams are the Argon2id parameters stored beside a wrapped key.
type KDFParams struct {
	Salt    []byte `json:"salt"`
	Memory  uint32 `json:"m"` // KiB
	Time    uint32 `json:"t"`
	Threads uint8  `json:"p"`
}

// Floors below which a KDF is refused, at init and when read back.
const (
	MinKDFMemory = 19 * 1024
	MinKDFTime   = 2
)

// DefaultKDF is the operator passphrase's Argon2id cost.
func DefaultKDF() KDFParams { return KDFParams{Memory: 64 * 1024, Time: 3, Threads: 4} }

// Check refuses parameters below the floors or without a 16-byte salt.
func (p KDFParams) Check() error {
	if p.Memory < MinKDFMemory || p.Time < MinKDFTime || p.Threads < 1 || len(p.Salt) < 16 {
		return fmt.Errorf("vault: Argon2id parameters below the floor (m=%d KiB, t=%d, p=%d)", p.Memory, p.Time, p.Threads)
	}
	return nil
}

// Derive makes the 32-byte key-encryption key from passphrase.
func (p KDFParams) Derive(passphrase []byte) []byte {
	return argon2.IDKey(passphrase, p.Salt, p.Time, p.Memory, p.Threads, chacha20poly1305.KeySize)
}

// Wipe zeroes b.
func Wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// EncodeKeyring encodes a keyring's keys: the active term (u32 BE), then
// (term u32 BE || key 32 bytes) for each term.
func EncodeKeyring(active uint32, keys map[uint32][]byte) []byte {
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.BigEndian, active)
	for term, k := range keys {
		_ = binary.Write(&buf, binary.BigEndian, term)
		buf.Write(k)
	}
	return buf.Bytes()
}

// DecodeKeyring decodes EncodeKeyring's bytes; the keys alias b.
func DecodeKeyring(b []byte) (uint32, map[uint32][]byte, error) {
	if len(b) < 4 || (len(b)-4)%36 != 0 {
		return 0, nil, errors.New("vault: keyring is malformed")
	}
	active := binary.BigEndian.Uint32(b)
	keys := map[uint32][]byte{}
	for off := 4; off < len(b); off += 36 {
		keys[binary.BigEndian.Uint32(b[off:])] = b[off+4 : off+36]
	}
	if _, ok := keys[active]; !ok {
		return 0, nil, errors.New("vault: keyring lacks its active term")
	}
	return active, keys, nil
}
