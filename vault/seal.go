package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"strongroom/vault/barrier"
	"strongroom/vault/identity"

	"github.com/awnumar/memguard"
	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
	"strongroom/escrow"
)

var (
	keyVaultID     = []byte("vault_id")
	keyCouncil     = []byte("council")
	keyKDF         = []byte("kdf")
	keyRootWrap    = []byte("root.passphrase")
	keyEscrow      = []byte("escrow")
	keyKeyring     = []byte("keyring")
	keyAuditSigner = "audit.signer"
)

const pathRootWrap = "meta/root.passphrase"
const pathKeyring = "keyring/keyring"

// escrowState is the public record of the current envelopes (meta/escrow).
type escrowState struct {
	Generation uint32        `json:"generation"`
	Threshold  int           `json:"threshold"`
	Issued     time.Time     `json:"issued"`
	Shares     []shareCommit `json:"shares"`
	// Superseded maps an old generation to when it stopped being valid.
	Superseded map[string]time.Time `json:"superseded,omitempty"`
}

type shareCommit struct {
	Index      uint8  `json:"index"`
	Holder     string `json:"holder"`
	Commitment string `json:"commitment"` // hex SHA-256, see escrow.Share.Commitment
}

// InitRequest asks for a new vault.
type InitRequest struct {
	Council    string
	Shares     int
	Threshold  int
	Holders    []string
	Admin      string
	Passphrase []byte
}

// OneTimeLogin is a new account's first password and TOTP enrolment
// (identity.OneTimeLogin).
type OneTimeLogin = identity.OneTimeLogin

