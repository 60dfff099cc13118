package recovery

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"

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

// InitResult is what init returns exactly once.
type InitResult struct {
	VaultID     string
	VerifierKey string
	Envelopes   []*escrow.Envelope
}

// escrowMeta reads the vault ID and the current escrow state.
func (sl *Seal) escrowMeta(ctx context.Context) (vaultID []byte, es *escrowState, err error) {
	err = sl.store.View(ctx, func(tx storage.Tx) (err error) {
		if vaultID = tx.Get(storage.BucketMeta, keyVaultID); vaultID == nil {
			return access.ErrNotInitialised
		}
		es, err = loadEscrow(tx)
		return err
	})
	return vaultID, es, err
}

func loadEscrow(tx storage.Tx) (*escrowState, error) {
	var es escrowState
	if err := json.Unmarshal(tx.Get(storage.BucketMeta, keyEscrow), &es); err != nil {
		return nil, fmt.Errorf("vault: escrow state unreadable: %w", err)
	}
	return &es, nil
}

func (r *InitRequest) validate() error {
	if err := validateEscrow(r.Shares, r.Threshold, r.Holders); err != nil {
		return err
	}
	if err := access.CheckName("admin", r.Admin); err != nil {
		return err
	}
	if len(r.Council) > 200 {
		return access.Invalid("council", "council name is too long")
	}
	if len(r.Passphrase) < 12 {
		return access.Invalid("passphrase", "the operator passphrase must be at least 12 characters")
	}
	return nil
}

// validateEscrow checks split parameters and holder names.
func validateEscrow(shares, threshold int, holders []string) error {
	if shares < 1 || shares > 10 {
		return access.Invalid("shares", "shares must be 1 to 10")
	}
	if threshold < 1 || threshold > shares || (shares > 1 && threshold < 2) {
		return access.Invalid("threshold", "threshold must be at least 2 and at most the number of shares (or 1 of 1)")
	}
	if len(holders) != shares {
		return access.Invalid("holders", "name one holder per share: %d shares but %d holders", shares, len(holders))
	}
	seen := map[string]bool{}
	for _, h := range holders {
		if err := access.CheckName("holder", h); err != nil {
			return err
		}
		if seen[access.NameKey(h)] {
			return access.Invalid("holders", "a holder is named twice")
		}
		seen[access.NameKey(h)] = true
	}
	return nil
}

// Init creates the root key, keyring, audit key, shares and first provider
// account. The vault stays sealed afterwards. The result holds the shares
// and the admin's one-time password; neither is stored.
func (sl *Seal) Init(ctx context.Context, req auditlog.Request, in InitRequest, admin FirstAdmin) (*InitResult, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	var vaultID [escrow.VaultIDLen]byte
	rand.Read(vaultID[:])
	idHex := hex.EncodeToString(vaultID[:])
	kdf := sl.kdf
	kdf.Salt = make([]byte, 16)
	rand.Read(kdf.Salt)
	if err := kdf.Check(); err != nil {
		return nil, err
	}

	root := memguard.NewBufferRandom(32)
	defer root.Destroy()
	kek := kdf.Derive(in.Passphrase)
	rootWrap, err := barrier.SealRecord(kek, 0, pathRootWrap, root.Bytes())
	barrier.Wipe(kek)
	if err != nil {
		return nil, err
	}
	dataKey, stateKey := memguard.NewBufferRandom(32), memguard.NewBufferRandom(32)
	ringKeys := map[uint32][]byte{1: dataKey.Bytes(), 0: stateKey.Bytes()} // term 0: the state key
	ringPlain := barrier.EncodeKeyring(1, ringKeys)
	ringBlob, err := barrier.SealRecord(root.Bytes(), 0, pathKeyring, ringPlain)
	barrier.Wipe(ringPlain)
	if err != nil {
		return nil, err
	}
	ks := barrier.NewKeyring(1, ringKeys, nil)
	dataKey.Destroy()
	stateKey.Destroy()

	skey, vkey, err := note.GenerateKey(rand.Reader, "strongroom-"+idHex[:12])
	if err != nil {
		return nil, fmt.Errorf("vault: audit key: %w", err)
	}
	shares, err := escrow.Split(root.Bytes(), vaultID, 1, in.Shares, in.Threshold)
	if err != nil {
		return nil, access.Invalid("", "%v", err)
	}
	now := sl.now()
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
	insertAdmin, err := admin(in.Admin)
	if err != nil {
		return nil, err
	}

	err = access.Commit(ctx, sl.store, func(stx storage.Tx) error {
		tx := barrier.Through(stx, ks)
		if tx.Get(storage.BucketMeta, keyVaultID) != nil {
			return access.ErrAlreadyInitialised
		}
		for k, val := range map[string][]byte{string(keyVaultID): vaultID[:], string(keyCouncil): []byte(in.Council),
			string(keyKDF): kdfJSON, string(keyRootWrap): rootWrap, string(keyEscrow): esJSON, string(auditlog.KeyVerifier): []byte(vkey)} {
			if err := tx.Put(storage.BucketMeta, []byte(k), val); err != nil {
				return err
			}
		}
		if err := tx.Put(storage.BucketKeyring, keyKeyring, ringBlob); err != nil {
			return err
		}
		if err := tx.PutRecord(storage.BucketKeyring, keyAuditSigner, skey); err != nil {
			return err
		}
		if err := sl.log.Append(tx, req, auditlog.Event{Actor: auditlog.System, Action: audit.SysInit,
			Target: audit.Target{Kind: "vault", ID: idHex, Name: in.Council},
			Reason: fmt.Sprintf("%d shares, threshold %d, holders: %s; generation 1", in.Shares, in.Threshold, strings.Join(in.Holders, ", "))}); err != nil {
			return err
		}
		barrier.ResealState(stx, ks) // the first state seal, over everything written here
		return insertAdmin(tx)
	})
	if err != nil {
		for _, s := range shares {
			s.Wipe()
		}
		return nil, err
	}
	return res, nil
}

