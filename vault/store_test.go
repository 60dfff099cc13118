package vault

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The writes queued while one commit runs share the next commit; a write
// that fails is taken out and gets its own error; a panicking write is an
// error, not a crash; the others are all committed.
func TestGroupCommit(t *testing.T) {
	st, err := OpenBolt(t.TempDir(), BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gc := st.(*boltStore).gc
	release, blocked := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the first commit holds the writer until the rest are queued
		defer wg.Done()
		err := st.Update(context.Background(), func(tx Tx) error {
			close(blocked)
			<-release
			return tx.Put(bucketMeta, []byte("first"), []byte("1"))
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-blocked
	const n = 40
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = st.Update(context.Background(), func(tx Tx) error {
				switch i {
				case 7:
					return errors.New("refused by the function")
				case 9:
					panic("a bug in a write")
				}
				return tx.Put(bucketMeta, []byte(fmt.Sprintf("k%02d", i)), []byte("v"))
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
	// tried again, stopped by write 9, then committed: 3 transactions
	// (the two failures then run alone in their callers), not 40.
	if got := gc.commits.Load() - before; got != 3 {
		t.Errorf("%d batch transactions after the first was released, want 3", got)
	}
	for i, err := range errs {
		switch i {
		case 7:
			if err == nil || err.Error() != "refused by the function" {
				t.Errorf("write 7: %v", err)
			}
		case 9:
			if err == nil || !strings.Contains(err.Error(), "panicked") {
				t.Errorf("write 9: %v", err)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	_ = st.View(context.Background(), func(tx Tx) error {
		for i := 0; i < n; i++ {
			got := tx.Get(bucketMeta, []byte(fmt.Sprintf("k%02d", i)))
			if (got != nil) != (i != 7 && i != 9) {
				t.Errorf("key %d present: %v", i, got != nil)
			}
		}
		return nil
	})
}
