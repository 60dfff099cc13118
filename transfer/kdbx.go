package transfer

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/salsa20"
)

// The KDBX container, as KeePass documents it ("KDBX 4" and "KDBX 3.1"
// file format pages). Field numbers and UUIDs are the format's own.
const (
	sig1 = 0x9AA2D903
	sig2 = 0xB54BFB67

	hdrEnd              = 0
	hdrCipherID         = 2
	hdrCompression      = 3
	hdrMasterSeed       = 4
	hdrTransformSeed    = 5 // 3.1
	hdrTransformRounds  = 6 // 3.1
	hdrEncryptionIV     = 7
	hdrProtectedKey     = 8  // 3.1
	hdrStreamStartBytes = 9  // 3.1
	hdrInnerStreamID    = 10 // 3.1
	hdrKDFParameters    = 11 // 4
	hdrPublicCustomData = 12 // 4

	innerEnd       = 0
	innerStreamID  = 1
	innerStreamKey = 2
	innerBinary    = 3

	streamSalsa20  = 2
	streamChaCha20 = 3

	blockSize = 1 << 20
)

// kdfLimits bound a file's key derivation cost: the most a file may ask
// of the server before it has proved it knows the key.
type kdfLimits struct {
	argonMemory uint64 // bytes
	argonTime   uint64
	argonLanes  uint64
	aesRounds   uint64
}

var defaultLimits = kdfLimits{argonMemory: 1 << 30, argonTime: 100, argonLanes: 16, aesRounds: 300_000_000}

var (
	cipherAES256  = mustUUID("31c1f2e6bf714350be5805216afc5aff")
	cipherChaCha  = mustUUID("d6038a2b8b6f4cb5a524339a31dbb59a")
	cipherTwofish = mustUUID("ad68f29f576f4bb9a36ad47af965346c")
	kdfAES        = mustUUID("c9d9f39a628a4460bf740d08c18a4fea")
	kdfAES4       = mustUUID("7c02bb8279a74ac0927d114a00648238")
	kdfArgon2d    = mustUUID("ef636ddf8c29444b91f7a9a403e30a0c")
	kdfArgon2id   = mustUUID("9e298b1956db4773b23dfc3ec6f0a1e6")
	salsaNonce    = []byte{0xE8, 0x30, 0x09, 0x4B, 0x97, 0x20, 0x5D, 0x2A}
)

func mustUUID(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 {
		panic("transfer: bad UUID constant")
	}
	return b
}

// ErrArgon2d is a KDBX file whose key derivation is Argon2d (KeePassXC's
// default for a new database), which x/crypto does not offer.
var ErrArgon2d = &FormatError{Format: kdbxName, Msg: "this file uses Argon2d key derivation, which Strongroom does not implement " +
	"(its cryptography is Go's standard library and x/crypto only). Either run the import where keepassxc-cli is " +
	"installed (strongroom import then has KeePassXC read the file), or in KeePassXC choose Database > Database " +
	"Security > Encryption Settings, set Key Derivation Function to Argon2id, save and import again, or export it " +
	"from KeePassXC as XML and import that with --format keepass-xml"}

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

