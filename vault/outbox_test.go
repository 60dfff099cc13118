package vault

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

// smallChunks makes the outbox read and delete a few entries at a time.
func smallChunks(t *testing.T, n int) {
	old := auditChunk
	auditChunk = n
	t.Cleanup(func() { auditChunk = old })
}

// The web audit page reads newest first, in pages, across many chunks,
// with a filter, and never the whole log at once.
func TestReadAuditPage(t *testing.T) {
	smallChunks(t, 7)
	f := newFixture(t)
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
	smallChunks(t, 5)
	f := newFixture(t)
	for i := 0; i < 12; i++ {
		f.put(t, f.admin, fmt.Sprintf("Old %02d", i), "admin", "a password", "IT Provider")
	}
	f.clock.Advance(48 * time.Hour)
	cutoff := f.clock.Now().Add(-time.Hour)
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
	cut, err := f.v.Prune(ctx, req, f.admin, cutoff)
	if err != nil || cut == 0 {
		t.Fatalf("prune: %d %v", cut, err)
	}
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
