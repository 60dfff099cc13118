package transfer

// Writing a KDBX 4.0 file, in the order the format lays it out: the
// outer header (AES-256-CBC, gzip, Argon2id parameters), its SHA-256
// and HMAC, then the HMAC blocks of the encrypted, gzipped payload,
// which holds the inner header (the ChaCha20 inner stream and its key)
// and the XML document (kdbx_xml.go) with passwords and TOTP protected.

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"golang.org/x/crypto/argon2"
)

// KDBXOptions sets the export's key derivation (Argon2id). Zero values
// take KeePassXC's defaults for a new database: 64 MiB, 10 passes is
// theirs for Argon2d; we use 64 MiB, 3 passes, 2 lanes (RFC 9106's
// second recommended option, scaled to a small server).
type KDBXOptions struct {
	MemoryKiB  uint32
	Iterations uint32
	Lanes      uint8
	Name       string // database name shown in KeePass
	Now        time.Time
}

func (o KDBXOptions) withDefaults() KDBXOptions {
	if o.MemoryKiB == 0 {
		o.MemoryKiB = 64 << 10
	}
	if o.Iterations == 0 {
		o.Iterations = 3
	}
	if o.Lanes == 0 {
		o.Lanes = 2
	}
	if o.Name == "" {
		o.Name = "Strongroom export"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// EncodeKDBX writes items as a KDBX 4.0 file: AES-256-CBC, gzip,
// Argon2id, ChaCha20 inner stream, passwords and TOTP protected.
// Each item goes in a group named by its Folder (created as needed).
func EncodeKDBX(items []Item, passphrase []byte, o KDBXOptions) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, bad(kdbxName, "the export needs a passphrase")
	}
	o = o.withDefaults()
	seed, salt, iv, streamKey := random(32), random(32), random(16), random(64)
	hdr := writeOuterHeader(seed, iv, o.kdfParameters(salt))
	transformed, err := o.transformKey(passphrase, salt)
	if err != nil {
		return nil, err
	}
	inner, err := writeInnerPayload(items, o, streamKey)
	if err != nil {
		return nil, err
	}
	ct := encryptPayload(masterKey(seed, transformed), iv, inner)
	return writeHMACBlocks(hdr, ct, hmacBase(seed, transformed)), nil
}

// kdfParameters is the header's variant dictionary: Argon2id with the
// options' cost and version 0x13.
func (o KDBXOptions) kdfParameters(salt []byte) variantDict {
	return variantDict{"$UUID": kdfArgon2id, "S": salt,
		"P": le64(uint64(o.Lanes)), "M": le64(uint64(o.MemoryKiB) * 1024), "I": le64(uint64(o.Iterations)), "V": le64(0x13)}
}

// transformKey derives the transformed key from the passphrase alone
// (exports have no key file).
func (o KDBXOptions) transformKey(passphrase, salt []byte) ([]byte, error) {
	composite, err := KDBXKey{Password: passphrase}.compositeKey()
	if err != nil {
		return nil, err
	}
	return argon2IDKey(composite, salt, o), nil
}

// writeField writes one KDBX 4 header or inner header field: its id,
// its length (4 bytes) and its value.
func writeField(b *bytes.Buffer, id byte, v []byte) {
	b.WriteByte(id)
	_ = binary.Write(b, binary.LittleEndian, uint32(len(v)))
	b.Write(v)
}

// writeOuterHeader writes the signatures, version 4.0 and the fields.
func writeOuterHeader(seed, iv []byte, kdf variantDict) []byte {
	var hdr bytes.Buffer
	_ = binary.Write(&hdr, binary.LittleEndian, []uint32{sig1, sig2})
	_ = binary.Write(&hdr, binary.LittleEndian, []uint16{0, 4})
	writeField(&hdr, hdrCipherID, cipherAES256)
	writeField(&hdr, hdrCompression, le32(1))
	writeField(&hdr, hdrMasterSeed, seed)
	writeField(&hdr, hdrEncryptionIV, iv)
	writeField(&hdr, hdrKDFParameters, kdf.encode())
	writeField(&hdr, hdrEnd, []byte("\r\n\r\n"))
	return hdr.Bytes()
}

// writeInnerPayload writes the inner header, then the XML document with
// its protected values encrypted under streamKey. The caller wipes it.
func writeInnerPayload(items []Item, o KDBXOptions, streamKey []byte) ([]byte, error) {
	var inner bytes.Buffer
	writeField(&inner, innerStreamID, le32(streamChaCha20))
	writeField(&inner, innerStreamKey, streamKey)
	writeField(&inner, innerEnd, nil)
	doc := keePassXML(items, o)
	if err := protect(doc, streamKey); err != nil {
		return nil, err
	}
	writeXML(&inner, doc)
	return inner.Bytes(), nil
}

// encryptPayload gzips, pads (PKCS#7) and encrypts the inner payload
// with AES-256-CBC, wiping the plaintext copies as it goes.
func encryptPayload(key, iv, inner []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(inner)
	_ = zw.Close()
	wipeBuf(inner)
	pt := z.Bytes()
	pad := aes.BlockSize - len(pt)%aes.BlockSize
	pt = append(pt, bytes.Repeat([]byte{byte(pad)}, pad)...)
	b, _ := aes.NewCipher(key)
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct, pt)
	wipeBuf(pt)
	return ct
}

// writeHMACBlocks writes the file: the header, its SHA-256 and HMAC,
// then the ciphertext in HMAC blocks of up to blockSize bytes, ending
// with an empty block.
func writeHMACBlocks(hdr, ct, base []byte) []byte {
	out := bytes.NewBuffer(append([]byte(nil), hdr...))
	sum := sha256.Sum256(hdr)
	out.Write(sum[:])
	out.Write(headerHMAC(hdr, base))
	for i := uint64(0); ; i++ {
		n := min(len(ct), blockSize)
		data := ct[:n]
		ct = ct[n:]
		out.Write(blockHMAC(base, i, data))
		_ = binary.Write(out, binary.LittleEndian, uint32(n))
		out.Write(data)
		if n == 0 {
			break
		}
	}
	return out.Bytes()
}

func argon2IDKey(composite, salt []byte, o KDBXOptions) []byte {
	return argon2.IDKey(composite, salt, o.Iterations, o.MemoryKiB, o.Lanes, 32)
}
