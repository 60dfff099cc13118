package transfer

// From what the user gives to the keys that open a KDBX file: the
// composite key (password and key file), the file's key derivation
// (AES-KDF or Argon2id, bounded by kdfLimits), and the keys derived
// from its result: the payload's master key and, in KDBX 4, the
// HMAC keys of the header and of each block.

import (
	"bytes"
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"golang.org/x/crypto/argon2"
)

// KDBXKey is what opens a KDBX file: a password, a key file's contents,
// or both. The caller wipes them.
type KDBXKey struct {
	Password []byte
	KeyFile  []byte
	// EmptyPassword says the password is the empty one (given as an empty
	// password file), not absent: KeePass 2 and keepassxc-cli given an
	// empty line hash "" into the key, while KeePassXC's "no password" and
	// pykeepass leave the password out; both are tried.
	EmptyPassword bool
	// noPassword is the retry of an empty password as none: the key file
	// alone, or with no key file the SHA-256 of nothing, as KeePassXC's
	// --no-password and pykeepass's password='' make it.
	noPassword bool
}

// compositeKey is SHA-256 over SHA-256(password) then the key file's key.
func (k KDBXKey) compositeKey() ([]byte, error) {
	if len(k.Password) == 0 && len(k.KeyFile) == 0 && !k.EmptyPassword && !k.noPassword {
		return nil, bad(kdbxName, "give the file's password, its key file, or both")
	}
	h := sha256.New()
	if len(k.Password) > 0 || k.EmptyPassword {
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
	// An XML key file saved by a Windows editor starts with a byte-order
	// mark, which KeePass and KeePassXC pass over; any other file is
	// hashed whole, mark and all.
	if t := bytes.TrimSpace(bytes.TrimPrefix(b, utf8BOM)); bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<KeyFile")) {
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

// kdfLimits bound a file's key derivation cost: the most a file may ask
// of the server before it has proved it knows the key.
type kdfLimits struct {
	argonMemory uint64 // bytes
	argonTime   uint64
	argonLanes  uint64
	aesRounds   uint64
}

var defaultLimits = kdfLimits{argonMemory: 1 << 30, argonTime: 100, argonLanes: 16, aesRounds: 300_000_000}

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
			return nil, bad(kdbxName, "Argon2 version %#x is not supported (0x13 is)", int(ver))
		case mem < 8<<10 || mem > lim.argonMemory || iter < 1 || iter > lim.argonTime || lanes < 1 || lanes > lim.argonLanes:
			return nil, bad(kdbxName, "the Argon2id settings are out of range (memory 8 KiB to %d MiB, up to %d passes and %d lanes)",
				int(lim.argonMemory>>20), int(lim.argonTime), int(lim.argonLanes))
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
		return nil, bad(kdbxName, "the AES-KDF round count is above %d", int(lim.aesRounds))
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

// headerHMAC is the HMAC-SHA-256 that follows a KDBX 4 header's SHA-256:
// it is what proves the key before any payload is read.
func headerHMAC(raw, base []byte) []byte {
	m := hmac.New(sha256.New, blockKey(base, ^uint64(0)))
	m.Write(raw)
	return m.Sum(nil)
}

// blockHMAC is the HMAC-SHA-256 of KDBX 4 block i: over the block's
// index, its length and its data, keyed for that index.
func blockHMAC(base []byte, i uint64, data []byte) []byte {
	m := hmac.New(sha256.New, blockKey(base, i))
	_ = binary.Write(m, binary.LittleEndian, i)
	_ = binary.Write(m, binary.LittleEndian, uint32(len(data)))
	m.Write(data)
	return m.Sum(nil)
}
