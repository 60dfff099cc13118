package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket names.
const (
	BucketMeta        = "meta"
	BucketKeyring     = "keyring"
	BucketUsers       = "users"
	BucketSessions    = "sessions"
	BucketCredentials = "credentials"
	BucketGrants      = "grants"
	BucketRequests    = "requests"
	BucketAudit       = "audit"
	BucketCheckpoints = "checkpoints"
)

// Buckets lists every bucket, in a fixed order.
var Buckets = []string{BucketMeta, BucketKeyring, BucketUsers, BucketSessions, BucketCredentials,
	BucketGrants, BucketRequests, BucketAudit, BucketCheckpoints}

// Store is the transactional storage the vault needs (see the package doc
// for the contract every implementation keeps).
type Store interface {
	// View runs fn in a read-only transaction: one consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction that is durable (fsynced)
	// when Update returns nil. fn returns an error only for I/O or
	// integrity failures; it may run more than once, so it derives
	// everything it writes from the transaction and its arguments. A write
	// still queued when ctx is done is dropped with ctx's error.
	Update(ctx context.Context, fn func(Tx) error) error
	// Snapshot writes a consistent copy of the whole store, readable by
	// OpenBolt, while writes go on; read runs in the same transaction, so
	// what it reads describes exactly the copy.
	Snapshot(ctx context.Context, w io.Writer, read func(Tx) error) (int64, error)
	Close() error
}

// Tx is one transaction. Byte slices Get and Scan return are copies the
// caller owns; Peek's are not.
type Tx interface {
	Get(bucket string, key []byte) []byte
	// Peek returns the stored value without copying it: valid only until
	// the transaction ends, never to be kept or changed.
	Peek(bucket string, key []byte) []byte
	Put(bucket string, key, value []byte) error
	Delete(bucket string, key []byte) error
	// Scan calls fn for each key >= from in key order until fn returns
	// false or an error.
	Scan(bucket string, from []byte, fn func(k, v []byte) (bool, error)) error
	// ScanBack calls fn for each key < before (nil: every key) in reverse
	// key order until fn returns false or an error.
	ScanBack(bucket string, before []byte, fn func(k, v []byte) (bool, error)) error
	// Expect is a guard: it reports whether the value stored at bucket/key
	// is exactly want (nil: no value). A write checks with it, inside its
	// own transaction, what it read earlier and relies on.
	Expect(bucket string, key, want []byte) bool
	// OnCommit registers fn to run once the transaction has committed
	// durably; it never runs if the transaction rolls back. Callbacks run
	// in commit order, one at a time, before Update returns to the writer.
	// In a read-only transaction fn runs when View returns without error.
	OnCommit(fn func())
	// Scratch is a map shared by every write function of one transaction
	// (one group commit attempt), gone with it: where a function leaves
	// what a later one in the same transaction must see of its uncommitted
	// writes (an index entry, say), since OnCommit runs only afterwards.
	Scratch() map[string]any
	// Revision orders commits: a read-only transaction's is that of the
	// last commit it sees, a write's that of the commit it will make
	// (bbolt's transaction id; an etcd header revision).
	Revision() uint64
}

// Options tunes the embedded store.
type Options struct {
	// MaxBatchDelay is how long the committer waits under load (once a
	// commit has carried more than one write) for more writes to share the
	// next commit. Zero commits at once: writes that arrive while a commit
	// runs share the next one anyway (see groupCommit).
	MaxBatchDelay time.Duration
	// Observe, if set, is told of each commit once it is durable, on the
	// committer's goroutine before the writers it carried return: it must
	// be quick (a metrics update) and must not use the store.
	Observe func(CommitStats)
}

// CommitStats describes one durable commit, for metrics.
type CommitStats struct {
	// Writes is how many write functions the commit carried: the group
	// commit's batch size (1 for a function run alone after a failure).
	Writes int
	// Commit is how long bbolt's Tx.Commit took: rebalancing and spilling
	// the changed nodes into pages, growing the file if needed, writing
	// the pages and the meta page, and the fdatasync after each of those
	// two writes. It leaves out the write functions themselves and the
	// wait for bbolt's writer lock.
	Commit time.Duration
	// Write is the part of Commit spent writing the pages and then the
	// meta page to the file, each followed by its fdatasync (bbolt's
	// TxStats.WriteTime): the time the disk took to make it durable.
	Write time.Duration
}

// maxBatch caps the writes in one commit.
const maxBatch = 1000

// Bolt is the embedded store on one bbolt file.
type Bolt struct {
	db *bolt.DB
	gc *groupCommit
}