// DecodeKeePassXML reads a KeePass 2 XML export (KeePass: File > Export >
// KeePass XML (2.x); KeePassXC: Database > Export > XML File, or
// keepassxc-cli export --format xml), whose values are in plain text.
func DecodeKeePassXML(data []byte) (*Result, error) {
	if len(data) > 4*MaxFileSize {
		return nil, bad(keepassXML, "the file is larger than %d MiB", 4*MaxFileSize>>20)
	}
	root, err := parseXML(keepassXML, data)
	if err != nil {
		return nil, err
	}
	if err := root.walk(func(n *node) error {
		if n.Protected {
			return bad(keepassXML, "the XML holds encrypted values: it is the inside of a KDBX file, not an XML export")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	r, err := readKeePassXML(root)
	var fe *FormatError
	if errors.As(err, &fe) {
		return nil, bad(keepassXML, "%s", fe.Msg)
	}
	return r, err
}

const keepassXML = "keepass-xml"

// KDBXKey is what opens a KDBX file: a password, a key file's contents,
// or both. The caller wipes them.
type KDBXKey struct {
	Password []byte
	KeyFile  []byte
}

const kdbxName = "kdbx"

// compositeKey is SHA-256 over SHA-256(password) then the key file's key.
func (k KDBXKey) compositeKey() ([]byte, error) {
	if len(k.Password) == 0 && len(k.KeyFile) == 0 {
		return nil, bad(kdbxName, "give the file's password, its key file, or both")
	}
	h := sha256.New()
	if len(k.Password) > 0 {
		p := sha256.Sum256(k.Password)
		h.Write(p[:])
	}
	if len(k.KeyFile) > 0 {
		kf, err := keyFileKey(k.KeyFile)
		if err != nil {
			return nil, err
		}
		h.Write(kf)
	}
	return h.Sum(nil), nil
}

// keyFileKey reads a KeePass key file: XML version 1.0 (base64 key) or
// 2.0 (hex key with a hash check), 32 raw bytes, 64 hex characters, or
// else any file, whose SHA-256 is the key.
func keyFileKey(b []byte) ([]byte, error) {
	if t := bytes.TrimSpace(b); bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<KeyFile")) {
		root, err := parseXML("key file", t)
		if err == nil && root.Name == "KeyFile" {
			meta, key := root.child("Meta"), root.child("Key")
			if meta != nil && key != nil && key.child("Data") != nil {
				data := key.child("Data")
				switch strings.TrimSpace(meta.text("Version")) {
				case "1.0", "1.00":
					k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data.Text)))
					if err != nil || len(k) == 0 {
						return nil, bad("key file", "the key in the XML key file is not base64")
					}
					return k, nil
				case "2.0":
					hexKey := strings.Join(strings.Fields(string(data.Text)), "")
					k, err := hex.DecodeString(hexKey)
					if err != nil || len(k) != 32 {
						return nil, bad("key file", "the key in the XML key file is not 64 hex digits")
					}
					// The Hash attribute is the first 4 bytes of the key's
					// SHA-256: it catches a key file copied out by hand with
					// a typo.
					if want := data.Attr["Hash"]; want != "" {
						sum := sha256.Sum256(k)
						if !strings.EqualFold(hex.EncodeToString(sum[:4]), strings.TrimSpace(want)) {
							return nil, bad("key file", "the key in the XML key file does not match its check hash (a typo?)")
						}
					}
					return k, nil
				default:
					return nil, bad("key file", "XML key file version is not 1.0 or 2.0")
				}
			}
		}
	}
	if len(b) == 32 {
		return append([]byte(nil), b...), nil
	}
	if len(b) == 64 {
		if k, err := hex.DecodeString(string(b)); err == nil {
			return k, nil
		}
	}
	s := sha256.Sum256(b)
	return s[:], nil
}

type kdbxHeader struct {
	major, minor uint16
	fields       map[byte][]byte
	raw          []byte // the header bytes as stored, for the hash and HMAC
}

func readHeader(data []byte) (*kdbxHeader, []byte, error) {
	if len(data) > MaxFileSize {
		return nil, nil, bad(kdbxName, "the file is larger than %d MiB", MaxFileSize>>20)
	}
	if len(data) < 12 || binary.LittleEndian.Uint32(data) != sig1 {
		return nil, nil, bad(kdbxName, "this is not a KeePass database (no KDBX signature)")
	}
	if s := binary.LittleEndian.Uint32(data[4:]); s != sig2 {
		if s == 0xB54BFB65 {
			return nil, nil, bad(kdbxName, "this is a KeePass 1 (.kdb) file; open it in KeePassXC and save it as .kdbx first")
		}
		return nil, nil, bad(kdbxName, "this is not a KeePass 2 database")
	}
	h := &kdbxHeader{minor: binary.LittleEndian.Uint16(data[8:]), major: binary.LittleEndian.Uint16(data[10:]), fields: map[byte][]byte{}}
	switch {
	case h.major == 4 && h.minor <= 1, h.major == 3 && h.minor == 1:
	default:
		return nil, nil, bad(kdbxName, "KDBX version %d.%d is not supported (4.0, 4.1 and 3.1 are); open it in KeePassXC and save it again", h.major, h.minor)
	}
	p := 12
	for {
		sizeLen := 2
		if h.major == 4 {
			sizeLen = 4
		}
		if len(data) < p+1+sizeLen {
			return nil, nil, bad(kdbxName, "the header is truncated")
		}
		id := data[p]
		var n int
		if sizeLen == 2 {
			n = int(binary.LittleEndian.Uint16(data[p+1:]))
		} else {
			n = int(binary.LittleEndian.Uint32(data[p+1:]))
		}
		p += 1 + sizeLen
		if n < 0 || n > len(data)-p || n > 1<<16 {
			return nil, nil, bad(kdbxName, "the header is truncated or damaged")
		}
		if _, dup := h.fields[id]; dup {
			return nil, nil, bad(kdbxName, "header field %d appears twice", id)
		}
		h.fields[id] = data[p : p+n]
		p += n
		if id == hdrEnd {
			break
		}
	}
	h.raw = data[:p]
	return h, data[p:], nil
}

