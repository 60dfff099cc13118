package vault

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
	"strongroom/vault/auditlog"
	"strongroom/vault/backup"
	"strongroom/vault/barrier"
	"strongroom/vault/recovery"
	"strongroom/vault/storage"
)

// Backups (package backup), as the vault's callers name them.
type (
	// Manifest describes a backup.
	Manifest = backup.Manifest
	// BackupCheck is what checking a backup found.
	BackupCheck = backup.Check
	// BackupOptions says how far to check a backup.
	BackupOptions = backup.Options
	// BackupRetention is how many daily, weekly and monthly backups to keep.
	BackupRetention = backup.Retention
)

// Errors a backup is refused with.
var (
	ErrNotBackup      = backup.ErrNotBackup
	ErrBackupTruncate = backup.ErrTruncated
	ErrBackupCorrupt  = backup.ErrCorrupt
	ErrBackupForeign  = backup.ErrForeign
	ErrBackupNoKey    = backup.ErrNoVerifierKey
)

// Backup writes a backup of the running vault to w. It is recorded first
// (backup.create), so the backup holds its own entry. p nil: the scheduler.
func (v *Vault) Backup(ctx context.Context, req Request, p *Principal, w io.Writer) (*Manifest, error) {
	actor := systemActor
	if p != nil {
		if p.Role != RoleProvider {
			return nil, v.deny(ctx, req, p, audit.BackupCreate, audit.Target{Kind: "vault"}, "only a provider takes backups")
		}
		actor = actorOf(p)
	}
	if err := v.record(ctx, req, event{actor: actor, action: audit.BackupCreate, target: audit.Target{Kind: "vault"}}); err != nil {
		return nil, err
	}
	return backup.Write(ctx, backup.Source{Store: v.store, Barrier: v.barrier, Now: v.now(), Facts: backupFacts}, w)
}

// backupFacts is what a backup's manifest says of the vault.
func backupFacts(tx barrier.Tx) ([]byte, uint32, note.Signer, error) {
	gen, err := recovery.Generation(tx)
	if err != nil {
		return nil, 0, nil, err
	}
	signer, err := recovery.AuditSigner(tx)
	return recovery.VaultID(tx), gen, signer, err
}

// BackupToDir writes a backup into dir atomically and prunes older ones.
// A backup that could not be written is recorded (backup.create with the
// outcome error and a fixed reason; the cause goes only to the caller),
// after the failure, in its own commit, so the notifiers tell the
// provider from the log.
func (v *Vault) BackupToDir(ctx context.Context, dir string, keep BackupRetention) (string, []string, error) {
	req := Request{ID: "scheduled-backup"}
	name, removed, err := backup.ToDir(dir, v.now(), keep, func(w io.Writer) error {
		_, err := v.Backup(ctx, req, nil, w)
		return err
	})
	if err != nil && name == "" && ctx.Err() == nil { // with a name it was written; only pruning failed
		ev := event{actor: systemActor, action: audit.BackupCreate, target: audit.Target{Kind: "vault"},
			outcome: audit.OutcomeError, reason: "the scheduled backup could not be written"}
		if rerr := v.record(ctx, req, ev); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return name, removed, err
}

// RecordBackupCopy records the off-site copy of the scheduled backup
// name (server --backup-copy) as backup.copy: ok, or, when why is not
// empty (a fixed sentence of the server's, never the command's output),
// error, which the notifiers tell the providers of.
func (v *Vault) RecordBackupCopy(ctx context.Context, name, why string) error {
	ev := event{actor: systemActor, action: audit.BackupCopy, target: audit.Target{Kind: "backup", Name: name},
		reason: "copied off site by the --backup-copy command"}
	if why != "" {
		ev.outcome, ev.reason = audit.OutcomeError, "the off-site copy failed: "+why
	}
	return v.record(ctx, Request{ID: "scheduled-backup"}, ev)
}

// NewestBackup is when the newest scheduled backup in dir was taken
// (false if none).
func NewestBackup(dir string) (time.Time, bool) { return backup.Newest(dir) }

// PruneBackups deletes the backups in dir that the retention does not keep.
func PruneBackups(dir string, keep BackupRetention) ([]string, error) { return backup.Prune(dir, keep) }

// CheckBackup checks a backup without restoring it (backup.CheckFile).
func CheckBackup(ctx context.Context, r io.Reader, opt BackupOptions) (*BackupCheck, error) {
	return backup.CheckFile(ctx, r, opt, openRestored)
}

// RestoreBackup writes a checked backup into a new data directory (which
// must not hold a database) and checks the restored copy there.
func RestoreBackup(ctx context.Context, r io.Reader, dir string, opt BackupOptions) (*BackupCheck, error) {
	return backup.Restore(ctx, r, dir, opt, openRestored, recordRestore)
}

// restored is a vault on a restored copy (backup.Restored).
type restored struct{ v *Vault }

func openRestored(dir string, kdf KDFParams) (backup.Restored, error) {
	st, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		return nil, err
	}
	return restored{New(Config{Store: st, KDF: kdf})}, nil
}

func (r restored) Stored(ctx context.Context) (id, key string, err error) {
	err = r.v.store.View(ctx, func(tx Tx) error {
		id, key = hex.EncodeToString(recovery.VaultID(tx)), string(tx.Get(bucketMeta, keyVerifier))
		return nil
	})
	return id, key, err
}

func (r restored) Store() storage.Store      { return r.v.store }
func (r restored) Log() *auditlog.Log        { return r.v.audit }
func (r restored) Barrier() *barrier.Barrier { return r.v.barrier }
func (r restored) Close() error              { return r.v.Close() }

func (r restored) Unseal(ctx context.Context, passphrase []byte, shares []string) (bool, error) {
	var err error
	if len(passphrase) > 0 {
		err = r.v.UnsealPassphrase(ctx, Request{ID: "backup-check"}, passphrase)
	}
	for _, s := range shares {
		if err != nil {
			break
		}
		_, err = r.v.UnsealShare(ctx, Request{ID: "backup-check"}, s)
	}
	return !r.v.Sealed(), err
}

// recordRestore writes a backup.restore entry into the restored vault's
// own log, so its history says it was brought back, from which backup.
func recordRestore(ctx context.Context, dir string, m Manifest) error {
	st, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		return err
	}
	v := New(Config{Store: st})
	defer v.Close()
	return st.Update(ctx, func(tx Tx) error {
		return v.appendAudit(tx, Request{ID: "restore"}, event{actor: audit.Actor{Name: "operator", Role: "offline"},
			action: audit.BackupRestore, target: audit.Target{Kind: "backup", Name: m.SHA256},
			reason: fmt.Sprintf("restored from the backup of %s (audit head seq %d) into a new data directory",
				m.Created.Format(time.RFC3339), m.HeadSeq)})
	})
}
