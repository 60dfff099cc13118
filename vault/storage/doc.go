// Package storage is the vault's transactional store: the store contract,
// and its embedded implementation on bbolt with group commit. It is the
// only package that imports bbolt. It knows nothing of keys, records or
// audit entries: it stores opaque bytes under bucket and key.
//
// # The store contract
//
// The rules that keep the vault's promises, and that every backend keeps:
//
//   - A write function returns an error only for an I/O or integrity
//     failure. A refusal, a not-found or an invalid input is an answer the
//     caller commits together with its audit entry and returns by other
//     means (the vault's write helper carries it): it must never roll back
//     the other writes that share its group commit.
//   - A write states what it read and relies on with a guard, Tx.Expect
//     (bucket, key and the exact bytes expected, nil for absent), checked
//     inside the write transaction. A failed guard is not an error: the
//     write plans again from fresh reads, or answers that the thing it
//     relied on has changed.
//   - State held in memory and derived from the store (indexes, caches)
//     changes only in a Tx.OnCommit callback, which runs after the commit
//     that made it true and never after a rollback.
//   - A write that waits in the commit queue gives up when its context is
//     done, before it runs; once it has run in a transaction being
//     committed, it waits for that commit.
//   - Long work (import, export, prune, rewrap) goes in bounded chunks,
//     each its own short transaction; nothing streams to a client from
//     inside a transaction.
//
// # bbolt
//
// One file, DATA/strongroom.db, mode 0600, with a fixed set of buckets
// created at open. bbolt has one writer at a time and fsyncs each commit;
// Update queues write functions so that those queued during one commit
// share the next (group commit). A function may run more than once: when
// a neighbour in its batch fails with an I/O or integrity error, the batch
// rolls back and the others run again in a new transaction, and the
// failing one runs alone so that it gets its own error. So a write
// function derives everything it writes from the transaction it runs in
// and its arguments, and its OnCommit callbacks are those of the attempt
// that committed.
//
// # How the contract maps onto etcd
//
// The contract is written so that a backend on etcd's v3 API can keep it
// (go.etcd.io/etcd/client/v3), with every value the same sealed bytes:
//
//   - Bucket and key: the etcd key PREFIX/bucket/hex(key); Scan is a
//     ranged Get from the key (WithRange to the end of the bucket) paged
//     with WithLimit, every page at the revision of the first (WithRev), so
//     a View reads one consistent snapshot; ScanBack is the same Get
//     sorted in descending key order (WithSort).
//   - View: Gets at one revision.
//   - Update: an optimistic transaction in the style of etcd's STM
//     (concurrency.NewSTM with serializable snapshot isolation): reads are
//     served at a revision and remembered with their mod revision, writes
//     are buffered, and the commit is one Txn whose If compares every read
//     key's mod revision and every Expect guard's value, and whose Then
//     holds the buffered puts and deletes. A failed compare runs the
//     function again, as a group commit retry does here. Group commit maps
//     to batching several functions' operations into one Txn; a write
//     whose reads would exceed etcd's limits (128 operations per Txn, a
//     1.5 MiB request) is one of the long operations the vault already
//     splits into chunks.
//   - The audit chain: an append reads the head key and writes it, so two
//     nodes appending at once conflict on its mod revision and one runs
//     again: the chain never forks.
//   - OnCommit: run after the Txn succeeded.
//   - Snapshot: bbolt's is a copy of its own file, and backup format v1
//     carries that file; an etcd backend cannot make one. It would write
//     the records from a ranged Get at one revision instead, which needs
//     a backup format of records (not done yet: a backup is bbolt-only).
package storage