func (h *kdbxHeader) need(id byte, size int, what string) ([]byte, error) {
	v, ok := h.fields[id]
	if !ok || (size > 0 && len(v) != size) || len(v) == 0 {
		return nil, bad(kdbxName, "the header's %s is missing or the wrong size", what)
	}
	return v, nil
}

// transformKey runs the file's key derivation over the composite key.
func (h *kdbxHeader) transformKey(composite []byte, lim kdfLimits) ([]byte, error) {
	if h.major == 3 {
		seed, err := h.need(hdrTransformSeed, 32, "transform seed")
		if err != nil {
			return nil, err
		}
		r, err := h.need(hdrTransformRounds, 8, "transform rounds")
		if err != nil {
			return nil, err
		}
		return aesKDF(composite, seed, binary.LittleEndian.Uint64(r), lim)
	}
	raw, err := h.need(hdrKDFParameters, 0, "key derivation parameters")
	if err != nil {
		return nil, err
	}
	vd, err := readVariantDict(raw)
	if err != nil {
		return nil, err
	}
	id := vd.bytes("$UUID")
	switch {
	case bytes.Equal(id, kdfAES), bytes.Equal(id, kdfAES4):
		seed, rounds := vd.bytes("S"), vd.uint("R")
		if len(seed) != 32 {
			return nil, bad(kdbxName, "the AES-KDF seed is missing or the wrong size")
		}
		return aesKDF(composite, seed, rounds, lim)
	case bytes.Equal(id, kdfArgon2id):
		salt, mem, iter, lanes, ver := vd.bytes("S"), vd.uint("M"), vd.uint("I"), vd.uint("P"), vd.uint("V")
		switch {
		case len(salt) < 8:
			return nil, bad(kdbxName, "the Argon2id salt is missing or too short")
		case ver != 0x13:
			return nil, bad(kdbxName, "Argon2 version %#x is not supported (0x13 is)", ver)
		case mem < 8<<10 || mem > lim.argonMemory || iter < 1 || iter > lim.argonTime || lanes < 1 || lanes > lim.argonLanes:
			return nil, bad(kdbxName, "the Argon2id settings are out of range (memory 8 KiB to %d MiB, up to %d passes and %d lanes)",
				lim.argonMemory>>20, lim.argonTime, lim.argonLanes)
		case len(vd.bytes("K")) > 0 || len(vd.bytes("A")) > 0:
			return nil, bad(kdbxName, "Argon2 secret keys and associated data are not supported")
		}
		return argon2.IDKey(composite, salt, uint32(iter), uint32(mem/1024), uint8(lanes), 32), nil
	case bytes.Equal(id, kdfArgon2d):
		return nil, ErrArgon2d
	}
	return nil, bad(kdbxName, "the key derivation function is not one Strongroom knows (AES-KDF or Argon2id)")
}

func aesKDF(composite, seed []byte, rounds uint64, lim kdfLimits) ([]byte, error) {
	if rounds > lim.aesRounds {
		return nil, bad(kdbxName, "the AES-KDF round count is above %d", lim.aesRounds)
	}
	b, err := aes.NewCipher(seed)
	if err != nil {
		return nil, bad(kdbxName, "the AES-KDF seed is the wrong size")
	}
	k := append([]byte(nil), composite...)
	for i := uint64(0); i < rounds; i++ {
		b.Encrypt(k[:16], k[:16])
		b.Encrypt(k[16:], k[16:])
	}
	s := sha256.Sum256(k)
	return s[:], nil
}

// variantDict is KDBX 4's typed key/value map (KDF parameters).
type variantDict map[string][]byte

