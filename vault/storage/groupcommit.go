package storage

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// groupCommit runs write transactions so that the writes that queue up
// while one commit runs all share the next commit and its two fsyncs. A
// lone write commits at once; under load each commit carries every write
// that arrived during the previous one, so the batch grows with the load
// and no timer sets the latency. (bbolt's own Batch starts a timer per
// batch and detaches the batch before waiting for the writer lock, which
// gave about eight writes per commit at 64 clients: docs/benchmarks.md.)
//
// As in bbolt's Batch, a function that fails is taken out, the rest are
// run again in a new transaction, and the failed one is run alone so it
// gets its own error: so a function may run more than once.
// Under the store contract a function fails only on I/O or integrity
// errors, so this is rare.
type groupCommit struct {
	db      *bolt.DB
	delay   time.Duration
	max     int
	observe func(CommitStats)

	mu      sync.Mutex
	queue   []*groupCall
	running bool
	commits atomic.Uint64 // transactions committed or attempted
}

// A call's state: queued, then taken by the committer or given up by its
// caller (context done), whichever comes first.
const (
	callQueued int32 = iota
	callTaken
	callAbandoned
)

type groupCall struct {
	fn    func(*boltTx) error
	state atomic.Int32
	err   chan error
}

func (g *groupCommit) do(ctx context.Context, fn func(*boltTx) error) error {
	c := &groupCall{fn: fn, err: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.running {
		g.running = true
		go g.loop()
	}
	g.mu.Unlock()
	select {
	case err := <-c.err:
		return err
	case <-ctx.Done():
		if c.state.CompareAndSwap(callQueued, callAbandoned) {
			return ctx.Err() // never ran: nothing of it is committed
		}
		return <-c.err // it is in a commit already: its outcome is the commit's
	}
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
		calls := make([]*groupCall, 0, n)
		for _, c := range g.queue[:n] {
			if c.state.CompareAndSwap(callQueued, callTaken) {
				calls = append(calls, c)
			}
		}
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		g.commit(calls)
		last = len(calls)
	}
}

// commit runs calls in one transaction. A call that fails is taken out and
// the rest run again; then each failed call runs alone, so it gets its own
// error. Everything runs on the committer's goroutine, so commits, and the
// OnCommit callbacks after them, happen in one order.
func (g *groupCommit) commit(calls []*groupCall) {
	var failed []*groupCall
	for len(calls) > 0 {
		bad := -1
		txs := make([]*boltTx, len(calls))
		scratch := map[string]any{}
		err := g.update(len(calls), func(tx *bolt.Tx) error {
			for i, c := range calls {
				txs[i] = &boltTx{tx: tx, scratch: scratch}
				if err := safelyCall(c.fn, txs[i]); err != nil {
					bad = i
					return err
				}
			}
			return nil
		})
		if bad >= 0 {
			failed = append(failed, calls[bad])
			calls = append(calls[:bad], calls[bad+1:]...)
			continue
		}
		for i, c := range calls {
			if err == nil {
				txs[i].committed()
			}
			c.err <- err // nil, or the commit's own error, to every caller
		}
		break
	}
	for _, c := range failed {
		var t *boltTx
		err := g.update(1, func(tx *bolt.Tx) error {
			t = &boltTx{tx: tx}
			return safelyCall(c.fn, t)
		})
		if err == nil {
			t.committed()
		}
		c.err <- err
	}
}

// update runs fn in one bbolt write transaction carrying writes write
// functions, and tells the observer about the commit once it is durable.
func (g *groupCommit) update(writes int, fn func(*bolt.Tx) error) error {
	g.commits.Add(1)
	var ran time.Time
	var st CommitStats
	err := g.db.Update(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		// bbolt runs its commit handlers at the end of Tx.Commit, after
		// the meta page's fdatasync; the transaction's stats stay readable.
		tx.OnCommit(func() { st = CommitStats{Writes: writes, Commit: time.Since(ran), Write: txWriteTime(tx)} })
		ran = time.Now() // bbolt's Update calls Commit as soon as fn returns
		return nil
	})
	if err == nil && g.observe != nil {
		g.observe(st)
	}
	return err
}

func safelyCall(fn func(*boltTx) error, tx *boltTx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			// A panic's value could hold what the write was handling; a
			// runtime error says only what went wrong in the code.
			if re, ok := p.(runtime.Error); ok {
				err = fmt.Errorf("storage: a write panicked: %w", re)
			} else {
				err = errors.New("storage: a write panicked")
			}
		}
	}()
	return fn(tx)
}

// txWriteTime is bbolt's TxStats.WriteTime of a committed transaction.
func txWriteTime(tx *bolt.Tx) time.Duration {
	s := tx.Stats()
	return s.GetWriteTime()
}
