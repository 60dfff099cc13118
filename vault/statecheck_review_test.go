// Tests from the review of the state seal (each failed before its fix).
package vault

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"strongroom/audit"
	"strongroom/vault/barrier"
	"strongroom/vault/recovery"
	"testing"
	"time"
)

// A pruned log (anchor signed with the audit key of the time),
// then a re-key (which rotates meta/audit.verifier), then an unseal.
func TestPrunedThenRekeyedVaultUnseals(t *testing.T) {
	f := newFixture(t)
	f.v.audit.SetRetention(MinAuditRetention)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	f.clock.Advance(MinAuditRetention + 35*24*time.Hour)
	f.put(t, f.admin, "Email", "admin", "pw", "IT Provider")
	if res, err := f.v.PruneExpired(ctx, req); err != nil || res.Through == 0 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	res, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := f.v.VerifyAudit(ctx, req, f.admin); err != nil || !r.OK {
		t.Errorf("online verify after prune+rekey: %+v %v", r, err)
	}
	if err := f.v.CheckState(ctx); err != nil {
		t.Errorf("hourly check after prune+rekey: %v", err)
	}
	var exp bytes.Buffer
	if err := f.v.ExportAudit(ctx, req, f.admin, Filter{}, FormatJSONL, &exp); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{res.Envelopes[0].VerifierKey, f.init.VerifierKey} {
		if _, err := audit.Verify(bytes.NewReader(exp.Bytes()), key, nil); err != nil {
			t.Errorf("the export of a pruned, re-keyed log, offline with %.24s: %v", key, err)
		}
	}
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	err = f.v.UnsealPassphrase(ctx, req, f.pass)
	if err != nil || f.v.Sealed() {
		t.Fatalf("a genuine vault (pruned, then re-keyed) does not unseal: %v (rolled back: %v)", err, errors.Is(err, ErrRolledBack))
	}
}

