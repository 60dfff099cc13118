package transfer

// What lies between a KDBX header and its XML, in the order a reader
// meets it: the block stream (KDBX 4's HMAC-SHA-256 blocks, or 3.1's
// SHA-256 hashed blocks inside the ciphertext), the AES-256-CBC or
// ChaCha20 or Twofish-CBC payload, its gzip, KDBX 4's inner header, and the inner
// random stream (Salsa20 or ChaCha20) that protects values in the XML.

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
	"errors"
	"io"
	"strings"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/salsa20"
	//lint:ignore SA1019 Twofish is deprecated for new data; it is used here only to read KeePass files that already use it
	"golang.org/x/crypto/twofish"
)

const (
	blockSize = 1 << 20 // KDBX 4 HMAC block size we write

	innerEnd       = 0
	innerStreamID  = 1
	innerStreamKey = 2
	innerBinary    = 3

	streamSalsa20  = 2
	streamChaCha20 = 3
)

var salsaNonce = []byte{0xE8, 0x30, 0x09, 0x4B, 0x97, 0x20, 0x5D, 0x2A}

func readHMACBlocks(b []byte, base []byte) ([]byte, error) {
	var out bytes.Buffer
	for i := uint64(0); ; i++ {
		if len(b) < 36 {
			return nil, bad(kdbxName, "the file is truncated (block %d)", int(i))
		}
		mac, n := b[:32], binary.LittleEndian.Uint32(b[32:36])
		if int64(n) > int64(len(b)-36) {
			return nil, bad(kdbxName, "the file is truncated (block %d)", int(i))
		}
		data := b[36 : 36+int(n)]
		if !hmac.Equal(blockHMAC(base, i, data), mac) {
			return nil, bad(kdbxName, "block %d is damaged or altered (its HMAC does not match)", int(i))
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
			return nil, bad(kdbxName, "the file is truncated (block %d)", int(i))
		}
		if binary.LittleEndian.Uint32(b) != i {
			return nil, bad(kdbxName, "block %d is out of order", int(i))
		}
		hash, n := b[4:36], binary.LittleEndian.Uint32(b[36:40])
		if int64(n) > int64(len(b)-40) {
			return nil, bad(kdbxName, "the file is truncated (block %d)", int(i))
		}
		data := b[40 : 40+int(n)]
		b = b[40+int(n):]
		if n == 0 {
			return out.Bytes(), nil
		}
		if s := sha256.Sum256(data); subtle.ConstantTimeCompare(s[:], hash) != 1 {
			return nil, bad(kdbxName, "block %d is damaged (its hash does not match)", int(i))
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
		return nil, bad(kdbxName, "the encrypted data is truncated (not whole cipher blocks)")
	}
	var b cipher.Block
	if bytes.Equal(cid, cipherTwofish) {
		// KeePass's third cipher, read so that a council's older file
		// comes in whole; Strongroom never writes it.
		b, _ = twofish.NewCipher(key)
	} else {
		b, _ = aes.NewCipher(key)
	}
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
			return 0, nil, nil, bad(kdbxName, "the inner header has an unknown field %d", int(t))
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
		return nil, bad(kdbxName, "the inner stream cipher %d is not supported (Salsa20 and ChaCha20 are)", int(id))
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