// UnsealPassphrase opens the vault with the operator passphrase. With an
// auto-unsealer configured, a successful unseal then gives it the KEK to
// keep (see AutoUnseal).
func (sl *Seal) UnsealPassphrase(ctx context.Context, req auditlog.Request, passphrase []byte) error {
	kdf, rootWrap, err := sl.readRootWrap(ctx)
	if err != nil || !sl.Sealed() {
		return err
	}
	if err := kdf.Check(); err != nil {
		return err
	}
	kek := kdf.Derive(passphrase)
	defer barrier.Wipe(kek)
	ev := auditlog.Event{Actor: audit.Actor{Name: "operator", Role: "operator"},
		Action: audit.SysUnseal, Target: audit.Target{Kind: "vault"}, Reason: "passphrase"}
	if err := sl.unsealWithKEK(ctx, req, kek, rootWrap, ev, "wrong passphrase", access.ErrWrongPassphrase); err != nil {
		return err
	}
	sl.keepKEK(kek)
	return nil
}

// readRootWrap reads the passphrase's KDF parameters and the root key's
// wrap under the KEK.
func (sl *Seal) readRootWrap(ctx context.Context) (kdf barrier.KDFParams, rootWrap []byte, err error) {
	err = sl.store.View(ctx, func(tx storage.Tx) error {
		if tx.Get(storage.BucketMeta, keyVaultID) == nil {
			return access.ErrNotInitialised
		}
		rootWrap = bytes.Clone(tx.Get(storage.BucketMeta, keyRootWrap))
		return json.Unmarshal(tx.Get(storage.BucketMeta, keyKDF), &kdf)
	})
	return kdf, rootWrap, err
}

// unsealWithKEK opens the root key's wrap with kek and finishes the
// unseal, recording ev; a KEK that does not open the wrap is recorded as
// denied with reason wrongReason and returned as wrongErr.
func (sl *Seal) unsealWithKEK(ctx context.Context, req auditlog.Request, kek, rootWrap []byte, ev auditlog.Event, wrongReason string, wrongErr error) error {
	root, err := barrier.OpenRecord(kek, rootWrap, pathRootWrap)
	if err != nil {
		denied := ev
		denied.Outcome, denied.Reason = audit.OutcomeDenied, wrongReason
		if rerr := sl.log.Record(ctx, req, denied); rerr != nil {
			return rerr
		}
		if errors.Is(err, barrier.ErrTampered) {
			return wrongErr
		}
		return err
	}
	return sl.finishUnseal(ctx, req, root, ev, nil)
}

