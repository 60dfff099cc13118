package transfer

// Reading a KDBX file, step by step as the format reads: the outer
// header (kdbx_header.go), the key (kdbx_key.go), then for KDBX 4 the
// header's hash and HMAC, the HMAC blocks and the inner header, or for
// 3.1 the stream start bytes and the hashed blocks (kdbx_payload.go),
// and last the XML (kdbx_xml.go). Argon2d files are recognised here so
// the caller can have KeePassXC read them instead.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

const kdbxName = "kdbx"

// ErrArgon2d is a KDBX file whose key derivation is Argon2d (KeePassXC's
// default for a new database), which x/crypto does not offer.
var ErrArgon2d = &FormatError{Format: kdbxName, Msg: "this file uses Argon2d key derivation, which Strongroom does not implement " +
	"(its cryptography is Go's standard library and x/crypto only). Either run the import where keepassxc-cli is " +
	"installed (strongroom import then has KeePassXC read the file), or in KeePassXC choose Database > Database " +
	"Security > Encryption Settings, set Key Derivation Function to Argon2id, save and import again, or export it " +
	"from KeePassXC as XML and import that with --format keepass-xml"}

// KeePassXCRefusals are the reasons keepassxc-cli gives for not opening
// an Argon2d file, as the client reports them (by code: the server never
// takes text from the client into the record), in plain words.
var KeePassXCRefusals = map[string]error{
	"wrong_key": ErrBadKey,
	"wrong_key_no_key_file": &FormatError{Format: kdbxName, Msg: "wrong password, or the file also needs its key file " +
		"(give it with --key-file) or a hardware key"},
	"hardware_key": &FormatError{Format: kdbxName, Msg: "the file needs a hardware key (a YubiKey's challenge-response), " +
		"which Strongroom cannot use: in KeePassXC save a copy without the hardware key (Database > Database Security) and import that"},
	"key_file_unreadable": &FormatError{Format: kdbxName, Msg: "keepassxc-cli could not load the key file"},
	"not_kdbx":            &FormatError{Format: kdbxName, Msg: "keepassxc-cli says this is not a KeePass database"},
	"unreadable":          &FormatError{Format: kdbxName, Msg: "keepassxc-cli could not read the file (it may be damaged)"},
}

// UsesArgon2d reports whether data is a KDBX 4 file whose key
// derivation is Argon2d. It reads only the header.
func UsesArgon2d(data []byte) bool {
	h, _, err := readHeader(data)
	if err != nil || h.major != 4 {
		return false
	}
	vd, err := readVariantDict(h.fields[hdrKDFParameters])
	return err == nil && bytes.Equal(vd.bytes("$UUID"), kdfArgon2d)
}

// DecodeKDBX opens a KDBX 4.x or 3.1 file and reads its entries.
func DecodeKDBX(data []byte, key KDBXKey) (*Result, error) {
	r, err := decodeKDBX(data, key, defaultLimits)
	if errors.Is(err, ErrBadKey) && key.EmptyPassword && len(key.Password) == 0 {
		// KeePassXC's "no password" (and what pykeepass writes for an
		// empty one): the key file alone, or no key at all.
		key.EmptyPassword, key.noPassword = false, true
		return decodeKDBX(data, key, defaultLimits)
	}
	return r, err
}

func decodeKDBX(data []byte, key KDBXKey, lim kdfLimits) (*Result, error) {
	h, rest, err := readHeader(data)
	if err != nil {
		return nil, err
	}
	pc, err := h.payloadCipher()
	if err != nil {
		return nil, err
	}
	if h.major == 4 && len(rest) < 64 {
		return nil, bad(kdbxName, "the file is truncated after its header")
	}
	composite, err := key.compositeKey()
	if err != nil {
		return nil, err
	}
	transformed, err := h.transformKey(composite, lim)
	if err != nil {
		return nil, err
	}
	var doc []byte
	var inner innerStream
	if h.major == 4 {
		doc, inner, err = openKDBX4(h, pc, transformed, rest)
	} else {
		doc, inner, err = openKDBX31(h, pc, transformed, rest)
	}
	if err != nil {
		return nil, err
	}
	root, err := parseXML(kdbxName, doc)
	if err != nil {
		return nil, err
	}
	if err := unprotect(root, inner.id, inner.key); err != nil {
		return nil, err
	}
	return readKeePassXML(root)
}

// payloadCipher is what the outer header says about the payload: how it
// is encrypted and whether it is gzipped.
type payloadCipher struct {
	masterSeed []byte
	cipherID   []byte // cipherAES256, cipherChaCha or cipherTwofish
	iv         []byte
	gzip       bool
}