// InitResult is what init returns exactly once.
type InitResult struct {
	VaultID     string
	VerifierKey string
	Admin       OneTimeLogin
	Envelopes   []*escrow.Envelope
}

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
func (v *Vault) Status(ctx context.Context) (Status, error) {
	var st Status
	err := v.store.View(ctx, func(tx Tx) error {
		id := tx.Get(bucketMeta, keyVaultID)
		if id == nil {
			return nil
		}
		st.Initialized, st.VaultID = true, hex.EncodeToString(id)
		st.Council = string(tx.Get(bucketMeta, keyCouncil))
		st.VerifierKey = string(tx.Get(bucketMeta, keyVerifier))
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
	st.Sealed = v.barrier.Sealed()
	v.mu.Lock()
	if v.pending != nil {
		st.Progress = len(v.pending.shares)
	}
	v.mu.Unlock()
	return st, err
}

// escrowMeta reads the vault ID and the current escrow state.
func (v *Vault) escrowMeta(ctx context.Context) (vaultID []byte, es *escrowState, err error) {
	err = v.store.View(ctx, func(tx Tx) (err error) {
		if vaultID = tx.Get(bucketMeta, keyVaultID); vaultID == nil {
			return ErrNotInitialised
		}
		es, err = loadEscrow(tx)
		return err
	})
	return vaultID, es, err
}

func loadEscrow(tx Tx) (*escrowState, error) {
	var es escrowState
	if err := json.Unmarshal(tx.Get(bucketMeta, keyEscrow), &es); err != nil {
		return nil, fmt.Errorf("vault: escrow state unreadable: %w", err)
	}
	return &es, nil
}

func (r *InitRequest) validate() error {
	if err := validateEscrow(r.Shares, r.Threshold, r.Holders); err != nil {
		return err
	}
	if err := checkName("admin", r.Admin); err != nil {
		return err
	}
	if len(r.Council) > 200 {
		return invalidField("council", "council name is too long")
	}
	if len(r.Passphrase) < 12 {
		return invalidField("passphrase", "the operator passphrase must be at least 12 characters")
	}
	return nil
}

// validateEscrow checks split parameters and holder names.
func validateEscrow(shares, threshold int, holders []string) error {
	if shares < 1 || shares > 10 {
		return invalidField("shares", "shares must be 1 to 10")
	}
	if threshold < 1 || threshold > shares || (shares > 1 && threshold < 2) {
		return invalidField("threshold", "threshold must be at least 2 and at most the number of shares (or 1 of 1)")
	}
	if len(holders) != shares {
		return invalidField("holders", "name one holder per share: %d shares but %d holders", shares, len(holders))
	}
	seen := map[string]bool{}
	for _, h := range holders {
		if err := checkName("holder", h); err != nil {
			return err
		}
		if seen[strings.ToLower(h)] {
			return invalidField("holders", "a holder is named twice")
		}
		seen[strings.ToLower(h)] = true
	}
	return nil
}

// Init creates the root key, keyring, audit key, shares and first provider
// account. The vault stays sealed afterwards. The result holds the shares
// and the admin's one-time password; neither is stored.
func (v *Vault) Init(ctx context.Context, req Request, in InitRequest) (*InitResult, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	var vaultID [escrow.VaultIDLen]byte
	rand.Read(vaultID[:])
	idHex := hex.EncodeToString(vaultID[:])
	kdf := v.kdf
	kdf.Salt = make([]byte, 16)
	rand.Read(kdf.Salt)
	if err := kdf.Check(); err != nil {
		return nil, err
	}

	root := memguard.NewBufferRandom(32)
	defer root.Destroy()
	kek := kdf.Derive(in.Passphrase)
	rootWrap, err := barrier.SealRecord(kek, 0, pathRootWrap, root.Bytes())
	wipe(kek)
	if err != nil {
		return nil, err
	}
	dataKey := memguard.NewBufferRandom(32)
	ringPlain := barrier.EncodeKeyring(1, map[uint32][]byte{1: dataKey.Bytes()})
	ringBlob, err := barrier.SealRecord(root.Bytes(), 0, pathKeyring, ringPlain)
	wipe(ringPlain)
	if err != nil {
		return nil, err
	}
	ks := barrier.NewKeyring(1, map[uint32][]byte{1: dataKey.Bytes()}, nil)
	dataKey.Destroy()

	skey, vkey, err := note.GenerateKey(rand.Reader, "strongroom-"+idHex[:12])
	if err != nil {
		return nil, fmt.Errorf("vault: audit key: %w", err)
	}
	shares, err := escrow.Split(root.Bytes(), vaultID, 1, in.Shares, in.Threshold)
	if err != nil {
		return nil, invalid("%v", err)
	}
	now := v.now()
	es := escrowState{Generation: 1, Threshold: in.Threshold, Issued: now}
	res := &InitResult{VaultID: idHex, VerifierKey: vkey}
	for i, s := range shares {
		c := s.Commitment()
		es.Shares = append(es.Shares, shareCommit{Index: s.Index, Holder: in.Holders[i], Commitment: hex.EncodeToString(c[:])})
		res.Envelopes = append(res.Envelopes, &escrow.Envelope{Council: in.Council, VaultID: vaultID,
			Holder: in.Holders[i], Shares: in.Shares, Share: s, Issued: now, VerifierKey: vkey})
	}
	esJSON, _ := json.Marshal(es)
	kdfJSON, _ := json.Marshal(kdf)
	admin, err := v.accounts.Prepare(in.Admin, RoleProvider)
	if err != nil {
		return nil, err
	}
	res.Admin = admin.Login

	err = v.write(ctx, func(stx Tx) error {
		tx := barrier.Through(stx, ks)
		if tx.Get(bucketMeta, keyVaultID) != nil {
			return ErrAlreadyInitialised
		}
		for k, val := range map[string][]byte{string(keyVaultID): vaultID[:], string(keyCouncil): []byte(in.Council),
			string(keyKDF): kdfJSON, string(keyRootWrap): rootWrap, string(keyEscrow): esJSON, string(keyVerifier): []byte(vkey)} {
			if err := tx.Put(bucketMeta, []byte(k), val); err != nil {
				return err
			}
		}
		if err := tx.Put(bucketKeyring, keyKeyring, ringBlob); err != nil {
			return err
		}
		if err := tx.PutRecord(bucketKeyring, keyAuditSigner, skey); err != nil {
			return err
		}
		if err := v.appendAudit(tx, req, event{actor: systemActor, action: audit.SysInit,
			target: audit.Target{Kind: "vault", ID: idHex, Name: in.Council},
			reason: fmt.Sprintf("%d shares, threshold %d, holders: %s; generation 1", in.Shares, in.Threshold, strings.Join(in.Holders, ", "))}); err != nil {
			return err
		}
		return v.accounts.Insert(tx, req, systemActor, admin.Rec)
	})
	if err != nil {
		for _, s := range shares {
			s.Wipe()
		}
		return nil, err
	}
	return res, nil
}

// UnsealPassphrase opens the vault with the operator passphrase.
func (v *Vault) UnsealPassphrase(ctx context.Context, req Request, passphrase []byte) error {
	var kdf KDFParams
	var rootWrap []byte
	err := v.store.View(ctx, func(tx Tx) error {
		if tx.Get(bucketMeta, keyVaultID) == nil {
			return ErrNotInitialised
		}
		rootWrap = tx.Get(bucketMeta, keyRootWrap)
		return json.Unmarshal(tx.Get(bucketMeta, keyKDF), &kdf)
	})
	if err != nil {
		return err
	}
	if !v.Sealed() {
		return nil
	}
	if err := kdf.Check(); err != nil {
		return err
	}
	kek := kdf.Derive(passphrase)
	root, err := barrier.OpenRecord(kek, rootWrap, pathRootWrap)
	wipe(kek)
	if err != nil {
		if rerr := v.record(ctx, req, event{actor: audit.Actor{Name: "operator", Role: "operator"}, action: audit.SysUnseal,
			target: audit.Target{Kind: "vault"}, outcome: audit.OutcomeDenied, reason: "wrong passphrase"}); rerr != nil {
			return rerr
		}
		if errors.Is(err, ErrTampered) {
			return ErrWrongPassphrase
		}
		return err
	}
	return v.finishUnseal(ctx, req, root, event{actor: audit.Actor{Name: "operator", Role: "operator"},
		action: audit.SysUnseal, target: audit.Target{Kind: "vault"}, reason: "passphrase"}, nil)
}

// finishUnseal opens the keyring with root (which it wipes), records ev,
// and only then installs the keys.
func (v *Vault) finishUnseal(ctx context.Context, req Request, root []byte, ev event, apply func(Tx) error) error {
	defer wipe(root)
	var ringBlob []byte
	if err := v.store.View(ctx, func(tx Tx) error {
		ringBlob = tx.Get(bucketKeyring, keyKeyring)
		return nil
	}); err != nil {
		return err
	}
	ringPlain, err := barrier.OpenRecord(root, ringBlob, pathKeyring)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrShareSet, err)
	}
	defer wipe(ringPlain)
	active, keys, err := barrier.DecodeKeyring(ringPlain)
	if err != nil {
		return err
	}
	ks := barrier.NewKeyring(active, keys, root)
	err = v.write(ctx, func(tx Tx) error {
		if apply != nil {
			if err := apply(tx); err != nil {
				return err
			}
		}
		return v.appendAudit(tx, req, ev)
	})
	if err != nil {
		return err // fail closed: an unseal that is not on record does not happen
	}
	v.barrier.Install(ks, func(installed bool) {
		if installed {
			// Build the name index now rather than in the first request
			// (a scan of every head: about 0.3 s per 50,000 credentials).
			go func() { _ = v.barrier.View(context.Background(), ensureNames) }()
		}
		v.mu.Lock()
		v.pending.wipe()
		v.pending = nil
		v.mu.Unlock()
	})
	return nil
}

