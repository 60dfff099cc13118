package vault

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
	"strongroom/vault/backup"
)

func TestBackupUnderWritesRestoreAndCompare(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	for i := 0; i < 20; i++ {
		f.put(t, f.admin, fmt.Sprintf("Account %02d", i), "shared", fmt.Sprintf("secret %d v1", i), "Clerk")
	}
	// Writers and readers keep going while the backup is taken.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("Account %02d", (w*7+i)%20)
				f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: name, Password: []byte(fmt.Sprintf("%s by %d #%d", name, w, i))})
				if s, err := f.v.ReadCredential(ctx, req, clerk, name, 0); err == nil {
					s.Destroy()
				}
			}
		}(w)
	}
	var buf bytes.Buffer
	m, err := f.v.Backup(ctx, req, f.admin, &buf)
	close(stop)
	wg.Wait()
	if err != nil || m.Size == 0 || m.HeadSeq == 0 {
		t.Fatalf("backup: %+v %v", m, err)
	}
	backup := buf.Bytes()

	chk, err := CheckBackup(ctx, bytes.NewReader(backup), BackupOptions{Passphrase: f.pass, VerifierKey: f.init.VerifierKey, KDF: testKDF})
	if err != nil || !chk.Decrypted || chk.Credentials != 20 || chk.Users != 2 || chk.AuditEntries != m.HeadSeq {
		t.Fatalf("check: %+v %v", chk, err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := RestoreBackup(ctx, bytes.NewReader(backup), dir, BackupOptions{VerifierKey: f.init.VerifierKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := RestoreBackup(ctx, bytes.NewReader(backup), dir, BackupOptions{VerifierKey: f.init.VerifierKey}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("restore over a vault: %v", err)
	}
	// The restored vault opens with two envelopes; every credential matches the live one at that version.
	st, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rv := New(Config{Store: st, KDF: testKDF})
	defer rv.Close()
	for _, e := range f.init.Envelopes[:2] {
		if _, err := rv.UnsealShare(ctx, req, e.Text()); err != nil {
			t.Fatal(err)
		}
	}
	restoredClerk := &Principal{UserID: clerk.UserID, Name: "Clerk", Role: RoleClerk}
	list, err := rv.ListCredentialsAll(ctx, restoredClerk)
	if err != nil || len(list) != 20 {
		t.Fatalf("restored list: %d %v", len(list), err)
	}
	for _, c := range list {
		got, err := rv.ReadCredential(ctx, req, restoredClerk, c.Name, 0)
		if err != nil {
			t.Fatal(err)
		}
		live, err := f.v.ReadCredential(ctx, req, clerk, c.Name, c.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Password(), live.Password()) {
			t.Fatalf("%s version %d differs after restore", c.Name, c.Version)
		}
		got.Destroy()
		live.Destroy()
	}
	if res, err := rv.VerifyAudit(ctx, req, f.admin); err != nil || !res.OK {
		t.Fatalf("restored chain: %+v %v", res, err)
	}
	// The restored vault's own log says it was restored, from which backup.
	var restored *audit.Entry
	st.View(ctx, func(tx Tx) error {
		return tx.Scan(bucketAudit, nil, func(_, v []byte) (bool, error) {
			if e, err := audit.ParseLine(v); err == nil && e.Action == "backup.restore" {
				restored = e
			}
			return true, nil
		})
	})
	if restored == nil || restored.Seq != m.HeadSeq+1 || restored.Target.Name != m.SHA256 {
		t.Fatalf("no backup.restore entry right after the backup's head: %+v", restored)
	}
}

func TestDamagedBackupsRefused(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	var buf bytes.Buffer
	m, err := f.v.Backup(ctx, req, f.admin, &buf)
	if err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	dbStart := len(good) - int(m.Size)
	flipped := append([]byte(nil), good...)
	flipped[dbStart+int(m.Size)/2] ^= 0x10
	// A flip with the checksum recomputed: the signature over the manifest catches it.
	resummed := append([]byte(nil), flipped...)
	sum := sha256.Sum256(resummed[dbStart:])
	resummed = bytes.Replace(resummed, []byte(m.SHA256), []byte(hex.EncodeToString(sum[:])), 1)
	other := newFixture(t)
	key := BackupOptions{VerifierKey: f.init.VerifierKey}
	cases := []struct {
		name string
		data []byte
		opt  BackupOptions
		want error
	}{
		{"truncated", good[:len(good)-100], key, ErrBackupTruncate},
		{"cut in the manifest", good[:40], key, ErrBackupTruncate},
		{"bit flipped", flipped, key, ErrBackupCorrupt},
		{"re-checksummed", resummed, key, ErrBackupCorrupt},
		{"trailing data", append(append([]byte(nil), good...), 'x'), key, ErrBackupCorrupt},
		{"not a backup", []byte("SQLite format 3\x00"), key, ErrNotBackup},
		{"another vault's", good, BackupOptions{VerifierKey: other.init.VerifierKey}, ErrBackupForeign},
		{"no key", good, BackupOptions{}, ErrBackupNoKey},
		{"no key, with the passphrase", good, BackupOptions{Passphrase: f.pass, KDF: testKDF}, ErrBackupNoKey},
		{"wrong passphrase", good, BackupOptions{Passphrase: []byte("not the passphrase"), VerifierKey: f.init.VerifierKey, KDF: testKDF}, ErrWrongPassphrase},
	}
	for _, tc := range cases {
		if _, err := CheckBackup(ctx, bytes.NewReader(tc.data), tc.opt); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	dir := filepath.Join(t.TempDir(), "r")
	if _, err := RestoreBackup(ctx, bytes.NewReader(flipped), dir, key); !errors.Is(err, ErrBackupCorrupt) {
		t.Fatalf("restore of a damaged backup: %v", err)
	}
	member, _ := f.addUser(t, "Member", RoleMember)
	if _, err := f.v.Backup(ctx, req, member, &bytes.Buffer{}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member backup: %v", err)
	}
}

func TestPruneBackupsGrandfatherFatherSon(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	for d := 0; d < 400; d++ { // a year and more of nightly backups, two a night
		for _, h := range []int{0, 12} {
			name := filepath.Join(dir, "backup-"+start.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour).Format(backup.TimeFormat)+".srbk")
			os.WriteFile(name, []byte("x"), 0o600)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me"), 0o600)
	if _, err := PruneBackups(dir, BackupRetention{Daily: 7, Weekly: 4, Monthly: 12}); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "backup-*.srbk"))
	// 7 days + up to 4 weeks + up to 12 months, overlapping: between 12 and 23 files.
	if len(left) < 12 || len(left) > 23 {
		t.Fatalf("%d backups kept", len(left))
	}
	newest := filepath.Join(dir, "backup-"+start.AddDate(0, 0, 399).Add(12*time.Hour).Format(backup.TimeFormat)+".srbk")
	if _, err := os.Stat(newest); err != nil {
		t.Fatal("the newest backup was pruned")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal("a file that is not a backup was removed")
	}
}

func TestScheduledBackupToDir(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	name, _, err := f.v.BackupToDir(ctx, dir, BackupRetention{Daily: 7, Weekly: 4, Monthly: 12})
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := CheckBackup(ctx, fh, BackupOptions{VerifierKey: f.init.VerifierKey}); err != nil {
		t.Fatalf("scheduled backup: %v", err)
	}
	if e := f.entries(t); e[len(e)-1].Action != "backup.create" || e[len(e)-1].Actor.Role != "system" {
		t.Fatalf("scheduled backup not recorded: %+v", e[len(e)-1])
	}
}

// doctorBackup rewrites a backup as someone with a copy of it but not the
// vault's keys can: the database's verifier key replaced by their own, the
// vault's checkpoints dropped (so the log can be rewritten at will), the
// manifest re-checksummed and re-signed with their key. It is consistent:
// only the operator's own key tells it apart.
func doctorBackup(t *testing.T, good []byte) (doctored []byte, theirKey string) {
	t.Helper()
	b, err := backup.Parse(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "strongroom/"+b.Manifest.VaultID)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "strongroom.db"), b.DB, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx Tx) error {
		var cps [][]byte
		if err := tx.Scan(bucketCheckpoints, nil, func(k, _ []byte) (bool, error) {
			cps = append(cps, append([]byte(nil), k...))
			return true, nil
		}); err != nil {
			return err
		}
		for _, k := range cps {
			if err := tx.Delete(bucketCheckpoints, k); err != nil {
				return err
			}
		}
		return tx.Put(bucketMeta, keyVerifier, []byte(vkey))
	})
	if err != nil {
		t.Fatal(err)
	}
	var db bytes.Buffer
	if _, err := st.Snapshot(ctx, &db, func(Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	m := b.Manifest
	sum := sha256.Sum256(db.Bytes())
	m.Size, m.SHA256 = int64(db.Len()), hex.EncodeToString(sum[:])
	signed, err := backup.Sign(&m, signer)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := backup.WriteFrame(&out, signed, bytes.NewReader(db.Bytes())); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), vkey
}

// A backup re-signed with another key is refused against the vault's key,
// by check and by restore; with the key it carries it is consistent
// (which is why that key is never trusted); with no key it is refused.
func TestDoctoredBackupRefusedWithTheVaultsKey(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	var buf bytes.Buffer
	if _, err := f.v.Backup(ctx, req, f.admin, &buf); err != nil {
		t.Fatal(err)
	}
	doctored, theirs := doctorBackup(t, buf.Bytes())
	if _, err := CheckBackup(ctx, bytes.NewReader(doctored), BackupOptions{VerifierKey: theirs}); err != nil {
		t.Fatalf("the doctored backup is not consistent, so this test proves nothing: %v", err)
	}
	ours := BackupOptions{VerifierKey: f.init.VerifierKey}
	if _, err := CheckBackup(ctx, bytes.NewReader(doctored), ours); !errors.Is(err, ErrBackupForeign) {
		t.Fatalf("check of a doctored backup with the vault's key: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "r")
	if _, err := RestoreBackup(ctx, bytes.NewReader(doctored), dir, ours); !errors.Is(err, ErrBackupForeign) {
		t.Fatalf("restore of a doctored backup with the vault's key: %v", err)
	}
	if _, err := RestoreBackup(ctx, bytes.NewReader(doctored), dir, BackupOptions{}); !errors.Is(err, ErrBackupNoKey) {
		t.Fatalf("restore without a key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "strongroom.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused restore left a database behind: %v", err)
	}
	if _, err := RestoreBackup(ctx, bytes.NewReader(buf.Bytes()), dir, ours); err != nil {
		t.Fatalf("restore of the genuine backup with the vault's key: %v", err)
	}
}
