package transfer

// The KDBX outer header, read as the KeePass "KDBX 4" and "KDBX 3.1"
// file format pages lay it out: the two signatures and the version,
// then type-length-value fields up to the end field, and KDBX 4's
// variant dictionary that carries the key derivation parameters. The
// field numbers and the cipher and KDF UUIDs are the format's own.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
)

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
)

var (
	cipherAES256  = mustUUID("31c1f2e6bf714350be5805216afc5aff")
	cipherChaCha  = mustUUID("d6038a2b8b6f4cb5a524339a31dbb59a")
	cipherTwofish = mustUUID("ad68f29f576f4bb9a36ad47af965346c")
	kdfAES        = mustUUID("c9d9f39a628a4460bf740d08c18a4fea")
	kdfAES4       = mustUUID("7c02bb8279a74ac0927d114a00648238")
	kdfArgon2d    = mustUUID("ef636ddf8c29444b91f7a9a403e30a0c")
	kdfArgon2id   = mustUUID("9e298b1956db4773b23dfc3ec6f0a1e6")
)

func mustUUID(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 {
		panic("transfer: bad UUID constant")
	}
	return b
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
		return nil, nil, bad(kdbxName, "KDBX version %d.%d is not supported (4.0, 4.1 and 3.1 are); open it in KeePassXC and save it again", int(h.major), int(h.minor))
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
			return nil, nil, bad(kdbxName, "header field %d appears twice", int(id))
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

// need is header field id, which must be size bytes (0: any but none).
// what names it in the error and is a string literal at every call (a
// test checks), like bad's message.
func (h *kdbxHeader) need(id byte, size int, what string) ([]byte, error) {
	v, ok := h.fields[id]
	if !ok || (size > 0 && len(v) != size) || len(v) == 0 {
		return nil, &FormatError{Format: kdbxName, Msg: "the header's " + what + " is missing or the wrong size"}
	}
	return v, nil
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
