package tpmseal

import (
	"encoding/binary"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

const blobVersion = 1

// Encode writes the blob file's bytes (format in doc.go).
func Encode(mask uint32, pub tpm2.TPM2BPublic, priv tpm2.TPM2BPrivate) []byte {
	b := []byte{blobVersion}
	b = binary.BigEndian.AppendUint32(b, mask)
	b = append(b, tpm2.Marshal(pub)...)
	return append(b, tpm2.Marshal(priv)...)
}

// Decode reads the blob file's bytes, refusing anything but exactly one
// version-1 record with a PCR mask within 0-23.
func Decode(b []byte) (mask uint32, pub tpm2.TPM2BPublic, priv tpm2.TPM2BPrivate, err error) {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrBlob, what) }
	if len(b) < 5 || b[0] != blobVersion {
		return 0, pub, priv, bad("unknown version")
	}
	mask = binary.BigEndian.Uint32(b[1:5])
	if mask == 0 || mask>>24 != 0 {
		return 0, pub, priv, bad("bad PCR mask")
	}
	rest := b[5:]
	pubBytes, rest, ok := sized(rest)
	if !ok {
		return 0, pub, priv, bad("public area cut short")
	}
	privBytes, rest, ok := sized(rest)
	if !ok || len(rest) != 0 {
		return 0, pub, priv, bad("private area cut short or trailing bytes")
	}
	p, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pubBytes)
	if err != nil {
		return 0, pub, priv, bad("public area")
	}
	if _, err := p.Contents(); err != nil {
		return 0, pub, priv, bad("public area")
	}
	q, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](privBytes)
	if err != nil {
		return 0, pub, priv, bad("private area")
	}
	return mask, *p, *q, nil
}

// sized splits off one TPM2B (uint16 size, then that many bytes), size
// prefix included.
func sized(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b)) + 2
	if n == 2 || len(b) < n {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}