// Entries added to the end of the log while the server is
// stopped (any action, forged by whoever can write the file) pass the
// unseal, and the vault then signs checkpoints over them.
func TestForgedEntryAfterThePinIsRefused(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	db := snapshotDB(t, f)
	f.v.Close()
	// The attacker's bbolt tool: append a forged, correctly chained entry.
	v, st := withKey(t, db, "meta\x00council", dump(t, db)["meta\x00council"])
	defer v.Close()
	err := st.Update(ctx, func(tx Tx) error {
		h := tx.Get(bucketMeta, []byte("audit.head"))
		seq := binary.BigEndian.Uint64(h)
		e := audit.Entry{Time: time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC),
			Actor:  audit.Actor{ID: "x", Name: "Clerk", Role: "clerk"},
			Action: audit.CredRead, Target: audit.Target{Kind: "credential", Name: "Website host"}, Outcome: audit.OutcomeOK}
		e.Seal(seq, hex.EncodeToString(h[8:]))
		if err := tx.Put(bucketAudit, binary.BigEndian.AppendUint64(nil, e.Seq), e.Line()); err != nil {
			return err
		}
		raw, _ := hex.DecodeString(e.Hash)
		return tx.Put(bucketMeta, []byte("audit.head"), append(binary.BigEndian.AppendUint64(nil, e.Seq), raw...))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = v.UnsealPassphrase(ctx, req, f.pass)
	if !errors.Is(err, ErrRolledBack) || !v.Sealed() {
		t.Fatalf("a log with a forged %s entry added while stopped: %v", audit.CredRead, err)
	}
}

// An upgraded vault (first state seal) whose file is later given
// back its pre-upgrade keyring, with the seal deleted and the log cut just
// before the "first state seal" entry, takes any rolled-back record again.
func TestFirstStateSealNeedsTheOperator(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Facebook", "shared", "first-password", "IT Provider")
	var headKey string
	var early []byte
	_ = f.store.View(ctx, func(tx Tx) error {
		return tx.Scan(bucketCredentials, nil, func(k, v []byte) (bool, error) {
			if strings.HasSuffix(string(k), "/head") {
				headKey, early = string(k), v
			}
			return true, nil
		})
	})
	f.v.dropKeys()
	legacy := makeLegacy(t, f) // the vault as an earlier release left it
	var preHead []byte
	_ = f.store.View(ctx, func(tx Tx) error { preHead = tx.Get(bucketMeta, []byte("audit.head")); return nil })
	f.v.seal.SetFirstStateSeal(true) // once, after the upgrade
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatalf("first unseal of an older vault: %v", err)
	}
	f.v.seal.SetFirstStateSeal(false) // and the next start is without it
	firstSeq := binary.BigEndian.Uint64(preHead) + 1
	// Later genuine use: the credential changes (the old assignee is removed, say).
	f.put(t, f.admin, "Facebook", "shared", "second-password", "IT Provider")
	if _, err := f.v.Checkpoint(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	f.v.dropKeys()

	// The attacker: the pre-upgrade keyring back (from any old backup), the
	// seal deleted, the log cut before the first-state-seal entry, stored
	// checkpoints emptied, and a credential head put back.
	err := f.store.Update(ctx, func(tx Tx) error {
		var cut [][]byte
		_ = tx.Scan(bucketAudit, binary.BigEndian.AppendUint64(nil, firstSeq), func(k, _ []byte) (bool, error) { cut = append(cut, k); return true, nil })
		for _, k := range cut {
			if err := tx.Delete(bucketAudit, k); err != nil {
				return err
			}
		}
		var cps [][]byte
		_ = tx.Scan(bucketCheckpoints, nil, func(k, _ []byte) (bool, error) { cps = append(cps, k); return true, nil })
		for _, k := range cps {
			if err := tx.Delete(bucketCheckpoints, k); err != nil {
				return err
			}
		}
		if err := tx.Put(bucketMeta, []byte("audit.head"), preHead); err != nil {
			return err
		}
		if err := tx.Put("keyring", []byte("keyring"), legacy); err != nil {
			return err
		}
		if err := tx.Put(bucketCredentials, []byte(headKey), early); err != nil {
			return err
		}
		return tx.Delete(bucketMeta, []byte(barrier.KeyState))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = f.v.UnsealPassphrase(ctx, req, f.pass)
	if errors.Is(err, recovery.ErrNoStateSeal) && f.v.Sealed() {
		return
	}
	if err == nil && !f.v.Sealed() {
		if cerr := f.v.CheckState(ctx); cerr == nil {
			if r, verr := f.v.VerifyAudit(ctx, req, f.admin); verr == nil && r.OK {
				t.Fatalf("a rolled-back credential head, a cut log and a put-back pre-upgrade keyring unsealed and verify OK")
			}
		}
		t.Fatalf("unsealed a doctored file (found only later)")
	}
}

// The hourly state check, run between a re-key's commit and its
// Replace, checks the new seal under the old state key: a false
// "changed outside the vault" incident, and the vault seals itself.
func TestHourlyCheckDuringRekey(t *testing.T) {
	f := newFixture(t)
	var cerr error
	f.once("rekey.committed", func() { cerr = f.v.CheckState(ctx) })
	if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); err != nil {
		t.Fatal(err)
	}
	f.v.between = nil
	if cerr != nil || f.v.Sealed() {
		t.Fatalf("the hourly check just after a re-key committed: %v (sealed %v; last entry %+v)", cerr, f.v.Sealed(), f.last(t))
	}
}

// Every sealed bucket and meta put back to an older copy (a
// backup), but the current audit log and audit head kept: the old seal
// authenticates, its pin is still in the log, and every later entry
// (written with the keys) is taken as "appended while sealed". The vault
// serves the old state, and the log still reaches every checkpoint the
// auditor kept, so the documented outside checks do not fire either.
func TestOldRecordsWithTheCurrentLogAreRefused(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Facebook", "shared", "first-password", "Clerk")
	early := snapshotDB(t, f)
	f.put(t, f.admin, "Facebook", "shared", "second-password", "Member") // the clerk is removed
	if err := f.v.MarkCompromised(ctx, req, f.admin, "Facebook", "seen on a screen"); err != nil {
		t.Fatal(err)
	}
	kept, err := f.v.Checkpoint(ctx, req, f.admin) // the auditor keeps this one
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	late := snapshotDB(t, f)
	f.v.Close()

	before, after := dump(t, early), dump(t, late)
	v, st := withKey(t, late, "meta\x00council", after["meta\x00council"])
	defer v.Close()
	err = st.Update(ctx, func(tx Tx) error {
		for id := range after {
			b, k, _ := strings.Cut(id, "\x00")
			if b == bucketAudit || (b == bucketMeta && (k == "audit.head" || strings.HasPrefix(k, "outbox/"))) {
				continue
			}
			if _, ok := before[id]; !ok {
				if err := tx.Delete(b, []byte(k)); err != nil {
					return err
				}
			}
		}
		for id, val := range before {
			b, k, _ := strings.Cut(id, "\x00")
			if b == bucketAudit || (b == bucketMeta && (k == "audit.head" || strings.HasPrefix(k, "outbox/"))) {
				continue
			}
			if err := tx.Put(b, []byte(k), val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = v.UnsealPassphrase(ctx, req, f.pass)
	if errors.Is(err, ErrRolledBack) && v.Sealed() {
		return
	}
	if err != nil {
		t.Fatalf("refused, but not as a rollback: %v", err)
	}
	clerkNow := &Principal{UserID: clerk.UserID, Name: clerk.Name, Role: clerk.Role}
	_, rerr := v.ReadCredential(ctx, req, clerkNow, "Facebook", 0)
	vr, verr := v.VerifyAudit(ctx, req, f.admin)
	var exp bytes.Buffer
	if err := v.ExportAudit(ctx, req, f.admin, Filter{}, FormatJSONL, &exp); err != nil {
		t.Fatal(err)
	}
	rep, oerr := audit.Verify(bytes.NewReader(exp.Bytes()), f.init.VerifierKey, [][]byte{kept})
	t.Logf("offline verify with the auditor's kept checkpoint: matched %d, closed %v, err %v", rep.CheckpointsMatched, rep.Closed, oerr)
	t.Fatalf("an old state with the current log unsealed; the removed clerk reads: err=%v; online verify: %+v %v; kept checkpoint %d bytes still reached",
		rerr, vr, verr, len(kept))
}

// A key in the audit bucket that is no entry's seq (short, or seq 0) is
// found, not skipped; and a re-key that finds the database changed
// records the incident and seals.
func TestStrayAuditKeyAndRekeyOverAChange(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	for _, key := range [][]byte{[]byte("x"), make([]byte, 8)} {
		if err := f.store.Update(ctx, func(tx Tx) error { return tx.Put(bucketAudit, key, []byte("{}")) }); err != nil {
			t.Fatal(err)
		}
		if err := f.v.CheckState(ctx); !errors.Is(err, ErrRolledBack) {
			t.Fatalf("a stray audit key %x: %v", key, err)
		}
		_ = f.store.Update(ctx, func(tx Tx) error { return tx.Delete(bucketAudit, key) })
		if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
			t.Fatalf("unseal once the key is gone: %v", err)
		}
	}
	var id string
	var val []byte
	_ = f.store.View(ctx, func(tx Tx) error {
		return tx.Scan(bucketUsers, nil, func(k, v []byte) (bool, error) { id, val = string(k), v; return false, nil })
	})
	_ = f.store.Update(ctx, func(tx Tx) error {
		return tx.Put(bucketUsers, []byte(id), append(val[:len(val)-1:len(val)-1], val[len(val)-1]^1))
	})
	if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); !errors.Is(err, ErrRolledBack) || !f.v.Sealed() {
		t.Fatalf("a re-key over a changed record: %v (sealed %v)", err, f.v.Sealed())
	}
	if last := f.last(t); audit.KindOf(last) != audit.IncidentTampered {
		t.Fatalf("not recorded: %+v", last)
	}
}