const (
	vdUint32 = 0x04
	vdUint64 = 0x05
	vdBool   = 0x08
	vdInt32  = 0x0C
	vdInt64  = 0x0D
	vdString = 0x18
	vdBytes  = 0x42
)

func readVariantDict(b []byte) (variantDict, error) {
	if len(b) < 2 || b[1] != 1 {
		return nil, bad(kdbxName, "the key derivation parameters have an unknown version")
	}
	vd := variantDict{}
	p := 2
	for {
		if p >= len(b) {
			return nil, bad(kdbxName, "the key derivation parameters are truncated")
		}
		t := b[p]
		p++
		if t == 0 {
			return vd, nil
		}
		if len(b) < p+4 {
			return nil, bad(kdbxName, "the key derivation parameters are truncated")
		}
		kl := int(binary.LittleEndian.Uint32(b[p:]))
		p += 4
		if kl < 0 || kl > len(b)-p-4 {
			return nil, bad(kdbxName, "the key derivation parameters are truncated")
		}
		key := string(b[p : p+kl])
		p += kl
		vl := int(binary.LittleEndian.Uint32(b[p:]))
		p += 4
		if vl < 0 || vl > len(b)-p {
			return nil, bad(kdbxName, "the key derivation parameters are truncated")
		}
		v := b[p : p+vl]
		p += vl
		switch t {
		case vdUint32, vdInt32:
			if vl != 4 {
				return nil, bad(kdbxName, "a key derivation parameter has the wrong size")
			}
			v = append(v[:4:4], 0, 0, 0, 0)
		case vdUint64, vdInt64:
			if vl != 8 {
				return nil, bad(kdbxName, "a key derivation parameter has the wrong size")
			}
		case vdBool, vdString, vdBytes:
		default:
			return nil, bad(kdbxName, "a key derivation parameter has an unknown type")
		}
		vd[key] = v
	}
}

func (vd variantDict) bytes(k string) []byte { return vd[k] }

func (vd variantDict) uint(k string) uint64 {
	if v := vd[k]; len(v) == 8 {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (vd variantDict) encode() []byte {
	var b bytes.Buffer
	b.Write([]byte{0x00, 0x01})
	keys := []string{"$UUID", "S", "P", "M", "I", "V"}
	for _, k := range keys {
		v, ok := vd[k]
		if !ok {
			continue
		}
		t := byte(vdUint64)
		switch k {
		case "$UUID", "S":
			t = vdBytes
		case "P", "V":
			t, v = vdUint32, v[:4]
		}
		b.WriteByte(t)
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(k)))
		b.WriteString(k)
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(v)))
		b.Write(v)
	}
	b.WriteByte(0)
	return b.Bytes()
}

func blockKey(base []byte, i uint64) []byte {
	h := sha512.New()
	_ = binary.Write(h, binary.LittleEndian, i)
	h.Write(base)
	return h.Sum(nil)
}

func hmacBase(masterSeed, transformed []byte) []byte {
	h := sha512.New()
	h.Write(masterSeed)
	h.Write(transformed)
	h.Write([]byte{1})
	return h.Sum(nil)
}

func masterKey(masterSeed, transformed []byte) []byte {
	h := sha256.New()
	h.Write(masterSeed)
	h.Write(transformed)
	return h.Sum(nil)
}

// DecodeKDBX opens a KDBX 4.x or 3.1 file and reads its entries.
func DecodeKDBX(data []byte, key KDBXKey) (*Result, error) {
	return decodeKDBX(data, key, defaultLimits)
}