// OpenBolt opens (creating if needed) DIR/strongroom.db with mode 0600.
func OpenBolt(dir string, opt Options) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: data dir: %w", err)
	}
	path := filepath.Join(dir, "strongroom.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second,
		// The free-page list is kept in a hash map and not written at each
		// commit (bbolt rebuilds it from the pages at open), as etcd runs
		// bbolt: written, a large list (tens of thousands of free pages
		// after big imports) was rewritten and fsynced by every commit.
		FreelistType: bolt.FreelistMapType, NoFreelistSync: true,
		// A commit that grows the file past the mapped size re-maps it,
		// which waits for every open read transaction (bbolt's caveat);
		// mapping 1 GiB of address space up front, as etcd maps 10 GiB,
		// spares small and medium vaults that wait.
		InitialMmapSize: 1 << 30})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("storage: %s is in use by another process", path)
		}
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range Buckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: create buckets: %w", err)
	}
	return &Bolt{db: db, gc: &groupCommit{db: db, delay: opt.MaxBatchDelay, max: maxBatch, observe: opt.Observe}}, nil
}

// View runs fn in a read-only transaction.
func (s *Bolt) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var t *boltTx
	err := s.db.View(func(tx *bolt.Tx) error {
		t = &boltTx{tx: tx}
		return fn(t)
	})
	if err == nil {
		t.committed()
	}
	return err
}

// Update runs fn in a group-committed write transaction.
func (s *Bolt) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.gc.do(ctx, func(t *boltTx) error { return fn(t) })
}

// Close closes the file; the store is unusable afterwards.
func (s *Bolt) Close() error { return s.db.Close() }

// Snapshot writes a consistent copy of the bbolt file.
func (s *Bolt) Snapshot(ctx context.Context, w io.Writer, read func(Tx) error) (n int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if err := read(&boltTx{tx: tx}); err != nil {
			return err
		}
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// boltTx keeps the buckets it has opened (bbolt opens a bucket afresh on
// every lookup in a read-only transaction) and the callbacks to run after
// its commit.
type boltTx struct {
	tx       *bolt.Tx
	open     [9]*bolt.Bucket // indexed as Buckets
	onCommit []func()
	scratch  map[string]any // shared by the transaction's functions
}

func (t *boltTx) bucket(name string) *bolt.Bucket {
	i := bucketIndex(name)
	if b := t.open[i]; b != nil {
		return b
	}
	b := t.tx.Bucket([]byte(name))
	if b == nil {
		panic("storage: unknown bucket " + name) // a programming error: buckets are fixed at open
	}
	t.open[i] = b
	return b
}

func bucketIndex(name string) int {
	for i, b := range Buckets {
		if b == name {
			return i
		}
	}
	panic("storage: unknown bucket " + name)
}

func (t *boltTx) Peek(bucket string, key []byte) []byte { return t.bucket(bucket).Get(key) }

func (t *boltTx) Get(bucket string, key []byte) []byte {
	v := t.bucket(bucket).Get(key)
	if v == nil {
		return nil
	}
	return append([]byte(nil), v...)
}

func (t *boltTx) Expect(bucket string, key, want []byte) bool {
	got := t.bucket(bucket).Get(key)
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	return bytes.Equal(got, want)
}

func (t *boltTx) Put(bucket string, key, value []byte) error {
	return t.bucket(bucket).Put(key, value)
}

func (t *boltTx) Delete(bucket string, key []byte) error {
	return t.bucket(bucket).Delete(key)
}

func (t *boltTx) Scan(bucket string, from []byte, fn func(k, v []byte) (bool, error)) error {
	c := t.bucket(bucket).Cursor()
	var k, v []byte
	if from == nil {
		k, v = c.First()
	} else {
		k, v = c.Seek(from)
	}
	for ; k != nil; k, v = c.Next() {
		more, err := fn(append([]byte(nil), k...), append([]byte(nil), v...))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (t *boltTx) ScanBack(bucket string, before []byte, fn func(k, v []byte) (bool, error)) error {
	c := t.bucket(bucket).Cursor()
	var k, v []byte
	if before != nil {
		k, _ = c.Seek(before)
	}
	if k == nil {
		k, v = c.Last() // no bound, or every key is below it
	} else {
		k, v = c.Prev()
	}
	for ; k != nil; k, v = c.Prev() {
		more, err := fn(append([]byte(nil), k...), append([]byte(nil), v...))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (t *boltTx) Scratch() map[string]any {
	if t.scratch == nil {
		t.scratch = map[string]any{}
	}
	return t.scratch
}

func (t *boltTx) Revision() uint64 { return uint64(t.tx.ID()) }

func (t *boltTx) OnCommit(fn func()) { t.onCommit = append(t.onCommit, fn) }

func (t *boltTx) committed() {
	for _, fn := range t.onCommit {
		fn()
	}
	t.onCommit = nil
}
