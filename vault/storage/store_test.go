package storage

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The writes queued while one commit runs share the next commit; a write
// that fails is taken out and gets its own error; a panicking write is an
// error, not a crash; the others are all committed. The observer hears of
// each durable commit with its batch size, and of none that rolled back.
func TestGroupCommit(t *testing.T) {
	var omu sync.Mutex
	var seen []CommitStats
	st, err := OpenBolt(t.TempDir(), Options{Observe: func(s CommitStats) { omu.Lock(); seen = append(seen, s); omu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gc := st.gc
	release, blocked := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the first commit holds the writer until the rest are queued
		defer wg.Done()
		err := st.Update(context.Background(), func(tx Tx) error {
			close(blocked)
			<-release
			return tx.Put(BucketMeta, []byte("first"), []byte("1"))
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-blocked
	const n = 40
	errs := make([]error, n)
	calls := make([]atomic.Int32, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = st.Update(context.Background(), func(tx Tx) error {
				tx.OnCommit(func() { calls[i].Add(1) })
				switch i {
				case 7:
					return errors.New("refused by the function")
				case 9:
					panic("a bug in a write")
				}
				return tx.Put(BucketMeta, []byte(fmt.Sprintf("k%02d", i)), []byte("v"))
			})
		}(i)
	}
	for { // wait until all n are queued behind the first commit
		gc.mu.Lock()
		q := len(gc.queue)
		gc.mu.Unlock()
		if q == n {
			break
		}
		runtime.Gosched()
	}
	before := gc.commits.Load()
	close(release)
	wg.Wait()
	// The 40 queued writes form one batch: tried, stopped by write 7,
	// tried again, stopped by write 9, then committed: 3 transactions,
	// then the two failures alone: 5, not 40.
	if got := gc.commits.Load() - before; got != 5 {
		t.Errorf("%d transactions after the first was released, want 5", got)
	}
	// Two durable commits: the first write alone, then the 38 that
	// committed together; the rolled-back attempts and the two failures
	// run alone are not commits.
	omu.Lock()
	if len(seen) != 2 || seen[0].Writes != 1 || seen[1].Writes != n-2 {
		t.Errorf("observed commits %+v, want batches of 1 and %d", seen, n-2)
	}
	for _, s := range seen {
		if s.Write <= 0 || s.Commit < s.Write {
			t.Errorf("commit times %+v: want 0 < Write <= Commit", s)
		}
	}
	omu.Unlock()
	for i, err := range errs {
		switch i {
		case 7:
			if err == nil || err.Error() != "refused by the function" {
				t.Errorf("write 7: %v", err)
			}
		case 9:
			if err == nil || !strings.Contains(err.Error(), "panicked") || strings.Contains(err.Error(), "a bug") {
				t.Errorf("write 9: %v", err)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	for i := range calls { // each committed write's callback ran once, after its commit
		want := int32(1)
		if i == 7 || i == 9 {
			want = 0
		}
		if got := calls[i].Load(); got != want {
			t.Errorf("write %d: OnCommit ran %d times, want %d", i, got, want)
		}
	}
	_ = st.View(context.Background(), func(tx Tx) error {
		for i := 0; i < n; i++ {
			got := tx.Get(BucketMeta, []byte(fmt.Sprintf("k%02d", i)))
			if (got != nil) != (i != 7 && i != 9) {
				t.Errorf("key %d present: %v", i, got != nil)
			}
		}
		return nil
	})
}

// A write still queued when its context ends is dropped: it never runs and
// nothing of it is committed; the writes around it commit.
func TestQueuedWriteRespectsContext(t *testing.T) {
	st, err := OpenBolt(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	release, blocked := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.Update(context.Background(), func(tx Tx) error {
			close(blocked)
			<-release
			return tx.Put(BucketMeta, []byte("first"), []byte("1"))
		})
	}()
	<-blocked
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	queued := make(chan error, 1)
	go func() {
		queued <- st.Update(ctx, func(tx Tx) error {
			ran.Store(true)
			return tx.Put(BucketMeta, []byte("late"), []byte("1"))
		})
	}()
	for {
		st.gc.mu.Lock()
		q := len(st.gc.queue)
		st.gc.mu.Unlock()
		if q == 1 {
			break
		}
		runtime.Gosched()
	}
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued write after cancel: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := st.Update(context.Background(), func(tx Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ran.Load() {
		t.Error("the abandoned write ran")
	}
	_ = st.View(context.Background(), func(tx Tx) error {
		if tx.Get(BucketMeta, []byte("late")) != nil || tx.Get(BucketMeta, []byte("first")) == nil {
			t.Error("wrong records committed")
		}
		return nil
	})
}

// Expect compares exact bytes, and nil means absent (not empty).
func TestExpect(t *testing.T) {
	st, err := OpenBolt(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Update(ctx, func(tx Tx) error { return tx.Put(BucketMeta, []byte("k"), []byte("v1")) }); err != nil {
		t.Fatal(err)
	}
	_ = st.View(ctx, func(tx Tx) error {
		for _, c := range []struct {
			key, want string
			absent    bool
			ok        bool
		}{{"k", "v1", false, true}, {"k", "v2", false, false}, {"k", "", true, false},
			{"missing", "", true, true}, {"missing", "v1", false, false}} {
			var want []byte
			if !c.absent {
				want = []byte(c.want)
			}
			if got := tx.Expect(BucketMeta, []byte(c.key), want); got != c.ok {
				t.Errorf("Expect(%s, %q, absent=%v) = %v", c.key, c.want, c.absent, got)
			}
		}
		return nil
	})
}

// ScanBack walks keys below its bound, newest first.
func TestScanBack(t *testing.T) {
	st, err := OpenBolt(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	_ = st.Update(ctx, func(tx Tx) error {
		for _, k := range []string{"a", "c", "e"} {
			if err := tx.Put(BucketAudit, []byte(k), []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct {
		before string
		want   string
	}{{"", "eca"}, {"e", "ca"}, {"d", "ca"}, {"z", "eca"}, {"a", ""}} {
		var got string
		var before []byte
		if c.before != "" {
			before = []byte(c.before)
		}
		_ = st.View(ctx, func(tx Tx) error {
			return tx.ScanBack(BucketAudit, before, func(k, _ []byte) (bool, error) {
				got += string(k)
				return true, nil
			})
		})
		if got != c.want {
			t.Errorf("ScanBack(before %q) = %q, want %q", c.before, got, c.want)
		}
	}
}