func decodeKDBX(data []byte, key KDBXKey, lim kdfLimits) (*Result, error) {
	h, rest, err := readHeader(data)
	if err != nil {
		return nil, err
	}
	seed, err := h.need(hdrMasterSeed, 32, "master seed")
	if err != nil {
		return nil, err
	}
	cid, err := h.need(hdrCipherID, 16, "cipher")
	if err != nil {
		return nil, err
	}
	iv, err := h.need(hdrEncryptionIV, 0, "encryption IV")
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.Equal(cid, cipherAES256) && len(iv) == 16, bytes.Equal(cid, cipherChaCha) && len(iv) == 12:
	case bytes.Equal(cid, cipherTwofish):
		return nil, bad(kdbxName, "the file is encrypted with Twofish; in KeePassXC set Encryption Settings > Encryption Algorithm to AES 256 or ChaCha20, save, and import again")
	default:
		return nil, bad(kdbxName, "the cipher is not AES-256 or ChaCha20, or its IV is the wrong size")
	}
	gz := false
	if c, ok := h.fields[hdrCompression]; ok {
		if len(c) != 4 || binary.LittleEndian.Uint32(c) > 1 {
			return nil, bad(kdbxName, "the compression flag is not one KeePass writes")
		}
		gz = binary.LittleEndian.Uint32(c) == 1
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
	mk := masterKey(seed, transformed)

	var plain []byte
	var streamID uint32
	var streamKey []byte
	if h.major == 4 {
		sum := sha256.Sum256(h.raw)
		if subtle.ConstantTimeCompare(sum[:], rest[:32]) != 1 {
			return nil, bad(kdbxName, "the header is damaged (its SHA-256 does not match)")
		}
		base := hmacBase(seed, transformed)
		m := hmac.New(sha256.New, blockKey(base, ^uint64(0)))
		m.Write(h.raw)
		if !hmac.Equal(m.Sum(nil), rest[32:64]) {
			return nil, ErrBadKey
		}
		ct, err := readHMACBlocks(rest[64:], base)
		if err != nil {
			return nil, err
		}
		plain, err = decryptPayload(cid, mk, iv, ct)
		if err != nil {
			return nil, err
		}
		if gz {
			if plain, err = gunzip(plain); err != nil {
				return nil, err
			}
		}
		var body []byte
		streamID, streamKey, body, err = readInnerHeader(plain)
		if err != nil {
			return nil, err
		}
		plain = body
	} else {
		start, err := h.need(hdrStreamStartBytes, 32, "stream start bytes")
		if err != nil {
			return nil, err
		}
		sid, err := h.need(hdrInnerStreamID, 4, "inner stream id")
		if err != nil {
			return nil, err
		}
		streamID = binary.LittleEndian.Uint32(sid)
		if streamKey, err = h.need(hdrProtectedKey, 0, "protected stream key"); err != nil {
			return nil, err
		}
		dec, err := decryptPayload(cid, mk, iv, rest)
		if err != nil {
			if errors.Is(err, errPadding) {
				return nil, ErrBadKey
			}
			return nil, err
		}
		if len(dec) < 32 || subtle.ConstantTimeCompare(dec[:32], start) != 1 {
			return nil, ErrBadKey
		}
		if plain, err = readHashedBlocks(dec[32:]); err != nil {
			return nil, err
		}
		if gz {
			if plain, err = gunzip(plain); err != nil {
				return nil, err
			}
		}
	}
	root, err := parseXML(kdbxName, plain)
	if err != nil {
		return nil, err
	}
	if err := unprotect(root, streamID, streamKey); err != nil {
		return nil, err
	}
	return readKeePassXML(root)
}

func readHMACBlocks(b []byte, base []byte) ([]byte, error) {
	var out bytes.Buffer
	for i := uint64(0); ; i++ {
		if len(b) < 36 {
			return nil, bad(kdbxName, "the file is truncated (block %d)", i)
		}
		mac, n := b[:32], binary.LittleEndian.Uint32(b[32:36])
		if int64(n) > int64(len(b)-36) {
			return nil, bad(kdbxName, "the file is truncated (block %d)", i)
		}
		data := b[36 : 36+int(n)]
		m := hmac.New(sha256.New, blockKey(base, i))
		_ = binary.Write(m, binary.LittleEndian, i)
		m.Write(b[32:36])
		m.Write(data)
		if !hmac.Equal(m.Sum(nil), mac) {
			return nil, bad(kdbxName, "block %d is damaged or altered (its HMAC does not match)", i)
		}
		b = b[36+int(n):]
		if n == 0 {
			if len(b) != 0 {
				return nil, bad(kdbxName, "the file has data after its last block")
			}
			return out.Bytes(), nil
		}
		out.Write(data)
	}
}

