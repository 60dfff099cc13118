package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/escrow"
	"strongroom/vault/backup"
	"strongroom/vault/barrier"
	"strongroom/vault/recovery"
	"strongroom/vault/storage"

	"golang.org/x/mod/sumdb/note"
)

// snapshotDB is a copy of the fixture's database as it stands.
func snapshotDB(t *testing.T, f *fixture) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := f.store.Snapshot(ctx, &buf, func(Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dump is every bucket/key -> value of a database copy.
func dump(t *testing.T, db []byte) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "strongroom.db"), db, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string][]byte{}
	err = st.View(ctx, func(tx Tx) error {
		for _, b := range storage.Buckets {
			if err := tx.Scan(b, nil, func(k, v []byte) (bool, error) { out[b+"\x00"+string(k)] = v; return true, nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withKey is db with one key put back to val (nil: deleted), opened as
// a stopped server's vault would be.
func withKey(t *testing.T, db []byte, id string, val []byte) (*Vault, Store) {
	t.Helper()
	_, st := withKeyDir(t, db, id, val)
	return New(Config{Store: st, KDF: testKDF}), st
}

// withKeyDir is withKey's store, and the directory of its file.
func withKeyDir(t *testing.T, db []byte, id string, val []byte) (string, Store) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "strongroom.db"), db, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bucket, key, _ := strings.Cut(id, "\x00")
	err = st.Update(ctx, func(tx Tx) error {
		if val == nil {
			return tx.Delete(bucket, []byte(key))
		}
		return tx.Put(bucket, []byte(key), val)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, st
}

func unsealWithShares(envs []*escrow.Envelope, v *Vault) error {
	for _, e := range envs {
		if _, err := v.UnsealShare(ctx, req, e.Text()); err != nil {
			return err
		}
	}
	return nil
}

// The outside check of issue 14, as a test: between an earlier and a later
// copy of the database, every key whose value differs is put back to its
// earlier value (deleted, if it was not there), one at a time, in every
// bucket; the vault must refuse to unseal each copy with ErrRolledBack and
// record the refusal as an incident. The later copy as it is unseals.
func TestEveryRolledBackKeyIsRefused(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	put := func(name, kind, pw string, who ...string) {
		t.Helper()
		if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: name, Kind: kind, Password: []byte(pw), Assignees: who}); err != nil {
			t.Fatal(err)
		}
	}
	put("Facebook", "shared", "first-password", "Clerk")
	put("Router admin", "admin", "router-one")
	if _, err := f.v.ReadCredential(ctx, req, clerk, "Facebook", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Checkpoint(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	early := snapshotDB(t, f)

	put("Facebook", "shared", "second-password", "Member") // the clerk is removed
	put("Parish e-mail", "shared", "mail-one", "Member")
	if err := f.v.MarkCompromised(ctx, req, f.admin, "Router admin", "seen on a screen"); err != nil {
		t.Fatal(err)
	}
	if err := f.v.DisableUser(ctx, req, f.admin, "Clerk"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.ReadCredential(ctx, req, member, "Facebook", 0); err != nil {
		t.Fatal(err)
	}
	if err := f.v.SetPassphrase(ctx, req, f.admin, []byte("a new operator passphrase here")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Checkpoint(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	late := snapshotDB(t, f)

	sweepRollbacks(t, early, late, func(v *Vault) error { return unsealWithShares(f.init.Envelopes[:2], v) },
		"meta", "users", "credentials", "audit", "checkpoints")
}

// sweepRollbacks puts back, one at a time, every key that differs between
// the copies early and late, to its value in early, and requires unseal
// to refuse each copy (and to accept late as it is).
func sweepRollbacks(t *testing.T, early, late []byte, unseal func(*Vault) error, mustChange ...string) {
	t.Helper()
	before, after := dump(t, early), dump(t, late)
	var changed []string
	for id, v := range after {
		if !bytes.Equal(before[id], v) {
			changed = append(changed, id)
		}
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			changed = append(changed, id)
		}
	}
	sort.Strings(changed)
	buckets := map[string]bool{}
	for _, id := range changed {
		b, _, _ := strings.Cut(id, "\x00")
		buckets[b] = true
	}
	for _, b := range mustChange {
		if !buckets[b] {
			t.Fatalf("no key of bucket %s changed: the scenario does not exercise it (%v)", b, buckets)
		}
	}

	// Control: the later copy as it is unseals.
	v, _ := withKey(t, late, "meta\x00vault_id", after["meta\x00vault_id"])
	if err := unseal(v); err != nil || v.Sealed() {
		t.Fatalf("the untouched copy: %v", err)
	}
	v.Close()

	for _, id := range changed {
		t.Run(strings.ReplaceAll(fmt.Sprintf("%q", id), "\\x00", "/"), func(t *testing.T) {
			v, _ := withKey(t, late, id, before[id])
			defer v.Close()
			err := unseal(v)
			if !errors.Is(err, ErrRolledBack) || !v.Sealed() {
				t.Fatalf("unseal of a copy with %q put back: %v (sealed %v)", id, err, v.Sealed())
			}
			if strings.Contains(err.Error(), "password") {
				t.Fatalf("the refusal quotes content: %v", err)
			}
			if id == "meta\x00audit.head" { // nothing can be appended until the head is right again
				if !strings.Contains(err.Error(), "audit head") {
					t.Fatalf("a put-back audit head: %v", err)
				}
				return
			}
			var last *audit.Entry
			_ = v.store.View(ctx, func(tx Tx) error {
				return tx.ScanBack(bucketAudit, nil, func(_, l []byte) (bool, error) {
					last, _ = audit.ParseLine(l)
					return false, nil
				})
			})
			if last == nil || last.Outcome != audit.OutcomeDenied || !strings.Contains(last.Reason, "changed outside the vault") || !audit.IsIncident(last) {
				t.Fatalf("the refusal is not on record as an incident: %+v", last)
			}
		})
	}
}

// Across a re-key and its rewrap: every key put back to its value from
// before the re-key (the old keyring, the old state seal, the old escrow
// state, records sealed under the old term) is refused when the vault is
// unsealed with the new envelopes.
func TestRolledBackAcrossARekeyIsRefused(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "Facebook", Kind: "shared", Password: []byte("old-password"), Assignees: []string{"Clerk"}}); err != nil {
		t.Fatal(err)
	}
	early := snapshotDB(t, f)
	res, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "Facebook", Kind: "shared", Password: []byte("new-password"), Assignees: []string{"Clerk"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Rewrap(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.ReadCredential(ctx, req, clerk, "Facebook", 0); err != nil {
		t.Fatal(err)
	}
	late := snapshotDB(t, f)
	sweepRollbacks(t, early, late, func(v *Vault) error { return unsealWithShares(res.Envelopes[:2], v) },
		"meta", "keyring", "credentials", "users")
}

// While unsealed, the hourly check finds a record changed around the
// vault (straight into the file), records the incident and seals; a
// database as the vault wrote it passes.
func TestRunningStateCheckSealsOnChange(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Facebook", "shared", "first-password", "Clerk")
	var early []byte
	var id string
	_ = f.store.View(ctx, func(tx Tx) error {
		return tx.Scan(bucketCredentials, nil, func(k, v []byte) (bool, error) {
			id, early = string(k), v
			return false, nil
		})
	})
	f.put(t, f.admin, "Facebook", "shared", "second-password", "Clerk")
	if err := f.v.CheckState(ctx); err != nil {
		t.Fatalf("an untouched vault: %v", err)
	}
	if _, err := f.v.ReadCredential(ctx, req, clerk, "Facebook", 0); err != nil {
		t.Fatal(err)
	}
	// Around the vault: the store itself, not the barrier's.
	if err := f.store.Update(ctx, func(tx Tx) error { return tx.Put(bucketCredentials, []byte(id), early) }); err != nil {
		t.Fatal(err)
	}
	err := f.v.CheckState(ctx)
	if !errors.Is(err, ErrRolledBack) || !f.v.Sealed() {
		t.Fatalf("after a change around the vault: %v (sealed %v)", err, f.v.Sealed())
	}
	last := f.last(t)
	if !audit.IsIncident(last) || audit.KindOf(last) != audit.IncidentTampered || last.Action != audit.SysSeal {
		t.Fatalf("not recorded as an incident: %+v", last)
	}
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("unseal after: %v", err)
	}
}

// A vault made before the state seal (its keyring has no state key, meta
// no seal) gets its first seal at its next unseal, recorded; from then on
// a keyring put back to its copy from before that is refused, even with
// the seal deleted too.
func TestFirstStateSealOfAnOlderVault(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Facebook", "shared", "first-password", "IT Provider")
	f.v.dropKeys()
	legacy := makeLegacy(t, f) // the vault as an earlier release left it
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); !errors.Is(err, recovery.ErrNoStateSeal) || !f.v.Sealed() {
		t.Fatalf("an older vault unsealed without --first-state-seal: %v", err)
	}
	f.v.seal.SetFirstStateSeal(true) // the operator starts the server once with --first-state-seal
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatalf("first unseal of an older vault: %v", err)
	}
	f.v.seal.SetFirstStateSeal(false)
	if last := f.last(t); last.Action != audit.SysUnseal || !strings.Contains(last.Reason, "first state seal") {
		t.Fatalf("the first seal is not on record: %+v", last)
	}
	if err := f.v.CheckState(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.ReadCredential(ctx, req, f.admin, "Facebook", 0); err != nil {
		t.Fatal(err)
	}
	f.v.dropKeys()
	err := f.store.Update(ctx, func(tx Tx) error {
		if err := tx.Put("keyring", []byte("keyring"), legacy); err != nil {
			return err
		}
		return tx.Delete(bucketMeta, []byte(barrier.KeyState))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), "from before the vault's state seal") {
		t.Fatalf("a keyring put back to before the first seal: %v", err)
	}
}

// A backup doctored inside (a credential's head put back to an earlier
// copy) and signed again with the vault's own audit key, as an insider
// who had it could: its signature and log verify, but checking it with
// the envelopes unseals it, and the state check refuses it.
func TestDoctoredBackupIsRefusedByTheStateCheck(t *testing.T) {
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
	f.put(t, f.admin, "Facebook", "shared", "second-password", "IT Provider")
	var buf bytes.Buffer
	if _, err := f.v.Backup(ctx, req, f.admin, &buf); err != nil {
		t.Fatal(err)
	}
	p, err := backup.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	doctored := putBack(t, p.DB, "credentials\x00"+headKey, early)
	m := p.Manifest
	sum := sha256.Sum256(doctored)
	m.SHA256, m.Size = hex.EncodeToString(sum[:]), int64(len(doctored))
	var signer note.Signer
	if err := f.v.barrier.View(ctx, func(tx barrier.Tx) (err error) { signer, err = recovery.AuditSigner(tx); return err }); err != nil {
		t.Fatal(err)
	}
	signed, err := backup.Sign(&m, signer)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := backup.WriteFrame(&out, signed, bytes.NewReader(doctored)); err != nil {
		t.Fatal(err)
	}
	shares := []string{f.init.Envelopes[0].Text(), f.init.Envelopes[1].Text()}
	_, err = CheckBackup(ctx, bytes.NewReader(out.Bytes()), BackupOptions{VerifierKey: f.init.VerifierKey, Shares: shares, KDF: testKDF})
	if !errors.Is(err, ErrRolledBack) {
		t.Fatalf("a doctored, re-signed backup checked with envelopes: %v", err)
	}
	if _, err := CheckBackup(ctx, bytes.NewReader(buf.Bytes()), BackupOptions{VerifierKey: f.init.VerifierKey, Shares: shares, KDF: testKDF}); err != nil {
		t.Fatalf("the genuine backup: %v", err)
	}
}

// putBack is the database copy db with bucket\x00key set to val.
func putBack(t *testing.T, db []byte, id string, val []byte) []byte {
	t.Helper()
	dir, st := withKeyDir(t, db, id, val)
	st.Close()
	out, err := os.ReadFile(filepath.Join(dir, "strongroom.db"))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Two superseded envelopes and a copy of the database from before a
// re-key recover the old audit signing key: a closing checkpoint it signs
// over an export from after the re-key is refused (signed by a retired
// key), whichever key the auditor holds.
func TestRecoveredOldAuditKeyCannotCloseALaterExport(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	old := snapshotDB(t, f)
	res, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass})
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, f.admin, "Website host", "admin", "pw2", "IT Provider")
	var buf bytes.Buffer
	if err := f.v.ExportAudit(ctx, req, f.admin, Filter{}, FormatJSONL, &buf); err != nil {
		t.Fatal(err)
	}
	newKey := res.Envelopes[0].VerifierKey
	if _, err := audit.Verify(bytes.NewReader(buf.Bytes()), newKey, nil); err != nil {
		t.Fatalf("the genuine export: %v", err)
	}

	// The attacker's key: the old envelopes open the old copy's keyring.
	root, err := escrow.Combine([]*escrow.Share{f.init.Envelopes[0].Share, f.init.Envelopes[1].Share})
	if err != nil {
		t.Fatal(err)
	}
	_, st := withKeyDir(t, old, "meta\x00vault_id", dump(t, old)["meta\x00vault_id"])
	var signer note.Signer
	err = st.View(ctx, func(tx Tx) error {
		plain, err := barrier.OpenRecord(root, tx.Get("keyring", []byte("keyring")), "keyring/keyring")
		if err != nil {
			return err
		}
		active, keys, err := barrier.DecodeKeyring(plain)
		if err != nil {
			return err
		}
		var skey string
		if _, err := barrier.Through(tx, barrier.NewKeyring(active, keys, nil)).GetRecord("keyring", "audit.signer", &skey); err != nil {
			return err
		}
		signer, err = note.NewSigner(skey)
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Re-close the export with it.
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	last, err := audit.ParseLine(lines[len(lines)-2])
	if err != nil {
		t.Fatal(err)
	}
	cp := &audit.Checkpoint{Origin: "strongroom/" + f.init.VaultID, Size: last.Seq, Head: last.Hash, Time: f.clock.Now().Add(time.Hour)}
	forged, err := audit.SignCheckpoint(cp, signer)
	if err != nil {
		t.Fatal(err)
	}
	lines[len(lines)-1] = audit.ClosingLine(forged)
	doctored := append(bytes.Join(lines, []byte("\n")), '\n')
	for _, key := range []string{newKey, f.init.VerifierKey} {
		if _, err := audit.Verify(bytes.NewReader(doctored), key, nil); err == nil || !strings.Contains(err.Error(), audit.SigRetired) {
			t.Fatalf("re-closed with the recovered old key, verified with %s: %v", key[:20], err)
		}
	}
}

// makeLegacy makes f's sealed vault look as a release before the state seal
// left it (its keyring without a state key, no seal) and returns that
// keyring's sealed bytes.
func makeLegacy(t *testing.T, f *fixture) []byte {
	t.Helper()
	root, err := escrow.Combine([]*escrow.Share{f.init.Envelopes[0].Share, f.init.Envelopes[1].Share})
	if err != nil {
		t.Fatal(err)
	}
	var legacy []byte
	err = f.store.Update(ctx, func(tx Tx) error {
		plain, err := barrier.OpenRecord(root, tx.Get("keyring", []byte("keyring")), "keyring/keyring")
		if err != nil {
			return err
		}
		active, keys, err := barrier.DecodeKeyring(plain)
		if err != nil {
			return err
		}
		delete(keys, 0)
		if legacy, err = barrier.SealRecord(root, 0, "keyring/keyring", barrier.EncodeKeyring(active, keys)); err != nil {
			return err
		}
		if err := tx.Put("keyring", []byte("keyring"), legacy); err != nil {
			return err
		}
		return tx.Delete(bucketMeta, []byte(barrier.KeyState))
	})
	if err != nil {
		t.Fatal(err)
	}
	return legacy
}