// Sealed reports whether the keys are absent.
func (v *Vault) Sealed() bool { return v.barrier.Sealed() }

// Seal drops every key from memory. The provider and the chairman may seal.
func (v *Vault) Seal(ctx context.Context, req Request, p *Principal) error {
	target := audit.Target{Kind: "vault"}
	if p.Role != RoleProvider && p.Role != RoleChairman {
		return v.deny(ctx, req, p, audit.SysSeal, target, "only the provider or chairman may seal")
	}
	err := v.record(ctx, req, event{actor: actorOf(p), action: audit.SysSeal, target: target})
	if err == nil && !v.Sealed() {
		_, err = v.AutoCheckpoint(ctx) // the log's state at sealing, signed
	}
	v.dropKeys() // sealing is the safe direction: do it even if the entry failed
	return err
}

func (v *Vault) dropKeys() {
	// memguard Enclaves are ciphertext under memguard's per-process key;
	// dropping them leaves nothing usable once collected (SECURITY.md).
	// The open data keys are destroyed (wiped, unmapped) now.
	v.barrier.Drop(func() {
		secretBuffers.drain() // idle ones are wiped already; unmap them too
		v.mu.Lock()
		v.pending.wipe()
		v.pending = nil
		v.mu.Unlock()
	})
}

// Progress is how far a share unseal has come.
type Progress struct {
	Have    int      `json:"progress"`
	Need    int      `json:"threshold"`
	Holders []string `json:"holders"`
	Sealed  bool     `json:"sealed"`
}

// shareProgress holds the shares given so far, until they are combined
// (then wiped) or the attempt is reset or expires.
type shareProgress struct {
	started time.Time
	shares  map[uint8]*escrow.Share
	holders []string
}

func (sp *shareProgress) wipe() {
	if sp == nil {
		return
	}
	for _, s := range sp.shares {
		s.Wipe()
	}
}

// pendingTTL is how long given shares wait for the rest.
const pendingTTL = 15 * time.Minute

