package barrier

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/awnumar/memguard"

	"strongroom/vault/storage"
)

// Keyring is the unsealed key material: the root key and one data key per
// term, each in its own memguard Enclave. Everything above the barrier
// reads and writes sealed records through it and never sees a key.
//
// The vault's own keyring (while unsealed) also keeps each data key, once
// first used, open in a read-only memguard LockedBuffer (guard pages,
// mlock, canary) until Release at seal. Opening an Enclave per record, then
// per operation, was measured to be most of an audited read's cost: each
// open and destroy is mmap, mlock and mprotect system calls, which
// serialise on the process's memory map (SECURITY.md "Keys").
// The root key stays an Enclave.
type Keyring struct {
	active uint32
	data   map[uint32]*memguard.Enclave
	root   *memguard.Enclave

	mu     sync.Mutex
	smu    sync.RWMutex                      // held for reading while the state key is in use; Release takes it
	gone   bool                              // released (under smu)
	opened map[uint32]*memguard.LockedBuffer // nil: open per use (temporary keyrings)
	views  *viewCache                        // nil on temporary keyrings
	locals map[any]any                       // nil on temporary keyrings (Tx.Local)
}

// NewKeyring holds keys (term -> 32-byte data key) with active the term new
// records are sealed under, and root if given (nil for a keyring that
// only reads and writes records). The keys and root are copied; the
// caller wipes its own.
func NewKeyring(active uint32, keys map[uint32][]byte, root []byte) *Keyring {
	k := &Keyring{active: active, data: map[uint32]*memguard.Enclave{}}
	for term, key := range keys {
		k.data[term] = memguard.NewEnclave(append([]byte(nil), key...))
	}
	if root != nil {
		k.SetRoot(root)
	}
	return k
}

// SetRoot replaces the root key (after a re-key); root is copied.
func (k *Keyring) SetRoot(root []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.root = memguard.NewEnclave(append([]byte(nil), root...))
}

// OpenRoot opens the root key for the caller, who destroys the buffer.
func (k *Keyring) OpenRoot() (*memguard.LockedBuffer, error) {
	k.mu.Lock()
	root := k.root
	k.mu.Unlock()
	if root == nil {
		return nil, fmt.Errorf("vault: this keyring holds no root key")
	}
	lb, err := root.Open()
	if err != nil {
		return nil, fmt.Errorf("vault: open root key: %w", err)
	}
	return lb, nil
}

// KeepOpen makes k keep its opened data keys, and a cache of decoded
// views, until Release.
func (k *Keyring) KeepOpen() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.opened == nil {
		k.opened = map[uint32]*memguard.LockedBuffer{}
	}
	if k.views == nil {
		k.views = &viewCache{}
	}
	if k.locals == nil {
		k.locals = map[any]any{}
	}
}

// local is the kept state under key, made by init on first use; nil on a
// temporary keyring.
func (k *Keyring) local(key any, init func() any) any {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locals == nil {
		return nil
	}
	v, ok := k.locals[key]
	if !ok {
		v = init()
		k.locals[key] = v
	}
	return v
}

// Release destroys the opened data keys and empties the view cache.
func (k *Keyring) Release() {
	k.smu.Lock() // no write is folding into the state seal with the state key
	k.gone = true
	k.smu.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	for term, lb := range k.opened {
		lb.Destroy()
		delete(k.opened, term)
	}
	k.views.clear()
	k.locals = nil
}

// useKey opens the data key of term for the duration of fn.
func (k *Keyring) useKey(term uint32, fn func(key []byte) error) error {
	enc, ok := k.data[term]
	if !ok {
		return fmt.Errorf("vault: no data key for term %d", term)
	}
	lb, err := k.openKey(term, enc)
	if err != nil {
		return err
	}
	if lb == nil { // a temporary keyring: open and close
		if lb, err = enc.Open(); err != nil {
			return fmt.Errorf("vault: open data key: %w", err)
		}
		defer lb.Destroy()
	}
	return fn(lb.Bytes())
}

// openKey returns the kept-open buffer of term, opening it on first use;
// nil on a temporary keyring, which keeps nothing open.
func (k *Keyring) openKey(term uint32, enc *memguard.Enclave) (*memguard.LockedBuffer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.opened == nil {
		return nil, nil
	}
	if lb, ok := k.opened[term]; ok {
		return lb, nil
	}
	lb, err := enc.Open()
	if err != nil {
		return nil, fmt.Errorf("vault: open data key: %w", err)
	}
	lb.Freeze() // read-only: a stray write faults instead of corrupting the key
	k.opened[term] = lb
	return lb, nil
}

// withStateKey runs fn with the state key (term 0); ErrSealed once
// released, errNoStateKey for a keyring from before the state seal.
func (k *Keyring) withStateKey(fn func(key []byte) error) error {
	k.smu.RLock()
	defer k.smu.RUnlock()
	if k.gone {
		return ErrSealed
	}
	if _, ok := k.data[stateTermKeys]; !ok {
		return errNoStateKey
	}
	return k.useKey(stateTermKeys, fn)
}

// Seal encrypts a record for path under the active data key.
func (k *Keyring) Seal(path string, plaintext []byte) (blob []byte, err error) {
	err = k.useKey(k.active, func(key []byte) error {
		blob, err = SealRecord(key, k.active, path, plaintext)
		return err
	})
	return blob, err
}

// Open decrypts a record expected at path; the caller wipes the result.
func (k *Keyring) Open(path string, blob []byte) (pt []byte, err error) {
	term, _, _, err := RecordHeader(blob)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	if term == stateTermKeys {
		return nil, fmt.Errorf("%w: %s", ErrTampered, path) // term 0 is the state key, which seals no record
	}
	err = k.useKey(term, func(key []byte) error {
		pt, err = OpenRecord(key, blob, path)
		return err
	})
	return pt, err
}

// Put seals v as JSON at bucket/key.
func (k *Keyring) Put(tx storage.Tx, bucket, key string, v any) error {
	pt, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("vault: encode %s/%s: %w", bucket, key, err)
	}
	defer Wipe(pt)
	blob, err := k.Seal(bucket+"/"+key, pt)
	if err != nil {
		return err
	}
	return tx.Put(bucket, []byte(key), blob)
}

// Get opens the JSON record at bucket/key into v; false if absent.
func (k *Keyring) Get(tx storage.Tx, bucket, key string, v any) (bool, error) {
	blob := tx.Get(bucket, []byte(key))
	if blob == nil {
		return false, nil
	}
	return true, k.Decode(bucket+"/"+key, blob, v)
}

// Decode opens the sealed JSON record blob, stored at path, into v.
func (k *Keyring) Decode(path string, blob []byte, v any) error {
	pt, err := k.Open(path, blob)
	if err != nil {
		return err
	}
	defer Wipe(pt)
	if err := json.Unmarshal(pt, v); err != nil {
		return fmt.Errorf("vault: decode %s: the decrypted record is not valid JSON", path) // never quote plaintext
	}
	return nil
}
