package vault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
	"strongroom/vault/barrier"
)

// Backup format v1 (SECURITY.md "Backups"):
//
//	"STRONGROOM BACKUP 1\n"
//	<length of the signed manifest, decimal>\n
//	<signed manifest: a sumdb/note whose text is one JSON line, signed with the audit key>
//	<the database: a bbolt snapshot of exactly manifest.size bytes>
//
// The database is a consistent snapshot (bbolt Tx.WriteTo) and is encrypted
// as the live database is: every record sealed, only the audit log and seal
// metadata in the clear. The manifest carries the vault ID, the time, the
// audit head at the snapshot, the size and the SHA-256 of the database.
const backupMagic = "STRONGROOM BACKUP 1\n"

// Manifest describes a backup.
type Manifest struct {
	VaultID    string    `json:"vault_id"`
	Created    time.Time `json:"created"`
	HeadSeq    uint64    `json:"audit_head_seq"`
	HeadHash   string    `json:"audit_head_hash"`
	Generation uint32    `json:"escrow_generation"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
}

// Errors a backup is refused with.
var (
	ErrNotBackup      = errors.New("vault: not a Strongroom backup")
	ErrBackupTruncate = errors.New("vault: backup is truncated")
	ErrBackupCorrupt  = errors.New("vault: backup is corrupt")
	ErrBackupForeign  = errors.New("vault: backup belongs to another vault")
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
	tmp, err := os.CreateTemp("", "strongroom-backup-*")
	if err != nil {
		return nil, fmt.Errorf("vault: backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	m := &Manifest{Created: v.now().Truncate(time.Second)}
	sum := sha256.New()
	var signed []byte
	err = v.barrier.Hold(func(h *barrier.Held) error {
		var signer note.Signer
		m.Size, err = v.store.Snapshot(ctx, io.MultiWriter(tmp, sum), func(stx Tx) (err error) {
			tx := h.Bind(stx)
			m.VaultID = hex.EncodeToString(tx.Get(bucketMeta, keyVaultID))
			m.HeadSeq, m.HeadHash = auditHead(tx)
			es, err := loadEscrow(tx)
			if err != nil {
				return err
			}
			m.Generation = es.Generation
			signer, err = auditSigner(tx)
			return err
		})
		if err != nil {
			return err
		}
		m.SHA256 = hex.EncodeToString(sum.Sum(nil))
		signed, err = signManifest(m, signer)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vault: backup: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := writeBackupFrame(w, signed, tmp); err != nil {
		return nil, err
	}
	return m, nil
}

// signManifest signs the manifest as a note whose text is its JSON and a
// newline.
func signManifest(m *Manifest, signer note.Signer) ([]byte, error) {
	text, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(text) + "\n"}, signer)
}

// writeBackupFrame writes the backup file: header, manifest length, the
// signed manifest, then the database.
func writeBackupFrame(w io.Writer, signed []byte, db io.Reader) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s%d\n", backupMagic, len(signed))
	bw.Write(signed)
	if _, err := io.Copy(bw, db); err != nil {
		return err
	}
	return bw.Flush()
}

// parsedBackup is a backup whose framing and checksum are sound.
type parsedBackup struct {
	Manifest Manifest
	signed   []byte
	db       []byte
}

// maxBackup bounds what is read into memory (a council's vault is small).
const maxBackup = 4 << 30

func parseBackup(r io.Reader) (*parsedBackup, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != backupMagic {
		return nil, fmt.Errorf("%w (no STRONGROOM BACKUP 1 header)", ErrNotBackup)
	}
	line, err := br.ReadString('\n')
	n, perr := strconv.Atoi(strings.TrimSuffix(line, "\n"))
	if err != nil || perr != nil || n <= 0 || n > 64<<10 {
		return nil, fmt.Errorf("%w: the manifest length is unreadable", ErrBackupCorrupt)
	}
	signed := make([]byte, n)
	if _, err := io.ReadFull(br, signed); err != nil {
		return nil, fmt.Errorf("%w: it ends inside the manifest", ErrBackupTruncate)
	}
	text, _, ok := bytes.Cut(signed, []byte("\n\n"))
	var m Manifest
	if !ok || json.Unmarshal(text, &m) != nil || m.Size <= 0 || m.Size > maxBackup {
		return nil, fmt.Errorf("%w: the manifest is unreadable", ErrBackupCorrupt)
	}
	db := make([]byte, m.Size)
	got, err := io.ReadFull(br, db)
	if err != nil {
		return nil, fmt.Errorf("%w: the manifest says %d bytes of database but the file holds %d", ErrBackupTruncate, m.Size, got)
	}
	if extra, _ := br.Peek(1); len(extra) > 0 {
		return nil, fmt.Errorf("%w: data after the end of the database", ErrBackupCorrupt)
	}
	sum := sha256.Sum256(db)
	if hex.EncodeToString(sum[:]) != m.SHA256 {
		return nil, fmt.Errorf("%w: the database's SHA-256 does not match the manifest (a changed or damaged byte)", ErrBackupCorrupt)
	}
	return &parsedBackup{Manifest: m, signed: signed, db: db}, nil
}

// BackupCheck is what checking a backup found.
type BackupCheck struct {
	Manifest     Manifest `json:"manifest"`
	Users        int      `json:"users"`
	Credentials  int      `json:"credentials"`
	Versions     int      `json:"versions"`
	AuditEntries uint64   `json:"audit_entries"`
	Decrypted    bool     `json:"decrypted"`
}

// BackupOptions says how far to check a backup: with a passphrase (or
// shares) every record is decrypted; with a verifier key the backup must be
// this vault's.
type BackupOptions struct {
	Passphrase  []byte
	Shares      []string
	VerifierKey string
	KDF         KDFParams
}

// CheckBackup checks a backup without restoring it: framing, checksum, the
// manifest's signature by the audit key, the manifest against the
// database, the audit chain and stored checkpoints, and, given the
// passphrase or shares, that it unseals and every record decrypts.
func CheckBackup(ctx context.Context, r io.Reader, opt BackupOptions) (*BackupCheck, error) {
	b, err := parseBackup(r)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "strongroom-check-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "strongroom.db"), b.db, 0o600); err != nil {
		return nil, err
	}
	return checkRestored(ctx, dir, b, opt)
}

func checkRestored(ctx context.Context, dir string, b *parsedBackup, opt BackupOptions) (res *BackupCheck, err error) {
	// With the vault's key, the manifest's signature is checked before the
	// database is opened at all.
	if err := checkManifestKey(b, opt.VerifierKey); err != nil {
		return nil, err
	}
	// bbolt panics on a damaged page instead of returning an error: a
	// damaged backup must be refused, not crash the checker.
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%w: the database is damaged (%v)", ErrBackupCorrupt, r)
		}
	}()
	st, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: the database does not open: %v", ErrBackupCorrupt, err)
	}
	v := New(Config{Store: st, KDF: opt.KDF})
	defer v.Close()
	res = &BackupCheck{Manifest: b.Manifest}
	var key string
	var vr VerifyResult
	err = st.View(ctx, func(tx Tx) error {
		key = string(tx.Get(bucketMeta, keyVerifier))
		if id := hex.EncodeToString(tx.Get(bucketMeta, keyVaultID)); id != b.Manifest.VaultID {
			return fmt.Errorf("%w: the manifest names vault %s but the database is vault %s", ErrBackupCorrupt, b.Manifest.VaultID, id)
		}
		if seq, hash := auditHead(tx); seq != b.Manifest.HeadSeq || hash != b.Manifest.HeadHash {
			return fmt.Errorf("%w: the audit head differs from the manifest's", ErrBackupCorrupt)
		}
		return nil
	})
	if err == nil {
		vr, err = v.audit.VerifyStored(ctx)
	}
	if err != nil {
		return nil, err
	}
	if opt.VerifierKey != "" && strings.TrimSpace(opt.VerifierKey) != key {
		return nil, fmt.Errorf("%w: it is vault %s (its verifier key is %s)", ErrBackupForeign, b.Manifest.VaultID, key)
	}
	verifier, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("%w: no audit verifier key inside", ErrBackupCorrupt)
	}
	if _, err := note.Open(b.signed, note.VerifierList(verifier)); err != nil {
		return nil, fmt.Errorf("%w: the manifest is not signed by this vault's audit key", ErrBackupCorrupt)
	}
	if !vr.OK {
		return nil, fmt.Errorf("%w: the audit log fails verification at seq %d (%s)", ErrBackupCorrupt, vr.BadSeq, vr.Problem)
	}
	res.AuditEntries = vr.Checked
	if len(opt.Passphrase) == 0 && len(opt.Shares) == 0 {
		return res, nil
	}
	if len(opt.Passphrase) > 0 {
		err = v.UnsealPassphrase(ctx, Request{ID: "backup-check"}, opt.Passphrase)
	}
	for _, s := range opt.Shares {
		if err != nil {
			break
		}
		_, err = v.UnsealShare(ctx, Request{ID: "backup-check"}, s)
	}
	if err != nil {
		return nil, err
	}
	if v.Sealed() {
		return nil, invalid("not enough shares to open the backup")
	}
	err = decryptAll(ctx, v, res)
	res.Decrypted = err == nil
	return res, err
}

// checkManifestKey checks, if a verifier key is given, that the manifest is
// signed by it.
func checkManifestKey(b *parsedBackup, verifierKey string) error {
	if verifierKey == "" {
		return nil
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return invalidField("verifier_key", "the verifier key is not a note verifier key")
	}
	if _, err := note.Open(b.signed, note.VerifierList(verifier)); err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return fmt.Errorf("%w: vault %s, not the one this key belongs to", ErrBackupForeign, b.Manifest.VaultID)
		}
		return fmt.Errorf("%w: the manifest's signature does not verify (edited)", ErrBackupCorrupt)
	}
	return nil
}

// decryptAll opens every sealed record of the unsealed backup v, counting
// accounts, credentials and versions into res.
func decryptAll(ctx context.Context, v *Vault, res *BackupCheck) error {
	return v.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			for _, bucket := range []string{bucketUsers, bucketCredentials, bucketSessions, bucketRequests, bucketGrants} {
				err := tx.Scan(bucket, nil, func(k, val []byte) (bool, error) {
					pt, err := tx.Open(bucket+"/"+string(k), val)
					if err != nil {
						return false, err
					}
					wipe(pt)
					switch {
					case bucket == bucketUsers:
						res.Users++
					case bucket == bucketCredentials && strings.HasSuffix(string(k), "/head"):
						res.Credentials++
					case bucket == bucketCredentials:
						res.Versions++
					}
					return true, nil
				})
				if err != nil {
					return fmt.Errorf("%w: %v", ErrBackupCorrupt, err)
				}
			}
			return nil
		})
	})
}

// RestoreBackup writes a checked backup into a new data directory (which
// must not hold a database) and checks the restored copy there.
func RestoreBackup(ctx context.Context, r io.Reader, dir string, opt BackupOptions) (*BackupCheck, error) {
	b, err := parseBackup(r)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "strongroom.db")
	if _, err := os.Stat(path); err == nil {
		return nil, invalid("%s already holds a vault; restore into a new, empty data directory", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b.db); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	res, err := checkRestored(ctx, dir, b, opt)
	if err == nil {
		err = recordRestore(ctx, dir, b.Manifest)
	}
	if err != nil {
		os.Remove(path) // a restore that does not check out leaves nothing behind
		return nil, err
	}
	return res, nil
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
