package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket names (DESIGN §6).
const (
	bucketMeta        = "meta"
	bucketKeyring     = "keyring"
	bucketUsers       = "users"
	bucketSessions    = "sessions"
	bucketCredentials = "credentials"
	bucketGrants      = "grants"
	bucketRequests    = "requests"
	bucketAudit       = "audit"
	bucketCheckpoints = "checkpoints"
)

var allBuckets = []string{bucketMeta, bucketKeyring, bucketUsers, bucketSessions, bucketCredentials,
	bucketGrants, bucketRequests, bucketAudit, bucketCheckpoints}

// Store is the transactional storage the vault needs: atomic updates of
// several records together with their audit entry, and ordered cursors.
// bbolt is the embedded default; another backend (etcd) implements the same.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction that is durable (fsynced)
	// when Update returns nil. fn may run more than once (group commit
	// retries it alone if a neighbour in its batch failed), so it must
	// derive everything it writes from the transaction and its arguments.
	Update(ctx context.Context, fn func(Tx) error) error
	// Snapshot writes a consistent copy of the whole store, readable by
	// OpenBolt, while writes go on; read runs in the same transaction, so
	// what it reads describes exactly the copy.
	Snapshot(ctx context.Context, w io.Writer, read func(Tx) error) (int64, error)
	Close() error
}

// Tx is one transaction. Byte slices it returns are copies the caller owns.
type Tx interface {
	Get(bucket string, key []byte) []byte
	Put(bucket string, key, value []byte) error
	Delete(bucket string, key []byte) error
	// Scan calls fn for each key >= from in key order until fn returns
	// false or an error.
	Scan(bucket string, from []byte, fn func(k, v []byte) (bool, error)) error
}

// BoltOptions tunes the embedded store.
type BoltOptions struct {
	// MaxBatchDelay is how long the committer waits under load (once a
	// commit has carried more than one write) for more writes to share the
	// next commit. Zero commits at once: writes that arrive while a commit
	// runs share the next one anyway (see groupCommit).
	MaxBatchDelay time.Duration
	// MaxBatchSize caps the writes in one commit (default 1000).
	MaxBatchSize int
}

type boltStore struct {
	db *bolt.DB
	gc *groupCommit
}

// OpenBolt opens (creating if needed) DIR/strongroom.db with mode 0600.
func OpenBolt(dir string, opt BoltOptions) (Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: data dir: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "strongroom.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second,
		// The free-page list is kept in a hash map and not written at each
		// commit (bbolt rebuilds it from the pages at open), as etcd runs
		// bbolt: written, a large list (tens of thousands of free pages
		// after big imports) was rewritten and fsynced by every commit.
		FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("vault: %s is in use by another process", filepath.Join(dir, "strongroom.db"))
		}
		return nil, fmt.Errorf("vault: open store: %w", err)
	}
	gc := &groupCommit{db: db, delay: opt.MaxBatchDelay, max: 1000}
	if opt.MaxBatchSize > 0 {
		gc.max = opt.MaxBatchSize
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("vault: create buckets: %w", err)
	}
	return &boltStore{db: db, gc: gc}, nil
}

func (s *boltStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
}

func (s *boltStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.gc.do(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
}

// groupCommit runs write transactions so that the writes that queue up
// while one commit runs all share the next commit and its two fsyncs. A
// lone write commits at once; under load each commit carries every write
// that arrived during the previous one, so the batch grows with the load
// and no timer sets the latency. (bbolt's own Batch starts a timer per
// batch and detaches the batch before waiting for the writer lock, which
// gave about eight writes per commit at 64 clients: docs/benchmarks.md.)
//
// As in bbolt's Batch, a function that fails is taken out, the rest are
// run again in a new transaction, and the failed one is run alone by its
// caller so it gets its own error: so a function may run more than once.
type groupCommit struct {
	db    *bolt.DB
	delay time.Duration
	max   int

	mu      sync.Mutex
	queue   []groupCall
	running bool
	commits atomic.Uint64 // transactions committed or attempted, for tests and figures
}

type groupCall struct {
	fn  func(*bolt.Tx) error
	err chan<- error
}

var errTrySolo = errors.New("vault: run this write alone")

func (g *groupCommit) do(fn func(*bolt.Tx) error) error {
	errc := make(chan error, 1)
	g.mu.Lock()
	g.queue = append(g.queue, groupCall{fn: fn, err: errc})
	if !g.running {
		g.running = true
		go g.loop()
	}
	g.mu.Unlock()
	err := <-errc
	if err == errTrySolo {
		err = g.db.Update(func(tx *bolt.Tx) error { return safelyCall(fn, tx) })
	}
	return err
}

// loop commits the queue in batches until it is empty. Once a commit has
// carried more than one write (there is concurrency), it waits g.delay
// before the next to let the batch grow; a lone writer never waits.
func (g *groupCommit) loop() {
	last := 0
	for {
		if g.delay > 0 && last > 1 {
			time.Sleep(g.delay)
		}
		g.mu.Lock()
		n := min(len(g.queue), g.max)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		calls := append([]groupCall(nil), g.queue[:n]...)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		g.commit(calls)
		last = n
	}
}

func (g *groupCommit) commit(calls []groupCall) {
	for len(calls) > 0 {
		failed := -1
		g.commits.Add(1)
		err := g.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safelyCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].err <- errTrySolo
			calls = append(calls[:failed], calls[failed+1:]...)
			continue
		}
		for _, c := range calls {
			c.err <- err // nil, or the commit's own error, to every caller
		}
		return
	}
}

func safelyCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("vault: a write panicked: %v", p)
		}
	}()
	return fn(tx)
}

func (s *boltStore) Close() error { return s.db.Close() }

func (s *boltStore) Snapshot(ctx context.Context, w io.Writer, read func(Tx) error) (n int64, err error) {
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

// boltTx keeps the buckets it has opened: bbolt opens a bucket afresh on
// every lookup in a read-only transaction.
type boltTx struct {
	tx   *bolt.Tx
	open [9]*bolt.Bucket // indexed as allBuckets
}

func (t *boltTx) bucket(name string) *bolt.Bucket {
	i := bucketIndex(name)
	if b := t.open[i]; b != nil {
		return b
	}
	b := t.tx.Bucket([]byte(name))
	if b == nil {
		panic("vault: unknown bucket " + name) // a programming error: buckets are fixed at open
	}
	t.open[i] = b
	return b
}

func bucketIndex(name string) int {
	switch name {
	case bucketMeta:
		return 0
	case bucketKeyring:
		return 1
	case bucketUsers:
		return 2
	case bucketSessions:
		return 3
	case bucketCredentials:
		return 4
	case bucketGrants:
		return 5
	case bucketRequests:
		return 6
	case bucketAudit:
		return 7
	case bucketCheckpoints:
		return 8
	}
	panic("vault: unknown bucket " + name)
}

// peek returns the stored value without copying it: valid only until the
// transaction ends, and never to be kept or changed.
func (t *boltTx) peek(bucket string, key []byte) []byte { return t.bucket(bucket).Get(key) }

func (t *boltTx) Get(bucket string, key []byte) []byte {
	v := t.bucket(bucket).Get(key)
	if v == nil {
		return nil
	}
	return append([]byte(nil), v...)
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
