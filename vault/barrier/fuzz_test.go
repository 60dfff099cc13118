package barrier

import (
	"bytes"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

func FuzzOpenBlob(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	const path = "credentials/abc/v/00000001"
	// Built here with a fixed nonce, restating the format independently, so
	// every fuzz worker process has the same seed.
	aead, _ := chacha20poly1305.NewX(key)
	hdr := append([]byte{1, 0, 0, 0, 1, 0, byte(len(path))}, path...)
	good := aead.Seal(append(append([]byte(nil), hdr...), make([]byte, 24)...), make([]byte, 24), []byte(`{"password":"x"}`), hdr)
	if pt, err := OpenRecord(key, good, path); err != nil || string(pt) != `{"password":"x"}` {
		f.Fatalf("format drifted from the spec: %v", err)
	}
	f.Add(good)
	f.Add([]byte{1, 0, 0, 0, 1, 0, 3, 'a', 'b', 'c'})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, blob []byte) {
		pt, err := OpenRecord(key, blob, path)
		// Authenticated encryption: only the blob we sealed opens.
		if err == nil && !bytes.Equal(blob, good) {
			t.Fatalf("a modified blob opened: %q", pt)
		}
	})
}
