package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// Source is the running vault as a backup reads it.
type Source struct {
	Store   storage.Store
	Barrier *barrier.Barrier
	Now     time.Time
	// Facts reads, in the snapshot's transaction, the vault's id, the
	// envelopes' generation and the audit signing key.
	Facts func(tx barrier.Tx) (vaultID []byte, generation uint32, signer note.Signer, err error)
}

// Write writes a backup of src to w: a consistent snapshot, its manifest
// signed with the audit key. The caller has checked and recorded it.
func Write(ctx context.Context, src Source, w io.Writer) (*Manifest, error) {
	tmp, err := os.CreateTemp("", "strongroom-backup-*")
	if err != nil {
		return nil, fmt.Errorf("vault: backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	m := &Manifest{Created: src.Now.Truncate(time.Second)}
	sum := sha256.New()
	var signed []byte
	err = src.Barrier.Hold(func(h *barrier.Held) error {
		var signer note.Signer
		m.Size, err = src.Store.Snapshot(ctx, io.MultiWriter(tmp, sum), func(stx storage.Tx) (err error) {
			tx := h.Bind(stx)
			var id []byte
			id, m.Generation, signer, err = src.Facts(tx)
			m.VaultID = hex.EncodeToString(id)
			m.HeadSeq, m.HeadHash = auditlog.Head(tx)
			return err
		})
		if err != nil {
			return err
		}
		m.SHA256 = hex.EncodeToString(sum.Sum(nil))
		signed, err = Sign(m, signer)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vault: backup: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := WriteFrame(w, signed, tmp); err != nil {
		return nil, err
	}
	return m, nil
}