// UnsealShare adds one envelope share. When the threshold is reached the
// vault opens and the recovery is recorded as escrow.recover naming the
// holders (an incident). text is a text envelope or just the share.
func (v *Vault) UnsealShare(ctx context.Context, req Request, text string) (Progress, error) {
	vaultID, es, err := v.escrowMeta(ctx)
	if err != nil {
		return Progress{}, err
	}
	if !v.Sealed() {
		return Progress{Sealed: false, Need: es.Threshold}, nil
	}
	actor := audit.Actor{Name: "share holder", Role: "holder"}
	target := audit.Target{Kind: "share"}
	refuse := func(err error) (Progress, error) {
		if rerr := v.record(ctx, req, event{actor: actor, action: audit.EscrowShare, target: target,
			outcome: audit.OutcomeDenied, reason: err.Error()}); rerr != nil {
			return Progress{}, rerr
		}
		return Progress{}, err
	}
	share, commit, err := validateShare(es, vaultID, text)
	if share != nil {
		defer share.Wipe()
		target.ID = strconv.Itoa(int(share.Index))
	}
	if err != nil {
		return refuse(err)
	}
	target.Name = commit.Holder
	actor.Name = commit.Holder

	v.mu.Lock()
	if v.pending != nil && v.now().Sub(v.pending.started) > pendingTTL {
		v.pending.wipe()
		v.pending = nil
	}
	if v.pending == nil {
		v.pending = &shareProgress{started: v.now(), shares: map[uint8]*escrow.Share{}}
	}
	sp := v.pending
	if _, dup := sp.shares[share.Index]; dup {
		v.mu.Unlock()
		return refuse(fmt.Errorf("%w (share %d of %s was already given)", ErrDuplicateShare, share.Index, commit.Holder))
	}
	kept := *share
	kept.Value = append([]byte(nil), share.Value...)
	sp.shares[share.Index] = &kept
	sp.holders = append(sp.holders, commit.Holder)
	prog := Progress{Have: len(sp.shares), Need: es.Threshold, Holders: append([]string(nil), sp.holders...), Sealed: true}
	var ready []*escrow.Share
	if prog.Have >= prog.Need {
		for _, s := range sp.shares {
			ready = append(ready, s)
		}
		v.pending = nil
	}
	v.mu.Unlock()

	if err := v.record(ctx, req, event{actor: actor, action: audit.EscrowShare, target: target,
		reason: fmt.Sprintf("%d of %d", prog.Have, prog.Need)}); err != nil {
		return Progress{}, err
	}
	if ready == nil {
		return prog, nil
	}
	root, err := escrow.Combine(ready)
	for _, s := range ready {
		s.Wipe()
	}
	if err != nil {
		return Progress{}, fmt.Errorf("%w: %v", ErrShareSet, err)
	}
	err = v.finishUnseal(ctx, req, root, event{actor: audit.Actor{Name: strings.Join(prog.Holders, ", "), Role: "holders"},
		action: audit.EscrowRecover, target: audit.Target{Kind: "vault", ID: hex.EncodeToString(vaultID)},
		reason: "emergency unseal by envelope holders: " + strings.Join(prog.Holders, ", ") + "; re-key required"},
		func(tx Tx) error {
			b, _ := json.Marshal(recoveryState{Since: v.now(), Holders: prog.Holders, Generation: es.Generation})
			return tx.Put(bucketMeta, keyRecovery, b)
		})
	if err != nil {
		return Progress{}, err
	}
	prog.Sealed = false
	return prog, nil
}

// validateShare decodes a share and checks it against the current escrow
// state, in the order SECURITY.md gives. It returns the decoded share (for
// the caller to wipe) even when the share is refused after decoding.
func validateShare(es *escrowState, vaultID []byte, text string) (*escrow.Share, *shareCommit, error) {
	share, err := escrow.ReadShareFile(text)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "escrow: "))
	}
	if hex.EncodeToString(share.VaultID[:]) != hex.EncodeToString(vaultID) {
		return share, nil, fmt.Errorf("%w: this share belongs to vault %x, not %x", ErrWrongVault, share.VaultID, vaultID)
	}
	if share.Generation < es.Generation {
		when := "an earlier re-key"
		if t, ok := es.Superseded[strconv.Itoa(int(share.Generation))]; ok {
			when = t.UTC().Format("2 January 2006")
		}
		return share, nil, fmt.Errorf("%w: this envelope was superseded on %s (generation %d; the current generation is %d)",
			ErrSuperseded, when, share.Generation, es.Generation)
	}
	var commit *shareCommit
	for i := range es.Shares {
		if es.Shares[i].Index == share.Index {
			commit = &es.Shares[i]
		}
	}
	if share.Generation == es.Generation && commit != nil {
		if c, err := hex.DecodeString(commit.Commitment); err == nil && share.Matches(c) {
			return share, commit, nil
		}
	}
	return share, nil, fmt.Errorf("%w: share %d is not one this vault issued in generation %d", ErrShareMismatch, share.Index, es.Generation)
}

// ResetUnseal forgets shares given so far.
func (v *Vault) ResetUnseal() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pending != nil {
		v.pending.wipe()
		v.pending = nil
	}
}
