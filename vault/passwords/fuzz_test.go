package passwords

import (
	"strconv"
	"strings"
	"testing"

	"strongroom/vault/barrier"
)

func FuzzParsePHC(f *testing.F) {
	f.Add(Hash(barrier.KDFParams{Memory: 8, Time: 1, Threads: 1}, []byte("pw")))
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2i$v=19$m=1,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return
		}
		// What parses re-encodes to the same string, within the cost bounds.
		enc := "$argon2id$v=19$m=" + itoa(h.memory) + ",t=" + itoa(h.time) + ",p=" + itoa(uint32(h.threads)) + "$"
		if !strings.HasPrefix(s, enc) || h.memory > 1<<18 || h.time > 20 {
			t.Fatalf("accepted %q", s)
		}
	})
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