// finishUnseal opens the keyring with root (which it wipes), records ev,
// and only then installs the keys.
func (sl *Seal) finishUnseal(ctx context.Context, req auditlog.Request, root []byte, ev auditlog.Event, apply func(storage.Tx) error) error {
	defer barrier.Wipe(root)
	sl.unsealMu.Lock()
	defer sl.unsealMu.Unlock()
	if !sl.Sealed() { // another unseal finished first: nothing to record or end
		sl.mu.Lock()
		sl.pending.wipe()
		sl.pending = nil
		sl.mu.Unlock()
		return nil
	}
	var ringBlob []byte
	if err := sl.store.View(ctx, func(tx storage.Tx) error {
		ringBlob = tx.Get(storage.BucketKeyring, keyKeyring)
		return nil
	}); err != nil {
		return err
	}
	ringPlain, err := barrier.OpenRecord(root, ringBlob, pathKeyring)
	if err != nil { // the root key is genuine (its wrap or the envelopes' commitments say so): the keyring is not its
		return sl.refuseState(ctx, req, ev, &barrier.RollbackError{Bucket: storage.BucketKeyring,
			What: "the keyring does not open with the root key (put back from another generation, or changed)"})
	}
	defer barrier.Wipe(ringPlain)
	active, keys, err := barrier.DecodeKeyring(ringPlain)
	if err != nil {
		return err
	}
	u, err := stateKeyring(active, keys, root, ringBlob)
	if err != nil {
		return err
	}
	ks := u.ks
	var verifier string
	err = access.Commit(ctx, sl.store, func(tx storage.Tx) error {
		if err := u.checkState(tx, sl.firstSeal); err != nil {
			return err
		}
		verifier = string(tx.Get(storage.BucketMeta, auditlog.KeyVerifier))
		if apply != nil {
			if err := apply(tx); err != nil {
				return err
			}
		}
		ended, err := sl.endSessions(tx) // a session from before (a restart, a crash) does not survive
		if err != nil {
			return err
		}
		e := ev
		if ended != "" {
			e.Reason = strings.TrimPrefix(e.Reason+"; "+ended, "; ")
		}
		if u.up != nil {
			e.Reason += "; " + firstStateSeal
		}
		return sl.log.Append(tx, req, e)
	})
	if errors.Is(err, barrier.ErrRolledBack) || errors.Is(err, ErrNoStateSeal) {
		return sl.refuseState(ctx, req, ev, err)
	}
	if err != nil {
		return err // fail closed: an unseal that is not on record does not happen
	}
	sl.barrier.Install(ks, func(installed bool) {
		if installed {
			// Build the name index now rather than in the first request
			// (a scan of every head: about 0.3 s per 50,000 credentials).
			if sl.hooks.Unsealed != nil {
				go sl.hooks.Unsealed()
			}
		}
		sl.mu.Lock()
		sl.pending.wipe()
		sl.pending = nil
		if installed {
			sl.verifier = verifier
		}
		sl.mu.Unlock()
	})
	return nil
}

// Sealed reports whether the keys are absent.
func (sl *Seal) Sealed() bool { return sl.barrier.Sealed() }

// Seal drops every key from memory. The provider and the chairman may seal.
func (sl *Seal) Seal(ctx context.Context, req auditlog.Request, p *access.Principal) error {
	target := audit.Target{Kind: "vault"}
	if p.Role != access.RoleProvider && p.Role != access.RoleChairman {
		return sl.log.Deny(ctx, req, p, audit.SysSeal, target, "only the provider or chairman may seal")
	}
	if sl.Sealed() { // nothing to end or sign: on record, without the keys
		return sl.log.Record(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.SysSeal, Target: target, Reason: "already sealed"})
	}
	reason := sl.forgetKEK()
	err := access.Commit(ctx, sl.store, func(tx storage.Tx) error {
		ended, err := sl.endSessions(tx) // everyone signs in again after the next unseal
		if err != nil {
			return err
		}
		return sl.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.SysSeal, Target: target, Reason: ended + reason})
	})
	if err != nil {
		sl.log.NoteFailure(err)
	}
	if err == nil && !sl.Sealed() {
		if sl.hooks.Sealing != nil {
			err = sl.hooks.Sealing(ctx) // the log's state at sealing, signed
		}
	}
	sl.DropKeys() // sealing is the safe direction: do it even if the entry failed
	return err
}

