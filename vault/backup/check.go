package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// Check is what checking a backup found.
type Check struct {
	Manifest     Manifest `json:"manifest"`
	Users        int      `json:"users"`
	Credentials  int      `json:"credentials"`
	Versions     int      `json:"versions"`
	AuditEntries uint64   `json:"audit_entries"`
	Decrypted    bool     `json:"decrypted"`
}

// Options says how far to check a backup: with a passphrase (or
// shares) every record is decrypted.
type Options struct {
	Passphrase []byte
	Shares     []string
	// VerifierKey is the vault's audit verifier key as the operator holds it
	// (init's output, an envelope). It is required: the manifest must be
	// signed by it and the database must hold it, so a backup re-signed
	// with another key is refused (ErrNoVerifierKey when empty).
	VerifierKey string
	KDF         barrier.KDFParams
}

// Restored is a vault opened on a restored copy of a database, as a check
// needs it (the vault provides it: Opener).
type Restored interface {
	// Stored reads the vault's id (hex) and verifier key as stored.
	Stored(ctx context.Context) (vaultID, verifierKey string, err error)
	// Store, Log and Barrier are the restored vault's.
	Store() storage.Store
	Log() *auditlog.Log
	Barrier() *barrier.Barrier
	// Unseal opens it with the passphrase or the shares; false if the
	// shares given are fewer than its threshold.
	Unseal(ctx context.Context, passphrase []byte, shares []string) (bool, error)
	Close() error
}

// Opener opens a vault on the database in dir.
type Opener func(dir string, kdf barrier.KDFParams) (Restored, error)

// CheckFile checks a backup without restoring it: framing, checksum, the
// manifest's signature by the audit key, the manifest against the
// database, the audit chain and stored checkpoints, and, given the
// passphrase or shares, that it unseals and every record decrypts.
func CheckFile(ctx context.Context, r io.Reader, opt Options, open Opener) (*Check, error) {
	b, err := Parse(r)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "strongroom-check-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "strongroom.db"), b.DB, 0o600); err != nil {
		return nil, err
	}
	return checkRestored(ctx, dir, b, opt, open)
}

func checkRestored(ctx context.Context, dir string, b *Parsed, opt Options, open Opener) (res *Check, err error) {
	// The manifest's signature is checked with the operator's key before
	// the database is opened at all.
	if err := checkManifestKey(b, opt.VerifierKey); err != nil {
		return nil, err
	}
	// bbolt panics on a damaged page instead of returning an error: a
	// damaged backup must be refused, not crash the checker.
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%w: the database is damaged (%v)", ErrCorrupt, r)
		}
	}()
	v, err := open(dir, opt.KDF)
	if err != nil {
		return nil, fmt.Errorf("%w: the database does not open: %v", ErrCorrupt, err)
	}
	defer v.Close()
	res = &Check{Manifest: b.Manifest}
	id, key, err := v.Stored(ctx)
	if err != nil {
		return nil, err
	}
	if id != b.Manifest.VaultID {
		return nil, fmt.Errorf("%w: the manifest names vault %s but the database is vault %s", ErrCorrupt, b.Manifest.VaultID, id)
	}
	var seq uint64
	var hash string
	if err := v.Store().View(ctx, func(tx storage.Tx) error { seq, hash = auditlog.Head(tx); return nil }); err != nil {
		return nil, err
	}
	if seq != b.Manifest.HeadSeq || hash != b.Manifest.HeadHash {
		return nil, fmt.Errorf("%w: the audit head differs from the manifest's", ErrCorrupt)
	}
	vr, err := v.Log().VerifyStored(ctx)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(opt.VerifierKey) != key {
		return nil, fmt.Errorf("%w: it is vault %s (its verifier key is %s)", ErrForeign, b.Manifest.VaultID, key)
	}
	verifier, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("%w: no audit verifier key inside", ErrCorrupt)
	}
	if _, err := note.Open(b.Signed, note.VerifierList(verifier)); err != nil {
		return nil, fmt.Errorf("%w: the manifest is not signed by this vault's audit key", ErrCorrupt)
	}
	if !vr.OK {
		return nil, fmt.Errorf("%w: the audit log fails verification at seq %d (%s)", ErrCorrupt, vr.BadSeq, vr.Problem)
	}
	res.AuditEntries = vr.Checked
	if len(opt.Passphrase) == 0 && len(opt.Shares) == 0 {
		return res, nil
	}
	opened, err := v.Unseal(ctx, opt.Passphrase, opt.Shares)
	if err != nil {
		return nil, err
	}
	if !opened {
		return nil, access.Invalid("", "not enough shares to open the backup")
	}
	err = decryptAll(ctx, v.Barrier(), res)
	res.Decrypted = err == nil
	return res, err
}

// checkManifestKey checks that a verifier key is given and that the
// manifest is signed by it.
func checkManifestKey(b *Parsed, verifierKey string) error {
	if strings.TrimSpace(verifierKey) == "" {
		return ErrNoVerifierKey
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return access.Invalid("verifier_key", "the verifier key is not a note verifier key")
	}
	if _, err := note.Open(b.Signed, note.VerifierList(verifier)); err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return fmt.Errorf("%w: vault %s, not the one this key belongs to", ErrForeign, b.Manifest.VaultID)
		}
		return fmt.Errorf("%w: the manifest's signature does not verify (edited)", ErrCorrupt)
	}
	return nil
}

// decryptAll opens every sealed record of the unsealed backup, counting
// accounts, credentials and versions into res.
func decryptAll(ctx context.Context, b *barrier.Barrier, res *Check) error {
	return b.View(ctx, func(tx barrier.Tx) error {
		for _, bucket := range []string{storage.BucketUsers, storage.BucketCredentials, storage.BucketSessions,
			storage.BucketRequests, storage.BucketGrants} {
			err := tx.Scan(bucket, nil, func(k, val []byte) (bool, error) {
				pt, err := tx.Open(bucket+"/"+string(k), val)
				if err != nil {
					return false, err
				}
				barrier.Wipe(pt)
				switch {
				case bucket == storage.BucketUsers:
					res.Users++
				case bucket == storage.BucketCredentials && strings.HasSuffix(string(k), "/head"):
					res.Credentials++
				case bucket == storage.BucketCredentials:
					res.Versions++
				}
				return true, nil
			})
			if err != nil {
				return fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
		}
		return nil
	})
}

// Restore writes a checked backup into a new data directory (which must
// not hold a database), checks the restored copy there, and records the
// restore in its log (record).
func Restore(ctx context.Context, r io.Reader, dir string, opt Options, open Opener, record func(ctx context.Context, dir string, m Manifest) error) (*Check, error) {
	b, err := Parse(r)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "strongroom.db")
	if _, err := os.Stat(path); err == nil {
		return nil, access.Invalid("", "%s already holds a vault; restore into a new, empty data directory", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := writeSynced(path, b.DB); err != nil {
		return nil, err
	}
	res, err := checkRestored(ctx, dir, b, opt, open)
	if err == nil {
		err = record(ctx, dir, b.Manifest)
	}
	if err != nil {
		os.Remove(path) // a restore that does not check out leaves nothing behind
		return nil, err
	}
	return res, nil
}

// writeSynced creates path (which must not exist) with data, synced.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
