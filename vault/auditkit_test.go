package vault

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
)

func (f *fixture) export(t *testing.T, flt Filter, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f.v.ExportAudit(ctx, req, f.admin, flt, format, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCheckpointsFilteredExportsAndIncidents(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	auditor, _ := f.addUser(t, "Auditor", RoleAuditor)
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")
	key := f.init.VerifierKey

	cp1, err := f.v.Checkpoint(ctx, req, auditor)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := audit.OpenCheckpoint(cp1, key)
	if err != nil || f.last(t).Action != "audit.checkpoint" || c1.Size != f.last(t).Seq {
		t.Fatalf("checkpoint %+v: %v", c1, err)
	}
	if _, err := f.v.Checkpoint(ctx, req, member); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member checkpoint: %v", err)
	}
	if cut, _ := f.v.AutoCheckpoint(ctx); !cut { // the member's refusal is new activity
		t.Fatal("no automatic checkpoint after new activity")
	}
	if cut, _ := f.v.AutoCheckpoint(ctx); cut {
		t.Fatal("an automatic checkpoint with no new activity")
	}
	for i := 0; i < 2; i++ {
		s, err := f.v.ReadCredential(ctx, req, clerk, "Facebook page", 0)
		if err != nil {
			t.Fatal(err)
		}
		s.Destroy()
	}
	f.v.ReadCredential(ctx, req, member, "Facebook page", 0)
	cp2, _ := f.v.Checkpoint(ctx, req, auditor)

	full := f.export(t, Filter{}, FormatJSONL)
	rep, err := audit.Verify(bytes.NewReader(full), key, [][]byte{cp1, cp2})
	if err != nil || rep.CheckpointsMatched != 2 || !rep.Closed || rep.Redacted != 0 {
		t.Fatalf("full export: %+v %v", rep, err)
	}
	// Filtered: the clerk's entries in full, the rest redacted, still verifiable.
	filtered := f.export(t, Filter{Actor: "clerk"}, FormatJSONL)
	rep, err = audit.Verify(bytes.NewReader(filtered), key, [][]byte{cp1, cp2})
	if err != nil || rep.Redacted == 0 || rep.Checked != rep.HeadSeq {
		t.Fatalf("filtered export: %+v %v", rep, err)
	}
	for _, l := range bytes.Split(bytes.TrimSpace(filtered), []byte("\n")) {
		if !bytes.Contains(l, []byte(`"digest":`)) && !bytes.Contains(l, []byte(`"name":"Clerk","role":"clerk"`)) && !bytes.HasPrefix(l, []byte(`{"checkpoint":`)) {
			t.Fatalf("filtered export shows another person's entry: %s", l)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(f.export(t, Filter{Action: "cred.*", Outcome: "ok"}, FormatCSV))).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "seq" { // header, create, two reads
		t.Fatalf("csv: %v %v", rows, err)
	}
	// Subject access: entries by or about the member.
	sf, _ := f.v.SubjectFilter(ctx, "member")
	subj := f.export(t, sf, FormatCSV)
	if !bytes.Contains(subj, []byte("user.create")) || !bytes.Contains(subj, []byte("cred.read")) || bytes.Contains(subj, []byte(",Clerk,")) {
		t.Fatalf("subject export:\n%s", subj)
	}
	inc, err := f.v.Incidents(ctx, req, auditor, time.Time{}, time.Time{})
	if err != nil || len(inc) != 2 || inc[0].Kind != "denied checkpoint" && inc[0].Action != "audit.checkpoint" || inc[1].Kind != "denied read" || inc[1].Actor.Name != "Member" {
		t.Fatalf("incidents: %+v %v", inc, err)
	}
	r, err := f.v.Report(ctx, req, auditor, time.Time{}, time.Time{})
	if err != nil || len(r.ByCredential) != 1 || r.ByCredential[0].Reads != 2 || r.ByCredential[0].Person != "Clerk" || len(r.Denials) != 2 {
		t.Fatalf("report: %+v %v", r, err)
	}
}

func TestPruneKeepsTheLogVerifiable(t *testing.T) {
	f := newFixture(t)
	f.v.audit.SetRetention(MinAuditRetention)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	old, _ := f.v.Checkpoint(ctx, req, f.admin)
	f.clock.Advance(MinAuditRetention + 35*24*time.Hour)
	f.put(t, f.admin, "Email", "admin", "pw", "IT Provider")
	before := len(f.entries(t))
	res, err := f.v.PruneExpired(ctx, req)
	if err != nil || res.Through == 0 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	n := res.Through
	es := f.entries(t)
	if es[0].Seq != n+1 || len(es) != before-int(n)+1 || es[len(es)-1].Action != "audit.prune" || es[len(es)-1].Actor.Role != "system" {
		t.Fatalf("after prune: first seq %d, %d entries", es[0].Seq, len(es))
	}
	if res, err := f.v.VerifyAudit(ctx, req, f.admin); err != nil || !res.OK {
		t.Fatalf("online verify after prune: %+v %v", res, err)
	}
	exp := f.export(t, Filter{}, FormatJSONL)
	if !bytes.HasPrefix(exp, []byte(`{"anchor":`)) {
		t.Fatal("a pruned export does not start with its anchor")
	}
	rep, err := audit.Verify(bytes.NewReader(exp), f.init.VerifierKey, [][]byte{old})
	if err != nil || rep.StartSeq != n+1 || rep.CheckpointsMatched != 1 || !rep.Closed { // the old checkpoint sits at the cut and must agree with the anchor
		t.Fatalf("offline verify after prune: %+v %v", rep, err)
	}
	if _, err := audit.Verify(bytes.NewReader(exp), "", nil); err == nil || !strings.Contains(err.Error(), "--key") {
		t.Fatalf("a pruned export verified without the key: %v", err)
	}
	if res, _ := f.v.PruneExpired(ctx, req); res.Through != 0 {
		t.Fatal("a second prune found more to cut")
	}
}

// lastEntry is the newest stored entry.
func (f *fixture) lastEntry(t *testing.T) *audit.Entry {
	t.Helper()
	es := f.entries(t)
	return es[len(es)-1]
}

// A person prunes only in two steps, auditor then a provider or the
// chairman who is someone else, and never anything younger than the
// retention, whatever date is asked; every refusal is recorded.
func TestPruneIsTwoPersonAndKeepsTheRetention(t *testing.T) {
	f := newFixture(t)
	f.v.audit.SetRetention(MinAuditRetention)
	auditor, _ := f.addUser(t, "Auditor", RoleAuditor)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	future := f.clock.Now().Add(10 * 365 * 24 * time.Hour)

	// The provider may not ask; the refusal is recorded.
	if _, err := f.v.RequestPrune(ctx, req, f.admin, future); !errors.Is(err, ErrForbidden) {
		t.Fatalf("provider prune request: %v", err)
	}
	if e := f.lastEntry(t); e.Action != audit.AuditPruneRequest || e.Outcome != audit.OutcomeDenied || e.Actor.Name != "IT Provider" {
		t.Fatalf("the provider's refused request is not recorded: %+v", e)
	}
	// A future date, approved, removes nothing: every entry is younger than the retention.
	count := len(f.entries(t))
	r, err := f.v.RequestPrune(ctx, req, auditor, future)
	if err != nil || r.State != "pending" {
		t.Fatalf("auditor request: %+v %v", r, err)
	}
	res, err := f.v.ApprovePrune(ctx, req, f.admin, r.ID)
	if err != nil || res.Through != 0 || !res.Cutoff.Equal(f.clock.Now().Add(-MinAuditRetention)) {
		t.Fatalf("approval of a future date: %+v %v", res, err)
	}
	if es := f.entries(t); es[0].Seq != 1 || len(es) != count+2 {
		t.Fatalf("a future date pruned: first seq %d, %d entries, want %d", es[0].Seq, len(es), count+2)
	}

	// A year and more on: entries from then are old, today's are not.
	f.clock.Advance(MinAuditRetention + 24*time.Hour)
	f.put(t, f.admin, "Email", "admin", "pw", "IT Provider")
	recent := f.lastEntry(t).Seq
	r, err = f.v.RequestPrune(ctx, req, auditor, future)
	if err != nil {
		t.Fatal(err)
	}
	// Not by the requester (even were their role to change), not by the auditor or a clerk; each refusal recorded.
	self := access.NewPrincipal(auditor.UserID, auditor.Name, RoleChairman, "s")
	for _, p := range []*Principal{auditor, clerk, self} {
		if _, err := f.v.ApprovePrune(ctx, req, p, r.ID); !errors.Is(err, ErrForbidden) {
			t.Fatalf("approval by %s (%s): %v", p.Name, p.Role, err)
		}
		if e := f.lastEntry(t); e.Action != audit.AuditPrune || e.Outcome != audit.OutcomeDenied || e.Target.Name != r.ID {
			t.Fatalf("refused approval by %s not recorded: %+v", p.Name, e)
		}
	}
	res, err = f.v.ApprovePrune(ctx, req, chair, r.ID)
	if err != nil || res.From != 1 || res.Through == 0 || res.Through >= recent || len(res.Checkpoint) == 0 {
		t.Fatalf("chairman's approval: %+v %v", res, err)
	}
	es := f.entries(t)
	for _, e := range es {
		if e.Time.Before(f.clock.Now().Add(-MinAuditRetention)) {
			t.Fatalf("entry %d (%v) is older than the retention and was kept", e.Seq, e.Time)
		}
	}
	if es[0].Seq != res.Through+1 || es[0].Seq > recent {
		t.Fatalf("after the prune the log starts at %d (cut %d, recent %d)", es[0].Seq, res.Through, recent)
	}
	e := es[len(es)-1]
	want := fmt.Sprintf("removed entries seq 1 to %d", res.Through)
	if e.Action != audit.AuditPrune || e.Outcome != audit.OutcomeOK || e.Actor.Name != "Chair" || !strings.Contains(e.Reason, want) ||
		!strings.Contains(e.Reason, "head "+res.Head) || !strings.Contains(e.Reason, "Auditor") {
		t.Fatalf("the prune entry: %+v", e)
	}
	var anchor, stored []byte
	_ = f.v.store.View(ctx, func(tx Tx) error {
		anchor, stored = tx.Get(bucketMeta, []byte("audit.anchor")), tx.Get(bucketCheckpoints, auditlog.SeqKey(res.Through))
		return nil
	})
	cp, err := audit.OpenCheckpoint(res.Checkpoint, f.init.VerifierKey)
	if !bytes.Equal(anchor, res.Checkpoint) || !bytes.Equal(stored, res.Checkpoint) || err != nil || cp.Size != res.Through || cp.Head != res.Head {
		t.Fatalf("the checkpoint at the cut: %v %+v", err, cp)
	}
	if v, err := f.v.VerifyAudit(ctx, req, auditor); err != nil || !v.OK {
		t.Fatalf("online verify after the prune: %+v %v", v, err)
	}
	if _, err := audit.Verify(bytes.NewReader(f.export(t, Filter{}, FormatJSONL)), f.init.VerifierKey, nil); err != nil {
		t.Fatalf("offline verify after the prune: %v", err)
	}
	// Settled once: a second approval is a recorded conflict.
	if _, err := f.v.ApprovePrune(ctx, req, f.admin, r.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("second approval: %v", err)
	}
	if _, err := f.v.ApprovePrune(ctx, req, f.admin, "no-such-request"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	f.v.audit.SetRetention(0)
	if _, err := f.v.RequestPrune(ctx, req, auditor, future); !errors.Is(err, ErrInvalid) {
		t.Fatalf("request with retention 0: %v", err)
	}
}

// The approval re-checks, in the write that prunes, that the request is
// still pending: an approval that lands between another's read and write
// wins, and the other is a recorded conflict; the prune happens once.
func TestPruneApprovalRechecksPending(t *testing.T) {
	f := newFixture(t)
	f.v.audit.SetRetention(MinAuditRetention)
	auditor, _ := f.addUser(t, "Auditor", RoleAuditor)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	f.clock.Advance(MinAuditRetention + 24*time.Hour)
	r, err := f.v.RequestPrune(ctx, req, auditor, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var inner error
	once := false
	f.v.between = func(point string) {
		if point == "prune.approve" && !once {
			once = true
			_, inner = f.v.ApprovePrune(ctx, req, f.admin, r.ID)
		}
	}
	if _, err := f.v.ApprovePrune(ctx, req, chair, r.ID); !errors.Is(err, ErrConflict) || inner != nil {
		t.Fatalf("outer approval %v (want a conflict), inner %v", err, inner)
	}
	f.v.between = nil
	prunes := 0
	for _, e := range f.entries(t) {
		if e.Action == audit.AuditPrune && e.Outcome == audit.OutcomeOK {
			prunes++
		}
	}
	if e := f.lastEntry(t); prunes != 1 || e.Outcome != audit.OutcomeDenied || e.Actor.Name != "Chair" || !strings.Contains(e.Reason, "meanwhile") {
		t.Fatalf("%d prunes; last entry %+v", prunes, e)
	}
	if v, err := f.v.VerifyAudit(ctx, req, auditor); err != nil || !v.OK {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

// A consistent rewrite of the whole stored chain (fresh hashes, head
// updated) passes the chain check alone but not the vault's own signed
// checkpoints.
func TestOnlineVerifyUsesStoredCheckpoints(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	if _, err := f.v.Checkpoint(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	err := f.v.store.Update(ctx, func(tx Tx) error {
		prevSeq, prevHash := uint64(0), audit.ZeroHash
		var rewritten [][2][]byte
		err := tx.Scan(bucketAudit, nil, func(k, v []byte) (bool, error) {
			e, err := audit.ParseLine(v)
			if err != nil {
				return false, err
			}
			if e.Seq == 2 {
				e.Reason = "rewritten"
			}
			e.Seal(prevSeq, prevHash)
			prevSeq, prevHash = e.Seq, e.Hash
			rewritten = append(rewritten, [2][]byte{k, e.Line()})
			return true, nil
		})
		for _, kv := range rewritten {
			tx.Put(bucketAudit, kv[0], kv[1])
		}
		raw, _ := hex.DecodeString(prevHash)
		tx.Put(bucketMeta, keyAuditHead, append(seqKey(prevSeq), raw...))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.v.VerifyAudit(ctx, req, f.admin)
	if err != nil || res.OK || res.Problem != audit.ProblemForked {
		t.Fatalf("rewritten chain: %+v %v", res, err)
	}
}

// An export pinned at its head before a re-key (which adds a key
// transition after that head) is written without the transition, and
// verifies with the key that closed it.
func TestExportAcrossARekeyLeavesOutTheLaterTransition(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	ex, err := f.v.audit.BeginExport(ctx, req, f.admin, Filter{}, FormatJSONL, f.v.logKeys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ex.WriteTo(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte(`{"transition":`)) {
		t.Fatal("the export carries a transition from after its head")
	}
	if _, err := audit.Verify(bytes.NewReader(buf.Bytes()), f.init.VerifierKey, nil); err != nil {
		t.Fatalf("the export does not verify with the key that closed it: %v", err)
	}
}

// TestLatestCheckpoint: none before the first is signed; then the newest,
// verifiable with the vault's key; reading it records nothing.
func TestLatestCheckpoint(t *testing.T) {
	f := newFixture(t)
	auditor, _ := f.addUser(t, "Auditor", RoleAuditor)
	if cp, err := f.v.LatestCheckpoint(ctx); err != nil || cp != nil {
		t.Fatalf("before any checkpoint: %q %v", cp, err)
	}
	if _, err := f.v.Checkpoint(ctx, req, auditor); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, "Clerk", RoleClerk)
	if cut, err := f.v.AutoCheckpoint(ctx); !cut || err != nil {
		t.Fatalf("auto checkpoint: %v %v", cut, err)
	}
	head := f.last(t).Seq
	cp, err := f.v.LatestCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := audit.OpenCheckpoint(cp, f.init.VerifierKey)
	if err != nil || c.Size != head || f.last(t).Seq != head {
		t.Fatalf("latest checkpoint %+v (head %d, now %d): %v", c, head, f.last(t).Seq, err)
	}
}
