package recovery

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// firstStateSeal ends the reason of the unseal that sealed the state of a
// vault made before the state seal existed; an unseal that finds it in the
// log knows the vault had a seal, so a keyring without a state key is a
// copy put back from before it.
const firstStateSeal = "first state seal: the database was taken as it is now"

// ErrNoStateSeal refuses to unseal a vault without a state seal unless the
// operator says this is the first unseal after upgrading: the database
// alone cannot tell a vault made before the seal from one whose keyring
// was put back to a copy from before its seal.
var ErrNoStateSeal = errors.New("vault: this vault has no state seal: it was made by a release before the state seal, " +
	"or its keyring was put back to a copy from before it. If it was just upgraded, start the server once with " +
	"--first-state-seal and unseal; otherwise restore the latest backup")

// stateUpgrade is the keyring a vault made before the state seal gets at
// its first unseal: the old one with a state key (term 0) added.
type stateUpgrade struct {
	oldBlob, newBlob []byte
}

// unsealing is the keyring an unseal installs, and the upgrade to store
// with it if the stored keyring had no state key.
type unsealing struct {
	ks *barrier.Keyring
	up *stateUpgrade
}

// stateKeyring makes the keyring the unseal installs, adding a state key
// (and the upgrade to store) if the stored keyring has none.
func stateKeyring(active uint32, keys map[uint32][]byte, root, blob []byte) (unsealing, error) {
	if _, ok := keys[0]; ok {
		return unsealing{ks: barrier.NewKeyring(active, keys, root)}, nil
	}
	stateKey := make([]byte, 32)
	defer barrier.Wipe(stateKey)
	if _, err := rand.Read(stateKey); err != nil {
		return unsealing{}, err
	}
	with := map[uint32][]byte{0: stateKey}
	for t, k := range keys {
		with[t] = k
	}
	plain := barrier.EncodeKeyring(active, with)
	defer barrier.Wipe(plain)
	sealed, err := barrier.SealRecord(root, 0, pathKeyring, plain)
	if err != nil {
		return unsealing{}, err
	}
	return unsealing{ks: barrier.NewKeyring(active, with, root), up: &stateUpgrade{oldBlob: blob, newBlob: sealed}}, nil
}

// checkState is the unseal's state check, in its own write: the records
// must be exactly those the vault last wrote (barrier.CheckState); a vault
// from before the state seal gets its first one here, unless its log
// shows that it had one (then its keyring was put back from before).
func (u unsealing) checkState(tx storage.Tx, allowFirst bool) error {
	up := u.up
	if up == nil {
		if err := barrier.CheckState(tx, u.ks); err != nil {
			return err
		}
		if err := auditlog.CheckStored(tx); err != nil { // the seal pins the log's hash: every entry must chain to it
			return &barrier.RollbackError{Bucket: storage.BucketAudit, What: err.Error()}
		}
		barrier.UseState(tx, u.ks)
		return nil
	}
	if !tx.Expect(storage.BucketKeyring, keyKeyring, up.oldBlob) {
		return fmt.Errorf("%w: the keyring changed while unsealing; unseal again", access.ErrConflict)
	}
	if tx.Peek(storage.BucketMeta, []byte(barrier.KeyState)) != nil || hadStateSeal(tx) {
		return &barrier.RollbackError{Bucket: storage.BucketKeyring,
			What: "the keyring was put back to a copy from before the vault's state seal"}
	}
	if !allowFirst {
		return ErrNoStateSeal
	}
	if err := auditlog.CheckStored(tx); err != nil { // the log at least must be whole
		return &barrier.RollbackError{Bucket: storage.BucketAudit, What: err.Error()}
	}
	if err := tx.Put(storage.BucketKeyring, keyKeyring, up.newBlob); err != nil {
		return err
	}
	barrier.ResealState(tx, u.ks)
	return nil
}

// hadStateSeal says the log records a first state seal.
func hadStateSeal(tx storage.Tx) bool {
	found := false
	_ = tx.ScanBack(storage.BucketAudit, nil, func(_, line []byte) (bool, error) {
		if bytes.Contains(line, []byte(firstStateSeal)) {
			if e, err := audit.ParseLine(line); err == nil && e.Action == audit.SysUnseal && bytes.HasSuffix([]byte(e.Reason), []byte(firstStateSeal)) {
				found = true
				return false, nil
			}
		}
		return true, nil
	})
	return found
}

// refuseState records an unseal refused by the state check (an incident:
// outcome denied) and returns its error, which stays ErrRolledBack even if
// the log cannot take the entry.
func (sl *Seal) refuseState(ctx context.Context, req auditlog.Request, ev auditlog.Event, err error) error {
	if sl.logger != nil {
		sl.logger.Error("unseal refused: the database was changed outside the vault", "err", err)
	}
	if rerr := sl.log.Record(ctx, req, auditlog.Event{Actor: ev.Actor, Action: audit.SysUnseal, Target: ev.Target,
		Outcome: audit.OutcomeDenied, Reason: audit.StateCheckFailed + err.Error()}); rerr != nil {
		return fmt.Errorf("%w (the refusal could not be recorded in the log: %v)", err, rerr)
	}
	return err
}

// CheckRunning checks, while unsealed, that the database is still exactly
// what the vault wrote (the unseal's checks, in one read transaction). If
// it is not, it records the incident and seals the vault, so nothing more
// is served from it or written upon it. The server runs it hourly.
func (sl *Seal) CheckRunning(ctx context.Context) error {
	// A re-key or rewrap in progress changes the state key and the keyring
	// under the check: skip this round rather than check a new seal with
	// an old key (the next round runs after it).
	if !sl.rekeyMu.TryLock() {
		return nil
	}
	defer sl.rekeyMu.Unlock()
	err := sl.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			if err := h.CheckState(tx); err != nil {
				return err
			}
			if err := auditlog.CheckStored(tx); err != nil {
				return &barrier.RollbackError{Bucket: storage.BucketAudit, What: err.Error()}
			}
			return nil
		})
	})
	if !errors.Is(err, barrier.ErrRolledBack) {
		return err
	}
	return sl.sealTampered(ctx, err)
}

// sealTampered records that a check while unsealed found the database
// changed outside the vault (an incident), and seals.
func (sl *Seal) sealTampered(ctx context.Context, err error) error {
	if sl.logger != nil {
		sl.logger.Error("the database was changed outside the vault: sealing", "err", err)
	}
	rerr := sl.log.Record(ctx, auditlog.Request{ID: "state-check"}, auditlog.Event{Actor: auditlog.System, Action: audit.SysSeal,
		Target: audit.Target{Kind: "vault"}, Outcome: audit.OutcomeError, Reason: audit.StateCheckFailed + err.Error() + "; the vault sealed itself"})
	sl.DropKeys()
	if rerr != nil {
		return fmt.Errorf("%w (the incident could not be recorded in the log: %v)", err, rerr)
	}
	return err
}
