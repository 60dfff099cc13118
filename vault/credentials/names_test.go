package credentials

import (
	"context"
	"errors"
	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"testing"
)

var ctx = context.Background()

// A name index rebuilt from a snapshot older than a commit keeps that
// commit's name: the credential stays findable, and a second credential of
// the same name is refused.
func TestNameIndexRebuiltFromAnOlderSnapshot(t *testing.T) {
	f := newFixture(t)
	if err := f.put(t, "Router", "router password", false); err != nil {
		t.Fatal(err)
	}
	var names *nameIndex
	stale := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- f.b.View(ctx, func(tx barrier.Tx) error {
			names = namesOf(tx)
			<-stale // the snapshot is taken; a commit lands meanwhile
			names.mu.Lock()
			names.complete = false // as after a seal and unseal: the next lookup rebuilds
			names.mu.Unlock()
			return ensureNames(tx)
		})
	}()
	if err := f.put(t, "Website", "website password", false); err != nil {
		t.Fatal(err)
	}
	close(stale)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if id, complete := names.lookup("website"); !complete || id == "" {
		t.Fatalf("after the stale rebuild: id %q complete %v: the newer name was dropped", id, complete)
	}
	err := f.put(t, "Website", "another password", true)
	if ee := (*access.ExistsError)(nil); !errors.As(err, &ee) {
		t.Fatalf("a second Website: %v; want *ExistsError", err)
	}
	list, _, err := f.c.ListCredentials(ctx, f.admin, ListOptions{})
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d credentials, %v", len(list), err)
	}
}
