package vault

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/awnumar/memguard"
)

// Role is what an account may do (DESIGN §1).
type Role string

// The roles.
const (
	RoleProvider Role = "provider"
	RoleClerk    Role = "clerk"
	RoleChairman Role = "chairman"
	RoleAuditor  Role = "auditor"
	RoleMember   Role = "member"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleProvider, RoleClerk, RoleChairman, RoleAuditor, RoleMember:
		return r, nil
	}
	return "", invalidField("role", "role must be provider, clerk, chairman, auditor or member")
}

// Config sets up a Vault.
type Config struct {
	Store Store
	// Clock gives the time; tests inject a fake one. Default time.Now.
	Clock func() time.Time
	// KDF is the Argon2id cost for the operator passphrase at init.
	KDF KDFParams
	// PasswordKDF is the Argon2id cost for account passwords.
	PasswordKDF KDFParams
	// SessionIdle and SessionMax bound a session (defaults 30 min and 12 h).
	SessionIdle, SessionMax time.Duration
	// BreakGlassWindow is how long the chairman's emergency access to admin
	// credentials lasts after recovery (default 4 h).
	BreakGlassWindow time.Duration
	Logger           *slog.Logger
}

// Request describes where a call came from, for the audit log.
type Request struct {
	IP, UserAgent, ID string
}

// Vault is one Strongroom vault. It is safe for concurrent use.
type Vault struct {
	store  Store
	clock  func() time.Time
	kdf    KDFParams
	pwKDF  KDFParams
	idle   time.Duration
	maxAge time.Duration
	log    *slog.Logger

	breakGlass time.Duration

	mu      sync.RWMutex // guards keys and pending; held for reading while keys are used
	keys    *keyring     // nil while sealed
	pending *shareProgress

	// between, if set (by tests), runs where a read-then-write path has
	// read and is about to write, named by point: the interleaving hook.
	between func(point string)

	failMu        sync.Mutex
	auditFailures []time.Time // audit writes that failed: they cannot be in the log itself
}

// noteAuditFailure remembers (in memory, the last 100) and logs that an
// audit entry could not be written. The request it belonged to failed.
func (v *Vault) noteAuditFailure(err error) {
	v.failMu.Lock()
	v.auditFailures = append(v.auditFailures, v.now())
	if len(v.auditFailures) > 100 {
		v.auditFailures = v.auditFailures[1:]
	}
	v.failMu.Unlock()
	v.log.Error("audit write failed; the request was refused", "err", err)
}

// keyring is the unsealed key material, each key in its own Enclave.
//
// The vault's own keyring (v.keys, while unsealed) also keeps each data
// key, once first used, open in a read-only memguard LockedBuffer (guard
// pages, mlock, canary) until the vault seals, when they are destroyed.
// Opening an Enclave per record, then per operation, was measured to be
// most of an audited read's cost: each open and destroy is mmap, mlock and
// mprotect system calls, which serialise on the process's memory map
// (SECURITY.md "Keys in memory"). The root key stays an Enclave.
type keyring struct {
	active uint32
	data   map[uint32]*memguard.Enclave
	root   *memguard.Enclave

	mu     sync.Mutex
	opened map[uint32]*memguard.LockedBuffer // nil: open per use (temporary keyrings)
	names  *nameIndex                        // nil on temporary keyrings
	views  *viewCache                        // nil on temporary keyrings
}

// keepOpen makes k cache its opened data keys until release.
func (k *keyring) keepOpen() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.opened == nil {
		k.opened = map[uint32]*memguard.LockedBuffer{}
	}
	if k.names == nil {
		k.names = &nameIndex{}
	}
	if k.views == nil {
		k.views = &viewCache{}
	}
}

func (k *keyring) release() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for term, lb := range k.opened {
		lb.Destroy()
		delete(k.opened, term)
	}
	k.views.clear()
}

// New wraps a store. The vault starts sealed.
func New(cfg Config) *Vault {
	v := &Vault{clock: cfg.Clock, kdf: cfg.KDF, pwKDF: cfg.PasswordKDF,
		idle: cfg.SessionIdle, maxAge: cfg.SessionMax, log: cfg.Logger, breakGlass: cfg.BreakGlassWindow}
	v.store = cfg.Store
	if v.breakGlass == 0 {
		v.breakGlass = 4 * time.Hour
	}
	if v.clock == nil {
		v.clock = time.Now
	}
	if v.kdf.Memory == 0 {
		v.kdf = DefaultKDF()
	}
	if v.pwKDF.Memory == 0 {
		v.pwKDF = KDFParams{Memory: 19 * 1024, Time: 2, Threads: 1}
	}
	if v.idle == 0 {
		v.idle = 30 * time.Minute
	}
	if v.maxAge == 0 {
		v.maxAge = 12 * time.Hour
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	return v
}

// Close seals the vault and closes the store.
func (v *Vault) Close() error {
	v.dropKeys()
	return v.store.Close()
}

func (v *Vault) now() time.Time { return v.clock().UTC() }

// pause runs the interleaving hook, if a test set one.
func (v *Vault) pause(point string) {
	if v.between != nil {
		v.between(point)
	}
}

// withKeys runs fn while holding the keys; it fails with ErrSealed if sealed.
func (v *Vault) withKeys(fn func(*keyring) error) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.keys == nil {
		return ErrSealed
	}
	return fn(v.keys)
}

// useKey opens the data key of term for the duration of fn.
func (k *keyring) useKey(term uint32, fn func(key []byte) error) error {
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
func (k *keyring) openKey(term uint32, enc *memguard.Enclave) (*memguard.LockedBuffer, error) {
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

// seal encrypts a record for path under the active data key.
func (k *keyring) seal(path string, plaintext []byte) (blob []byte, err error) {
	err = k.useKey(k.active, func(key []byte) error {
		blob, err = sealBlob(key, k.active, path, plaintext)
		return err
	})
	return blob, err
}

// open decrypts a record expected at path; the caller wipes the result.
func (k *keyring) open(path string, blob []byte) (pt []byte, err error) {
	term, _, _, err := blobHeader(blob)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	err = k.useKey(term, func(key []byte) error {
		pt, err = openBlob(key, blob, path)
		return err
	})
	return pt, err
}

// putRecord seals v as JSON at bucket/key.
func (k *keyring) putRecord(tx Tx, bucket, key string, v any) error {
	pt, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("vault: encode %s/%s: %w", bucket, key, err)
	}
	defer wipe(pt)
	blob, err := k.seal(bucket+"/"+key, pt)
	if err != nil {
		return err
	}
	return tx.Put(bucket, []byte(key), blob)
}

// getRecord opens the JSON record at bucket/key into v; false if absent.
func (k *keyring) getRecord(tx Tx, bucket, key string, v any) (bool, error) {
	blob := tx.Get(bucket, []byte(key))
	if blob == nil {
		return false, nil
	}
	return true, k.decodeRecord(bucket+"/"+key, blob, v)
}

func (k *keyring) decodeRecord(path string, blob []byte, v any) error {
	pt, err := k.open(path, blob)
	if err != nil {
		return err
	}
	defer wipe(pt)
	if err := json.Unmarshal(pt, v); err != nil {
		return fmt.Errorf("vault: decode %s: the decrypted record is not valid JSON", path) // never quote plaintext
	}
	return nil
}

func newID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
