package vault

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
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
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	old, _ := f.v.Checkpoint(ctx, req, f.admin)
	f.clock.Advance(400 * 24 * time.Hour)
	cut := f.clock.Now()
	f.clock.Advance(time.Hour)
	f.put(t, f.admin, "Email", "admin", "pw", "IT Provider")
	before := len(f.entries(t))
	n, err := f.v.Prune(ctx, req, nil, cut)
	if err != nil || n == 0 {
		t.Fatalf("prune: %d %v", n, err)
	}
	es := f.entries(t)
	if es[0].Seq != n+1 || len(es) != before-int(n)+1 || es[len(es)-1].Action != "audit.prune" {
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
	if n2, _ := f.v.Prune(ctx, req, nil, cut); n2 != 0 {
		t.Fatal("a second prune found more to cut")
	}
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	if _, err := f.v.Prune(ctx, req, clerk, cut); !errors.Is(err, ErrForbidden) {
		t.Fatalf("clerk prune: %v", err)
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