func readHashedBlocks(b []byte) ([]byte, error) {
	var out bytes.Buffer
	for i := uint32(0); ; i++ {
		if len(b) < 40 {
			return nil, bad(kdbxName, "the file is truncated (block %d)", i)
		}
		if binary.LittleEndian.Uint32(b) != i {
			return nil, bad(kdbxName, "block %d is out of order", i)
		}
		hash, n := b[4:36], binary.LittleEndian.Uint32(b[36:40])
		if int64(n) > int64(len(b)-40) {
			return nil, bad(kdbxName, "the file is truncated (block %d)", i)
		}
		data := b[40 : 40+int(n)]
		b = b[40+int(n):]
		if n == 0 {
			return out.Bytes(), nil
		}
		if s := sha256.Sum256(data); subtle.ConstantTimeCompare(s[:], hash) != 1 {
			return nil, bad(kdbxName, "block %d is damaged (its hash does not match)", i)
		}
		out.Write(data)
	}
}

var errPadding = errors.New("bad padding")

func decryptPayload(cid, key, iv, ct []byte) ([]byte, error) {
	if bytes.Equal(cid, cipherChaCha) {
		c, err := chacha20.NewUnauthenticatedCipher(key, iv)
		if err != nil {
			return nil, bad(kdbxName, "cannot set up ChaCha20")
		}
		out := make([]byte, len(ct))
		c.XORKeyStream(out, ct)
		return out, nil
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, bad(kdbxName, "the encrypted data is truncated (not whole AES blocks)")
	}
	b, _ := aes.NewCipher(key)
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, ct)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, errPadding
	}
	for _, x := range out[len(out)-pad:] {
		if int(x) != pad {
			return nil, errPadding
		}
	}
	return out[:len(out)-pad], nil
}

func gunzip(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, bad(kdbxName, "the compressed content is damaged")
	}
	out, err := io.ReadAll(io.LimitReader(r, 4*MaxFileSize+1))
	if err != nil {
		return nil, bad(kdbxName, "the compressed content is damaged")
	}
	if len(out) > 4*MaxFileSize {
		return nil, bad(kdbxName, "the content is larger than %d MiB uncompressed", 4*MaxFileSize>>20)
	}
	return out, nil
}

func readInnerHeader(b []byte) (id uint32, key, body []byte, err error) {
	p := 0
	for {
		if len(b) < p+5 {
			return 0, nil, nil, bad(kdbxName, "the inner header is truncated")
		}
		t, n := b[p], int(binary.LittleEndian.Uint32(b[p+1:]))
		p += 5
		if n < 0 || n > len(b)-p {
			return 0, nil, nil, bad(kdbxName, "the inner header is truncated")
		}
		v := b[p : p+n]
		p += n
		switch t {
		case innerEnd:
			return id, key, b[p:], nil
		case innerStreamID:
			if n != 4 {
				return 0, nil, nil, bad(kdbxName, "the inner stream id is the wrong size")
			}
			id = binary.LittleEndian.Uint32(v)
		case innerStreamKey:
			key = v
		case innerBinary:
			// Attachments: not imported (reported per entry).
		default:
			return 0, nil, nil, bad(kdbxName, "the inner header has an unknown field %d", t)
		}
	}
}

// keystream returns n bytes of the inner random stream that protects
// values in the XML.
func keystream(id uint32, key []byte, n int) ([]byte, error) {
	out := make([]byte, n)
	switch id {
	case streamChaCha20:
		h := sha512.Sum512(key)
		c, err := chacha20.NewUnauthenticatedCipher(h[:32], h[32:44])
		if err != nil {
			return nil, bad(kdbxName, "cannot set up the inner stream")
		}
		c.XORKeyStream(out, out)
	case streamSalsa20:
		k := sha256.Sum256(key)
		salsa20.XORKeyStream(out, out, salsaNonce, &k)
	default:
		return nil, bad(kdbxName, "the inner stream cipher %d is not supported (Salsa20 and ChaCha20 are)", id)
	}
	return out, nil
}

// unprotect decodes every Protected="True" value in document order.
func unprotect(root *node, id uint32, key []byte) error {
	var prot []*node
	total := 0
	err := root.walk(func(n *node) error {
		if !n.Protected {
			return nil
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(n.Text)))
		if err != nil {
			return bad(kdbxName, "a protected value is not base64")
		}
		n.Text = raw
		prot = append(prot, n)
		total += len(raw)
		return nil
	})
	if err != nil || len(prot) == 0 {
		return err
	}
	ks, err := keystream(id, key, total)
	if err != nil {
		return err
	}
	for _, n := range prot {
		subtle.XORBytes(n.Text, n.Text, ks[:len(n.Text)])
		ks = ks[len(n.Text):]
	}
	return nil
}
