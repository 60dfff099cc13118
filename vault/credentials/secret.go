package credentials

import (
	"fmt"
	"sync"

	"github.com/awnumar/memguard"
)

// Secret is a credential's secret part, held in one memguard LockedBuffer
// (guard pages, mlock, canary) until Destroy. It redacts itself when
// printed or marshalled; the accessors return views into the buffer that
// are valid only until Destroy.
type Secret struct {
	CredentialInfo
	buf                 *memguard.LockedBuffer
	pwLen, totpLen, nts int
}

// Password is the secret's password.
func (s *Secret) Password() []byte { return s.part(0, s.pwLen) }

// TOTPURI is the otpauth:// URI of the TOTP seed; nil if there is none.
func (s *Secret) TOTPURI() []byte { return s.part(s.pwLen, s.totpLen) }

// Notes are the secret notes; nil if there are none.
func (s *Secret) Notes() []byte { return s.part(s.pwLen+s.totpLen, s.nts) }

func (s *Secret) part(off, n int) []byte {
	if s.buf == nil || n == 0 {
		return nil
	}
	return s.buf.Bytes()[off : off+n : off+n]
}

// Destroy wipes the secret and gives its buffer back.
func (s *Secret) Destroy() {
	if s.buf != nil {
		secretBuffers.put(s.buf)
		s.buf = nil
	}
	s.pwLen, s.totpLen, s.nts = 0, 0, 0
}

func (s *Secret) String() string { return "secret of " + quote(s.Name) + " (redacted)" }

// Format implements fmt.Formatter so no verb prints the buffer.
func (s *Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON refuses to emit the secret; the API writes it explicitly.
func (s *Secret) MarshalJSON() ([]byte, error) { return []byte(`"(redacted)"`), nil }

// newSecret copies the version's secret fields into one locked buffer and
// wipes them.
func newSecret(info CredentialInfo, cv *credVersion) *Secret {
	defer cv.wipe()
	s := &Secret{CredentialInfo: info, pwLen: len(cv.Password), totpLen: len(cv.TOTP), nts: len(cv.Notes)}
	n := s.pwLen + s.totpLen + s.nts
	if n == 0 {
		return s
	}
	s.buf = secretBuffers.get(n)
	b := s.buf.Bytes()
	copy(b, cv.Password)
	copy(b[s.pwLen:], cv.TOTP)
	copy(b[s.pwLen+s.totpLen:], cv.Notes)
	return s
}

// lockedPool keeps wiped LockedBuffers of one size for reuse. Creating
// and destroying one is several system calls (mmap, mlock, mprotect,
// munmap) that serialise on the process's memory map, and was measured
// as 40% of an audited read's CPU; a returned buffer is wiped and kept
// (still locked, guarded and canaried) for the next secret.
type lockedPool struct {
	size, keep int
	mu         sync.Mutex
	free       []*memguard.LockedBuffer
}

// secretBuffers holds up to 128 idle 4 KiB buffers (512 KiB locked).
// Larger secrets get a buffer of their own, destroyed after use.
var secretBuffers = &lockedPool{size: 4096, keep: 128}

func (p *lockedPool) get(n int) *memguard.LockedBuffer {
	if n > p.size {
		return memguard.NewBuffer(n)
	}
	p.mu.Lock()
	for len(p.free) > 0 {
		b := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		if b.IsAlive() { // memguard.Purge destroys every buffer
			p.mu.Unlock()
			return b
		}
	}
	p.mu.Unlock()
	return memguard.NewBuffer(p.size)
}

func (p *lockedPool) put(b *memguard.LockedBuffer) {
	if !b.IsAlive() {
		return
	}
	if b.Size() != p.size {
		b.Destroy()
		return
	}
	b.Wipe()
	p.mu.Lock()
	if len(p.free) < p.keep {
		p.free = append(p.free, b)
		b = nil
	}
	p.mu.Unlock()
	if b != nil {
		b.Destroy()
	}
}

// drain destroys the idle buffers (at seal).
func (p *lockedPool) drain() {
	p.mu.Lock()
	free := p.free
	p.free = nil
	p.mu.Unlock()
	for _, b := range free {
		b.Destroy()
	}
}
