package vault

import (
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
	// MaxBatchDelay is how long a write waits for others to share its fsync.
	// bbolt's default is 10 ms, which would set the latency of every read of
	// a secret (each writes an audit entry); 200µs is about one fsync.
	MaxBatchDelay time.Duration
	MaxBatchSize  int
}

type boltStore struct{ db *bolt.DB }

// OpenBolt opens (creating if needed) DIR/strongroom.db with mode 0600.
func OpenBolt(dir string, opt BoltOptions) (Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: data dir: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "strongroom.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("vault: %s is in use by another process", filepath.Join(dir, "strongroom.db"))
		}
		return nil, fmt.Errorf("vault: open store: %w", err)
	}
	db.MaxBatchDelay = 200 * time.Microsecond
	if opt.MaxBatchDelay > 0 {
		db.MaxBatchDelay = opt.MaxBatchDelay
	}
	if opt.MaxBatchSize > 0 {
		db.MaxBatchSize = opt.MaxBatchSize
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
	return &boltStore{db: db}, nil
}

func (s *boltStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (s *boltStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Batch(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (s *boltStore) Close() error { return s.db.Close() }

func (s *boltStore) Snapshot(ctx context.Context, w io.Writer, read func(Tx) error) (n int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if err := read(boltTx{tx}); err != nil {
			return err
		}
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) bucket(name string) *bolt.Bucket {
	b := t.tx.Bucket([]byte(name))
	if b == nil {
		panic("vault: unknown bucket " + name) // a programming error: buckets are fixed at open
	}
	return b
}

func (t boltTx) Get(bucket string, key []byte) []byte {
	v := t.bucket(bucket).Get(key)
	if v == nil {
		return nil
	}
	return append([]byte(nil), v...)
}

func (t boltTx) Put(bucket string, key, value []byte) error {
	return t.bucket(bucket).Put(key, value)
}

func (t boltTx) Delete(bucket string, key []byte) error {
	return t.bucket(bucket).Delete(key)
}

func (t boltTx) Scan(bucket string, from []byte, fn func(k, v []byte) (bool, error)) error {
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