func (h *kdbxHeader) payloadCipher() (payloadCipher, error) {
	seed, err := h.need(hdrMasterSeed, 32, "master seed")
	if err != nil {
		return payloadCipher{}, err
	}
	cid, err := h.need(hdrCipherID, 16, "cipher")
	if err != nil {
		return payloadCipher{}, err
	}
	iv, err := h.need(hdrEncryptionIV, 0, "encryption IV")
	if err != nil {
		return payloadCipher{}, err
	}
	switch {
	case bytes.Equal(cid, cipherAES256) && len(iv) == 16, bytes.Equal(cid, cipherChaCha) && len(iv) == 12,
		bytes.Equal(cid, cipherTwofish) && len(iv) == 16:
	default:
		return payloadCipher{}, bad(kdbxName, "the cipher is not AES-256, ChaCha20 or Twofish, or its IV is the wrong size")
	}
	pc := payloadCipher{masterSeed: seed, cipherID: cid, iv: iv}
	if c, ok := h.fields[hdrCompression]; ok {
		if len(c) != 4 || binary.LittleEndian.Uint32(c) > 1 {
			return payloadCipher{}, bad(kdbxName, "the compression flag is not one KeePass writes")
		}
		pc.gzip = binary.LittleEndian.Uint32(c) == 1
	}
	return pc, nil
}

// innerStream names the cipher and key that protect values in the XML:
// from the inner header in KDBX 4, from the outer header in 3.1.
type innerStream struct {
	id  uint32
	key []byte
}

// openKDBX4 reads what follows a KDBX 4 header (rest, at least 64
// bytes): the header's SHA-256, its HMAC (which proves the key), then
// the HMAC blocks, which decrypt and decompress to the inner header
// and the XML.
func openKDBX4(h *kdbxHeader, pc payloadCipher, transformed, rest []byte) ([]byte, innerStream, error) {
	sum := sha256.Sum256(h.raw)
	if subtle.ConstantTimeCompare(sum[:], rest[:32]) != 1 {
		return nil, innerStream{}, bad(kdbxName, "the header is damaged (its SHA-256 does not match)")
	}
	base := hmacBase(pc.masterSeed, transformed)
	if !hmac.Equal(headerHMAC(h.raw, base), rest[32:64]) {
		return nil, innerStream{}, ErrBadKey
	}
	ct, err := readHMACBlocks(rest[64:], base)
	if err != nil {
		return nil, innerStream{}, err
	}
	plain, err := decryptPayload(pc.cipherID, masterKey(pc.masterSeed, transformed), pc.iv, ct)
	if errors.Is(err, errPadding) {
		// The HMACs proved the key, so this is a damaged or miswritten file.
		return nil, innerStream{}, bad(kdbxName, "the encrypted content does not decrypt (its padding is wrong)")
	}
	if err != nil {
		return nil, innerStream{}, err
	}
	if pc.gzip {
		if plain, err = gunzip(plain); err != nil {
			return nil, innerStream{}, err
		}
	}
	id, key, doc, err := readInnerHeader(plain)
	if err != nil {
		return nil, innerStream{}, err
	}
	return doc, innerStream{id: id, key: key}, nil
}

// openKDBX31 reads what follows a KDBX 3.1 header (rest): the payload,
// whose first 32 bytes must be the header's stream start bytes (which
// proves the key), then the hashed blocks, which decompress to the XML.
// The inner stream is named in the outer header.
func openKDBX31(h *kdbxHeader, pc payloadCipher, transformed, rest []byte) ([]byte, innerStream, error) {
	start, err := h.need(hdrStreamStartBytes, 32, "stream start bytes")
	if err != nil {
		return nil, innerStream{}, err
	}
	sid, err := h.need(hdrInnerStreamID, 4, "inner stream id")
	if err != nil {
		return nil, innerStream{}, err
	}
	inner := innerStream{id: binary.LittleEndian.Uint32(sid)}
	if inner.key, err = h.need(hdrProtectedKey, 0, "protected stream key"); err != nil {
		return nil, innerStream{}, err
	}
	dec, err := decryptPayload(pc.cipherID, masterKey(pc.masterSeed, transformed), pc.iv, rest)
	if err != nil {
		if errors.Is(err, errPadding) {
			return nil, innerStream{}, ErrBadKey
		}
		return nil, innerStream{}, err
	}
	if len(dec) < 32 || subtle.ConstantTimeCompare(dec[:32], start) != 1 {
		return nil, innerStream{}, ErrBadKey
	}
	doc, err := readHashedBlocks(dec[32:])
	if err != nil {
		return nil, innerStream{}, err
	}
	if pc.gzip {
		if doc, err = gunzip(doc); err != nil {
			return nil, innerStream{}, err
		}
	}
	return doc, inner, nil
}
