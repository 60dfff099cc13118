package vault

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

// keyAuditHead is where the log's head is stored (the format tests forge).
var keyAuditHead = []byte("audit.head")

// The web audit page reads newest first, in pages, across many chunks,
// with a filter, and never the whole log at once.
func TestReadAuditPage(t *testing.T) {
	f := newFixture(t)
	f.v.audit.SetChunk(7)
	for i := 0; i < 30; i++ {
		f.put(t, f.admin, fmt.Sprintf("Cred %02d", i), "admin", "a password", "IT Provider")
	}
	all := f.entries(t)
	var want []uint64 // the cred.create entries, newest first
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Action == "cred.create" {
			want = append(want, all[i].Seq)
		}
	}
	var got []uint64
	before := uint64(0)
	for pages := 0; ; pages++ {
		pg, err := f.v.ReadAuditPage(ctx, req, f.admin, Filter{Action: "cred.create"}, before, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range pg.Entries {
			got = append(got, e.Seq)
		}
		if pg.Before == 0 {
			break
		}
		if pages > 20 || pg.Before >= before && before != 0 {
			t.Fatalf("paging does not move: before %d -> %d", before, pg.Before)
		}
		before = pg.Before
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages gave %v\nwant %v", got, want)
	}
	if e := f.entries(t); e[len(e)-1].Action != "audit.view" {
		t.Fatalf("the first page is not recorded: %+v", e[len(e)-1])
	}
	member, _ := f.addUser(t, "Member", RoleMember)
	if _, err := f.v.ReadAuditPage(ctx, req, member, Filter{}, 0, 10); err == nil {
		t.Fatal("a member read the audit log")
	}
}

// An export walks the log chunk by chunk up to the head pinned when it
// began, outside any transaction, and verifies offline; a prune in chunks
// leaves a log that verifies online and offline, and its export starts at
// the anchor.
func TestExportAndPruneInChunks(t *testing.T) {
	f := newFixture(t)
	f.v.audit.SetChunk(5)
	for i := 0; i < 12; i++ {
		f.put(t, f.admin, fmt.Sprintf("Old %02d", i), "admin", "a password", "IT Provider")
	}
	f.v.audit.SetRetention(MinAuditRetention)
	f.clock.Advance(MinAuditRetention + 48*time.Hour)
	for i := 0; i < 4; i++ {
		f.put(t, f.admin, fmt.Sprintf("New %02d", i), "admin", "a password", "IT Provider")
	}
	export := func() []byte {
		var buf bytes.Buffer
		// A write during the export lands after the pinned head: not in it.
		f.store.mu.Lock()
		f.store.afterView = func() {
			f.put(t, f.admin, "During export "+fmt.Sprint(f.clock.Now().UnixNano()), "admin", "x password", "IT Provider")
		}
		f.store.mu.Unlock()
		if err := f.v.ExportAudit(ctx, req, f.admin, Filter{}, FormatJSONL, &buf); err != nil {
			t.Fatal(err)
		}
		if _, err := audit.Verify(bytes.NewReader(buf.Bytes()), f.init.VerifierKey, nil); err != nil {
			t.Fatalf("export does not verify: %v", err)
		}
		return buf.Bytes()
	}
	before := export()
	res, err := f.v.PruneExpired(ctx, req)
	if err != nil || res.Through == 0 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	cut := res.Through
	for _, e := range f.entries(t) {
		if e.Seq <= cut {
			t.Fatalf("entry %d is still stored after pruning up to %d", e.Seq, cut)
		}
	}
	after := export()
	if !strings.HasPrefix(string(after), `{"anchor":`) || len(after) >= len(before) {
		t.Fatalf("the pruned export does not start at its anchor")
	}
	if res, err := f.v.VerifyAudit(ctx, req, f.admin); err != nil || !res.OK {
		t.Fatalf("online verification after pruning: %+v %v", res, err)
	}
}

// A subscriber gets every entry once it committed, in order, resumes from
// its saved position with a new Vault on the same store, and never moves
// back or past the head.
func TestSubscriberResumes(t *testing.T) {
	f := newFixture(t)
	f.v.audit.SetChunk(3)
	for i := 0; i < 5; i++ {
		f.put(t, f.admin, fmt.Sprintf("Cred %d", i), "admin", "a password", "IT Provider")
	}
	s, err := f.v.Subscriber("mail-clerk")
	if err != nil {
		t.Fatal(err)
	}
	var seen []uint64
	for {
		batch, err := s.Next(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			seen = append(seen, e.Seq)
		}
		if err := s.Ack(ctx, batch[len(batch)-1].Seq); err != nil {
			t.Fatal(err)
		}
	}
	all := f.entries(t)
	if len(seen) != len(all) || seen[0] != 1 || seen[len(seen)-1] != all[len(all)-1].Seq {
		t.Fatalf("delivered %v of %d entries", seen, len(all))
	}
	f.put(t, f.admin, "After", "admin", "a password", "IT Provider")
	again := New(Config{Store: f.store, Clock: f.clock.Now}) // a restart: the position is in the store
	s2, _ := again.Subscriber("mail-clerk")
	batch, err := s2.Next(ctx, 10)
	if err != nil || len(batch) != 1 || batch[0].Action != audit.CredCreate {
		t.Fatalf("after the restart: %+v %v", batch, err)
	}
	if err := s2.Ack(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if pos, _ := s2.Position(ctx); pos != seen[len(seen)-1] {
		t.Fatalf("an old ack moved the position back to %d", pos)
	}
	if err := s2.Ack(ctx, 1<<40); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ack past the head: %v", err)
	}
	if _, err := f.v.Subscriber("Bad Name"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
}

// A subscriber position set past the log's head outside the vault (it is
// outside the state seal) does not silence the subscriber: entries after
// the head are still delivered.
func TestSubscriberPositionPastTheHead(t *testing.T) {
	f := newFixture(t)
	s, err := f.v.Subscriber("mail-clerk")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Update(ctx, func(tx Tx) error {
		return tx.Put(bucketMeta, []byte("outbox/mail-clerk"), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Next(ctx, 10); err != nil || len(got) != 0 { // put back at the head
		t.Fatalf("the first read after: %d entries, %v", len(got), err)
	}
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	got, err := s.Next(ctx, 10)
	if err != nil || len(got) == 0 || got[len(got)-1].Action != audit.CredCreate {
		t.Fatalf("after a position past the head: %d entries, %v", len(got), err)
	}
}
