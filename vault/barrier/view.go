package barrier

import (
	"bytes"
	"sync"
)

// viewCache keeps decoded, non-secret views of sealed records while the
// vault is unsealed, each beside the sealed bytes it was decoded from. A
// lookup reads the record's current sealed bytes in the caller's own
// transaction and uses the view only if they are byte for byte the same,
// so it never answers with anything the transaction would not have
// decrypted itself; a changed record is decrypted again. It saves an
// audited read three of its four decryptions and JSON decodes (profiled:
// docs/benchmarks.md).
//
// What it holds is metadata only: credential heads (names, URLs, user
// names, tags, assignees; never a password, TOTP seed or note, which live
// in version records), sessions (keyed by the token's hash) and each
// account's name, role and state (never its password hash or TOTP seed).
// It is emptied at seal (SECURITY.md "Keys").
type viewCache struct {
	mu sync.Mutex
	m  map[string]cachedView
}

type cachedView struct {
	blob []byte
	val  any
}

// viewCacheMax bounds the cache (about 1 KB an entry); when full it
// starts again.
const viewCacheMax = 250_000

func (c *viewCache) get(path string, blob []byte) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[path]
	if !ok || !bytes.Equal(e.blob, blob) {
		return nil, false
	}
	return e.val, true
}

func (c *viewCache) put(path string, blob []byte, val any) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= viewCacheMax {
		c.m = map[string]cachedView{}
	}
	c.m[path] = cachedView{blob: blob, val: val}
}

func (c *viewCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// Cached returns the view of bucket/key that derive makes from the
// decoded record R; false if the record is absent. The view must hold no
// secret and must not be changed by the caller.
func Cached[R any, T any](tx Tx, bucket, key string, derive func(*R) T) (T, bool, error) {
	var zero T
	raw := tx.Peek(bucket, []byte(key))
	if raw == nil {
		return zero, false, nil
	}
	view, err := DecodeView(tx, bucket+"/"+key, raw, derive)
	return view, true, err
}

// DecodeView returns the cached view of the record at path whose stored
// bytes are raw, decoding and caching it if the cache has no view of
// exactly these bytes. raw may be the store's own memory: it is copied
// before it is kept.
func DecodeView[R any, T any](tx Tx, path string, raw []byte, derive func(*R) T) (T, error) {
	ks := tx.k
	if v, ok := ks.views.get(path, raw); ok {
		return v.(T), nil
	}
	blob := bytes.Clone(raw)
	var r R
	if err := ks.Decode(path, blob, &r); err != nil {
		var zero T
		return zero, err
	}
	view := derive(&r)
	ks.views.put(path, blob, view)
	return view, nil
}
