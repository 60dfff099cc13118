package recovery

import (
	"context"
	"encoding/hex"
	"strings"
	"time"

	"strongroom/vault/auditlog"
	"strongroom/vault/storage"
)

// Status is the public state of the vault.
type Status struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Progress    int    `json:"progress"`
	Threshold   int    `json:"threshold"`
	Shares      int    `json:"shares"`
	Generation  uint32 `json:"generation"`
	VaultID     string `json:"vault_id,omitempty"`
	Council     string `json:"council,omitempty"`
	VerifierKey string `json:"verifier_key,omitempty"`
	// VerifierKeySource says where VerifierKey comes from and how far to
	// trust it: the envelopes print the key an auditor trusts.
	VerifierKeySource string `json:"verifier_key_source,omitempty"`
	// Recovery is set while the vault is in emergency recovery.
	Recovery *RecoveryStatus `json:"recovery,omitempty"`
}

// RecoveryStatus tells everyone why routine changes are refused.
type RecoveryStatus struct {
	Since   time.Time `json:"since"`
	Holders []string  `json:"holders"`
	Message string    `json:"message"`
}

// Status reports the seal state. It needs no authentication.
func (sl *Seal) Status(ctx context.Context) (Status, error) {
	var st Status
	err := sl.store.View(ctx, func(tx storage.Tx) error {
		id := tx.Get(storage.BucketMeta, keyVaultID)
		if id == nil {
			return nil
		}
		st.Initialized, st.VaultID = true, hex.EncodeToString(id)
		st.Council = string(tx.Get(storage.BucketMeta, keyCouncil))
		st.VerifierKey = string(tx.Get(storage.BucketMeta, auditlog.KeyVerifier))
		es, err := loadEscrow(tx)
		if err != nil {
			return err
		}
		st.Threshold, st.Shares, st.Generation = es.Threshold, len(es.Shares), es.Generation
		rec, err := loadRecovery(tx)
		if rec != nil {
			st.Recovery = &RecoveryStatus{Since: rec.Since, Holders: rec.Holders,
				Message: strings.TrimPrefix((&RecoveryError{Since: rec.Since, Holders: rec.Holders}).Error(), "vault: ")}
		}
		return err
	})
	st.Sealed = sl.barrier.Sealed()
	if st.Initialized {
		st.VerifierKeySource = VerifierUnchecked
		sl.mu.Lock()
		if checked := sl.verifier; !st.Sealed && checked != "" {
			st.VerifierKey, st.VerifierKeySource = checked, VerifierChecked
		}
		sl.mu.Unlock()
	}
	sl.mu.Lock()
	if sl.pending != nil {
		st.Progress = len(sl.pending.shares)
	}
	sl.mu.Unlock()
	return st, err
}

// Where the status's verifier key comes from.
const (
	VerifierUnchecked = "the database, not checked: the vault is sealed, so anyone who can write to its files could have changed it; trust only the key printed on the envelopes"
	VerifierChecked   = "the database as checked against the vault's state seal when it was last unsealed; the key printed on the envelopes is the one to trust"
)
