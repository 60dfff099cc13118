package recovery

import (
	"context"
	"errors"
	"fmt"

	"strongroom/audit"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
)

// AutoUnsealer keeps a copy of the passphrase-derived key-encryption key
// (KEK) where only this machine can read it back (server --auto-unseal
// tpm: sealed to the TPM). Store is given a copy it may keep only in that
// form and must not retain; Load returns a fresh copy the vault wipes.
// Forget drops the kept copy (a person sealed the vault).
type AutoUnsealer interface {
	Store(kek []byte) error
	Load() ([]byte, error)
	Forget() error
}

// Errors of AutoUnseal.
var (
	// ErrNoAutoUnseal: the vault has no auto-unsealer configured.
	ErrNoAutoUnseal = errors.New("vault: auto-unseal is not configured")
	// ErrAutoUnsealRefused: the auto-unsealer did not give the key back
	// (for the TPM: a bound PCR changed, another machine, no TPM).
	ErrAutoUnsealRefused = errors.New("vault: auto-unseal refused: this machine's TPM did not release its copy of the key")
	// ErrAutoUnsealStale: the kept copy no longer opens the vault (the
	// passphrase was changed or the vault re-keyed since it was made).
	ErrAutoUnsealStale = errors.New("vault: auto-unseal refused: the TPM's copy of the key no longer opens the vault (the passphrase was changed or the vault re-keyed); unseal with the passphrase once to renew it")
)

const (
	reasonAuto        = "auto-unseal: this machine's TPM"
	reasonAutoStale   = "auto-unseal refused: the TPM's copy no longer opens the vault (passphrase changed or re-keyed); unseal with the passphrase once to renew it"
	reasonAutoRefused = "auto-unseal refused: this machine's TPM did not release its copy"
)

var autoActor = audit.Actor{Name: "tpm", Role: "system"}

// AutoUnseal opens the vault with the KEK the auto-unsealer kept, exactly
// as the passphrase does from the KEK on (the state seal is checked, the
// unseal recorded as sys.unseal with reason "auto-unseal: this machine's
// TPM"). A refusal is recorded too, as a denied sys.unseal, and the vault
// stays sealed. An open vault is left as it is.
func (sl *Seal) AutoUnseal(ctx context.Context, req auditlog.Request) error {
	if sl.auto == nil {
		return ErrNoAutoUnseal
	}
	kdf, rootWrap, err := sl.readRootWrap(ctx)
	if err != nil || !sl.Sealed() {
		return err
	}
	if err := kdf.Check(); err != nil {
		return err
	}
	ev := auditlog.Event{Actor: autoActor, Action: audit.SysUnseal, Target: audit.Target{Kind: "vault"}, Reason: reasonAuto}
	kek, err := sl.auto.Load()
	if err != nil {
		denied := ev
		denied.Outcome, denied.Reason = audit.OutcomeDenied, reasonAutoRefused+": "+err.Error()
		if rerr := sl.log.Record(ctx, req, denied); rerr != nil {
			return rerr
		}
		return fmt.Errorf("%w: %w", ErrAutoUnsealRefused, err)
	}
	defer barrier.Wipe(kek)
	return sl.unsealWithKEK(ctx, req, kek, rootWrap, ev, reasonAutoStale, ErrAutoUnsealStale)
}

// keepKEK gives the auto-unsealer, if any, a copy of a KEK that has just
// opened the vault. A failure leaves the vault open (the unseal is done
// and on record) and is logged: the next restart then needs the
// passphrase.
func (sl *Seal) keepKEK(kek []byte) {
	if sl.auto == nil {
		return
	}
	cp := append([]byte(nil), kek...)
	defer barrier.Wipe(cp)
	if err := sl.auto.Store(cp); err != nil {
		sl.logger.Warn("auto-unseal: could not keep the key in this machine's TPM; the next restart needs the passphrase", "err", err)
		return
	}
	sl.logger.Info("auto-unseal: the key is sealed to this machine's TPM; the vault will reopen by itself after a restart")
}

// forgetKEK drops the auto-unsealer's copy when a person seals: a seal
// on purpose (the host may be compromised) must not be undone by the
// next restart. It says so for the seal's entry ("" without one).
func (sl *Seal) forgetKEK() string {
	if sl.auto == nil {
		return ""
	}
	if err := sl.auto.Forget(); err != nil {
		sl.logger.Error("auto-unseal: could not remove the TPM's copy of the key at a seal", "err", err)
		return "; the TPM's copy of the key could not be removed (see the server's log)"
	}
	return "; the TPM's copy of the key removed: the next unseal needs the passphrase or the envelopes"
}
