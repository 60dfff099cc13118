package recovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// auditRekey is the audit signing key a re-key makes (SECURITY.md "Key
// transitions"): sealed under the re-key's new data key term, so old
// envelopes with any copy of the database cannot open it, and bound into
// the log by a key transition that the old and the new key both sign.
type auditRekey struct {
	old        note.Signer
	oldBlob    []byte // the sealed old key, as read: the write's guard
	oldVerif   []byte
	skey       string // the new signer key (secret)
	vkey       string // the new verifier key: the envelopes print it
	ring       *barrier.Keyring
	origin     string
	now        time.Time
	newSigner  note.Signer
	transition []byte
}

// newAuditKey makes the new audit key for the re-key next (sealed under
// its new keyring), reading the old key through the keys held, and puts
// the new verifier key on next's envelopes.
func (sl *Seal) newAuditKey(ctx context.Context, b *rekeyBase, next *rekeyNext) (*auditRekey, error) {
	a := &auditRekey{oldVerif: b.verif, origin: audit.OriginPrefix + hex.EncodeToString(b.vaultID), now: sl.now()}
	err := sl.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) (err error) {
			a.oldBlob = append([]byte(nil), tx.Get(storage.BucketKeyring, []byte(keyAuditSigner))...)
			a.old, err = AuditSigner(tx)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if a.skey, a.vkey, err = note.GenerateKey(rand.Reader, a.old.Name()); err != nil {
		return nil, fmt.Errorf("vault: audit key: %w", err)
	}
	if a.newSigner, err = note.NewSigner(a.skey); err != nil {
		return nil, err
	}
	for _, e := range next.res.Envelopes {
		e.VerifierKey = a.vkey
	}
	active, keys, err := barrier.DecodeKeyring(next.ringPlain)
	if err != nil {
		return nil, err
	}
	a.ring = barrier.NewKeyring(active, keys, nil) // keys alias ringPlain, which Rekey wipes
	return a, nil
}

// write stores the new key in the re-key's transaction, after its
// escrow.rekey entry: the new signer sealed under the new term, the new
// verifier key, and the transition from the seq of that entry. It checks
// that the old key is still the one read.
func (a *auditRekey) write(tx storage.Tx) error {
	if !tx.Expect(storage.BucketKeyring, []byte(keyAuditSigner), a.oldBlob) || !tx.Expect(storage.BucketMeta, auditlog.KeyVerifier, a.oldVerif) {
		return fmt.Errorf("%w: the audit signing key changed while re-keying", access.ErrConflict)
	}
	seq, head := auditlog.Head(tx)
	k := &audit.KeyTransition{Origin: a.origin, Seq: seq, Head: head, Old: string(a.oldVerif), New: a.vkey, Time: a.now.UTC().Truncate(time.Second)}
	signed, err := audit.SignTransition(k, a.old, a.newSigner)
	if err != nil {
		return err
	}
	if err := barrier.Through(tx, a.ring).PutRecord(storage.BucketKeyring, keyAuditSigner, a.skey); err != nil {
		return err
	}
	if err := tx.Put(storage.BucketMeta, auditlog.KeyVerifier, []byte(a.vkey)); err != nil {
		return err
	}
	a.transition = signed
	return auditlog.PutTransition(tx, seq, signed)
}