// DropKeys seals without recording it (at close).
func (sl *Seal) DropKeys() {
	// memguard Enclaves are ciphertext under memguard's per-process key;
	// dropping them leaves nothing usable once collected (SECURITY.md).
	// The open data keys are destroyed (wiped, unmapped) now.
	sl.barrier.Drop(func() {
		if sl.hooks.Sealed != nil {
			sl.hooks.Sealed()
		}
		sl.mu.Lock()
		sl.pending.wipe()
		sl.pending = nil
		sl.mu.Unlock()
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
func (sl *Seal) UnsealShare(ctx context.Context, req auditlog.Request, text string) (Progress, error) {
	vaultID, es, err := sl.escrowMeta(ctx)
	if err != nil {
		return Progress{}, err
	}
	if !sl.Sealed() {
		return Progress{Sealed: false, Need: es.Threshold}, nil
	}
	actor := audit.Actor{Name: "share holder", Role: "holder"}
	target := audit.Target{Kind: "share"}
	refuse := func(err error) (Progress, error) {
		if rerr := sl.log.Record(ctx, req, auditlog.Event{Actor: actor, Action: audit.EscrowShare, Target: target,
			Outcome: audit.OutcomeDenied, Reason: err.Error()}); rerr != nil {
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

	sl.mu.Lock()
	if sl.pending != nil && sl.now().Sub(sl.pending.started) > pendingTTL {
		sl.pending.wipe()
		sl.pending = nil
	}
	if sl.pending == nil {
		sl.pending = &shareProgress{started: sl.now(), shares: map[uint8]*escrow.Share{}}
	}
	sp := sl.pending
	if _, dup := sp.shares[share.Index]; dup {
		sl.mu.Unlock()
		return refuse(fmt.Errorf("%w (share %d of %s was already given)", access.ErrDuplicateShare, share.Index, commit.Holder))
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
		sl.pending = nil
	}
	sl.mu.Unlock()

	if err := sl.log.Record(ctx, req, auditlog.Event{Actor: actor, Action: audit.EscrowShare, Target: target,
		Reason: fmt.Sprintf("%d of %d", prog.Have, prog.Need)}); err != nil {
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
		return Progress{}, fmt.Errorf("%w: %v", access.ErrShareSet, err)
	}
	err = sl.finishUnseal(ctx, req, root, auditlog.Event{Actor: audit.Actor{Name: strings.Join(prog.Holders, ", "), Role: "holders"},
		Action: audit.EscrowRecover, Target: audit.Target{Kind: "vault", ID: hex.EncodeToString(vaultID)},
		Reason: "emergency unseal by envelope holders: " + strings.Join(prog.Holders, ", ") + "; re-key required"},
		func(tx storage.Tx) error {
			b, _ := json.Marshal(recoveryState{Since: sl.now(), Holders: prog.Holders, Generation: es.Generation})
			return tx.Put(storage.BucketMeta, keyRecovery, b)
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
		return nil, nil, fmt.Errorf("%w: %s", access.ErrInvalid, strings.TrimPrefix(err.Error(), "escrow: "))
	}
	if hex.EncodeToString(share.VaultID[:]) != hex.EncodeToString(vaultID) {
		return share, nil, fmt.Errorf("%w: this share belongs to vault %x, not %x", access.ErrWrongVault, share.VaultID, vaultID)
	}
	if share.Generation < es.Generation {
		when := "an earlier re-key"
		if t, ok := es.Superseded[strconv.Itoa(int(share.Generation))]; ok {
			when = t.UTC().Format("2 January 2006")
		}
		return share, nil, fmt.Errorf("%w: this envelope was superseded on %s (generation %d; the current generation is %d)",
			access.ErrSuperseded, when, share.Generation, es.Generation)
	}
	if share.Generation > es.Generation { // the vault issued this envelope, so its escrow state is older than it
		return share, nil, &barrier.RollbackError{Bucket: storage.BucketMeta,
			What: fmt.Sprintf("the escrow state is from before envelope generation %d was issued (put back to an earlier copy)", share.Generation)}
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
	return share, nil, fmt.Errorf("%w: share %d is not one this vault issued in generation %d", access.ErrShareMismatch, share.Index, es.Generation)
}

// ResetUnseal forgets shares given so far.
// Anyone may ask (the holders may be elsewhere), so it is recorded, with
// how many shares it forgot.
func (sl *Seal) ResetUnseal(ctx context.Context, req auditlog.Request) error {
	sl.mu.Lock()
	forgot := 0
	if sl.pending != nil {
		forgot = len(sl.pending.shares)
		sl.pending.wipe()
		sl.pending = nil
	}
	sl.mu.Unlock()
	return sl.log.Record(ctx, req, auditlog.Event{Actor: audit.Actor{Name: "unauthenticated", Role: "anonymous"},
		Action: audit.SysUnsealReset, Target: audit.Target{Kind: "vault"},
		Reason: fmt.Sprintf("an envelope unseal in progress was reset; %d shares given so far were forgotten", forgot)})
}
