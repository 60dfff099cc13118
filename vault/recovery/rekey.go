// Re-keying: a new root key and new envelopes, after an emergency
// recovery or whenever the IT provider or a quorum of holders asks.

package recovery

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

	"github.com/awnumar/memguard"

	"strongroom/audit"
	"strongroom/escrow"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// RekeyRequest asks for a new root key and new envelopes. Zero Shares,
// Threshold or nil Holders keep the current ones. Passphrase is the current
// operator passphrase: the new root key is wrapped under it. Quorum holds
// share texts of the current generation, for a re-key by the holders.
type RekeyRequest struct {
	Shares     int
	Threshold  int
	Holders    []string
	Passphrase []byte
	Quorum     []string
}

// RekeyResult is the new generation's envelopes, returned once.
type RekeyResult struct {
	Generation uint32
	Envelopes  []*escrow.Envelope
}

// rekeyBase is what a re-key is made from, read in one transaction; the
// write checks every stored value of it again (guards).
type rekeyBase struct {
	es                                          *escrowState
	rec                                         *recoveryState
	kdf                                         barrier.KDFParams
	vaultID, rootWrap, ringBlob, council, verif []byte
	kdfRaw, escrowRaw, recRaw                   []byte
}

// rekeyNext is the new generation, made before the write.
type rekeyNext struct {
	gen                    uint32
	wrap, ring, esJSON, kd []byte
	shares                 []*escrow.Share
	res                    *RekeyResult
	root                   *memguard.LockedBuffer
	// ringPlain is the new keyring (the old terms and a new active one),
	// for the vault's keys once the write has committed; wiped after.
	ringPlain []byte
	term      uint32
	audit     *auditRekey // the new audit signing key (auditkey.go)
	kek       []byte      // the new passphrase KEK, for the auto-unsealer; wiped after
}

// Rekey makes a new root key and new shares (generation + 1) and a new
// data key term that every write after it is sealed under, so the old
// envelopes with an old copy of the database decrypt nothing written
// after it; the old terms stay in the keyring (so every credential stays
// readable) until Rewrap seals their records again. It supersedes the old
// envelopes, and ends recovery mode and any break-glass window. A provider may re-key while unsealed; so may the chairman during
// recovery or with a quorum of current shares.
func (sl *Seal) Rekey(ctx context.Context, req auditlog.Request, p *access.Principal, in RekeyRequest) (*RekeyResult, error) {
	target := audit.Target{Kind: "vault"}
	sl.rekeyMu.Lock()
	defer sl.rekeyMu.Unlock()
	b, err := sl.loadRekeyBase(ctx)
	if err != nil {
		return nil, err
	}
	authority, err := sl.rekeyAuthority(ctx, req, p, b, in.Quorum)
	if err != nil {
		return nil, err
	}
	if err := b.fill(&in); err != nil {
		return nil, err
	}
	ringPlain, err := b.openKeyring(in.Passphrase)
	if err != nil {
		if err == access.ErrWrongPassphrase {
			return nil, sl.log.RecordThen(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.EscrowRekey, Target: target,
				Outcome: audit.OutcomeDenied, Reason: "wrong passphrase"}, access.ErrWrongPassphrase)
		}
		return nil, err
	}
	defer barrier.Wipe(ringPlain)
	next, err := sl.nextGeneration(b, in, ringPlain)
	if err != nil {
		return nil, err
	}
	defer next.root.Destroy()
	defer barrier.Wipe(next.ringPlain)
	defer barrier.Wipe(next.kek)
	if next.audit, err = sl.newAuditKey(ctx, b, next); err != nil {
		return nil, err
	}
	sl.pause("rekey.write")
	reason := fmt.Sprintf("generation %d -> %d; %d shares, threshold %d; holders: %s; data key term %d; authorised by %s",
		b.es.Generation, next.gen, in.Shares, in.Threshold, strings.Join(in.Holders, ", "), next.term, authority)
	active, keys, err := barrier.DecodeKeyring(next.ringPlain)
	if err != nil {
		return nil, err
	}
	nk := barrier.NewKeyring(active, keys, next.root.Bytes())
	err = sl.barrier.Hold(func(h *barrier.Held) error {
		write := b.commit(sl, req, p, next, reason)
		return access.Commit(ctx, sl.store, func(tx storage.Tx) error {
			// The state as it stands must be what the vault wrote (checked
			// under the old state key) before the new state key seals it.
			if err := h.CheckState(tx); err != nil {
				return err
			}
			if err := write(tx); err != nil {
				return err
			}
			barrier.ResealState(tx, nk)
			tx.OnCommit(func() {
				sl.barrier.SwitchState(nk) // before other writes of the next commit fold
				sl.mu.Lock()
				sl.verifier = next.audit.vkey // what Status serves as checked
				sl.mu.Unlock()
			})
			return nil
		})
	})
	if err != nil {
		for _, s := range next.shares {
			s.Wipe()
		}
		if errors.Is(err, barrier.ErrRolledBack) { // the state it would re-key is not the vault's
			return nil, sl.sealTampered(ctx, err)
		}
		return nil, err
	}
	sl.pause("rekey.committed")
	sl.barrier.Replace(nk) // the new term from now on
	sl.keepKEK(next.kek)   // the TPM's copy follows the new salt
	return next.res, nil
}

func (sl *Seal) loadRekeyBase(ctx context.Context) (*rekeyBase, error) {
	b := &rekeyBase{}
	err := sl.store.View(ctx, func(tx storage.Tx) (err error) {
		b.vaultID, b.rootWrap, b.ringBlob = tx.Get(storage.BucketMeta, keyVaultID), tx.Get(storage.BucketMeta, keyRootWrap), tx.Get(storage.BucketKeyring, keyKeyring)
		b.council, b.verif = tx.Get(storage.BucketMeta, keyCouncil), tx.Get(storage.BucketMeta, auditlog.KeyVerifier)
		b.kdfRaw, b.escrowRaw, b.recRaw = tx.Get(storage.BucketMeta, keyKDF), tx.Get(storage.BucketMeta, keyEscrow), tx.Get(storage.BucketMeta, keyRecovery)
		if err = json.Unmarshal(b.kdfRaw, &b.kdf); err != nil {
			return err
		}
		if b.es, err = loadEscrow(tx); err != nil {
			return err
		}
		b.rec, err = loadRecovery(tx)
		return err
	})
	return b, err
}

// rekeyAuthority says on whose authority p may re-key, or records the
// refusal.
func (sl *Seal) rekeyAuthority(ctx context.Context, req auditlog.Request, p *access.Principal, b *rekeyBase, quorum []string) (string, error) {
	target := audit.Target{Kind: "vault"}
	switch {
	case p.Role == access.RoleProvider:
		return "the IT provider", nil
	case p.Role == access.RoleChairman && b.rec != nil:
		return "the chairman after emergency recovery by " + strings.Join(b.rec.Holders, ", "), nil
	case p.Role == access.RoleChairman && len(quorum) > 0:
		holders, err := checkQuorum(b.es, b.vaultID, quorum)
		if err != nil {
			return "", sl.log.RecordThen(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.EscrowRekey, Target: target,
				Outcome: audit.OutcomeDenied, Reason: err.Error()}, err)
		}
		return "the chairman with a quorum of holders: " + strings.Join(holders, ", "), nil
	}
	return "", sl.log.Deny(ctx, req, p, audit.EscrowRekey, target, "only the provider, or the chairman after recovery or with a quorum, may re-key")
}

// fill gives in the current holders, shares and threshold where it names
// none, and checks the result.
func (b *rekeyBase) fill(in *RekeyRequest) error {
	if in.Holders == nil {
		for _, s := range b.es.Shares {
			in.Holders = append(in.Holders, s.Holder)
		}
	}
	if in.Shares == 0 {
		in.Shares = len(in.Holders)
	}
	if in.Threshold == 0 {
		in.Threshold = min(b.es.Threshold, in.Shares)
	}
	if err := validateEscrow(in.Shares, in.Threshold, in.Holders); err != nil {
		return err
	}
	return b.kdf.Check()
}

// openKeyring checks the passphrase by opening the keyring with it; the
// caller wipes the result.
func (b *rekeyBase) openKeyring(passphrase []byte) ([]byte, error) {
	kek := b.kdf.Derive(passphrase)
	oldRoot, err := barrier.OpenRecord(kek, b.rootWrap, pathRootWrap)
	barrier.Wipe(kek)
	if err != nil {
		return nil, access.ErrWrongPassphrase
	}
	defer barrier.Wipe(oldRoot)
	return barrier.OpenRecord(oldRoot, b.ringBlob, pathKeyring)
}

// nextGeneration makes the new root key, its wrap under the passphrase,
// the re-wrapped keyring, the shares and their envelopes.
func (sl *Seal) nextGeneration(b *rekeyBase, in RekeyRequest, ringPlain []byte) (*rekeyNext, error) {
	n := &rekeyNext{gen: b.es.Generation + 1, root: memguard.NewBufferRandom(32)}
	newKDF := sl.kdf
	newKDF.Salt = make([]byte, 16)
	rand.Read(newKDF.Salt)
	newKEK := newKDF.Derive(in.Passphrase)
	var err error
	n.wrap, err = barrier.SealRecord(newKEK, 0, pathRootWrap, n.root.Bytes())
	n.kek = newKEK
	if err == nil {
		n.ringPlain, n.term, err = addTerm(ringPlain)
	}
	if err == nil {
		n.ring, err = barrier.SealRecord(n.root.Bytes(), 0, pathKeyring, n.ringPlain)
	}
	var id [escrow.VaultIDLen]byte
	copy(id[:], b.vaultID)
	if err == nil {
		if n.shares, err = escrow.Split(n.root.Bytes(), id, n.gen, in.Shares, in.Threshold); err != nil {
			err = access.Invalid("", "%v", err)
		}
	}
	if err != nil {
		n.root.Destroy()
		barrier.Wipe(n.kek)
		return nil, err
	}
	now := sl.now()
	es := escrowState{Generation: n.gen, Threshold: in.Threshold, Issued: now, Superseded: map[string]time.Time{}}
	for g, t := range b.es.Superseded {
		es.Superseded[g] = t
	}
	for g := uint32(1); g <= b.es.Generation; g++ {
		if _, ok := es.Superseded[strconv.Itoa(int(g))]; !ok {
			es.Superseded[strconv.Itoa(int(g))] = now
		}
	}
	n.res = &RekeyResult{Generation: n.gen}
	for i, s := range n.shares {
		c := s.Commitment()
		es.Shares = append(es.Shares, shareCommit{Index: s.Index, Holder: in.Holders[i], Commitment: hex.EncodeToString(c[:])})
		n.res.Envelopes = append(n.res.Envelopes, &escrow.Envelope{Council: string(b.council), VaultID: id, Holder: in.Holders[i],
			Shares: in.Shares, Share: s, Issued: now, VerifierKey: string(b.verif)})
	}
	n.esJSON, _ = json.Marshal(es)
	n.kd, _ = json.Marshal(newKDF)
	return n, nil
}

// commit is the re-key's write: guarded by everything it was made from,
// so a passphrase change or another re-key meanwhile is never undone.
func (b *rekeyBase) commit(sl *Seal, req auditlog.Request, p *access.Principal, n *rekeyNext, reason string) func(storage.Tx) error {
	return func(tx storage.Tx) error {
		for _, g := range []struct {
			bucket    string
			key, want []byte
		}{{storage.BucketMeta, keyRootWrap, b.rootWrap}, {storage.BucketMeta, keyKDF, b.kdfRaw}, {storage.BucketKeyring, keyKeyring, b.ringBlob},
			{storage.BucketMeta, keyEscrow, b.escrowRaw}, {storage.BucketMeta, keyRecovery, b.recRaw}} {
			if !tx.Expect(g.bucket, g.key, g.want) {
				return fmt.Errorf("%w: the passphrase, the envelopes or the recovery changed while re-keying", access.ErrConflict)
			}
		}
		for k, val := range map[string][]byte{string(keyKDF): n.kd, string(keyRootWrap): n.wrap, string(keyEscrow): n.esJSON} {
			if err := tx.Put(storage.BucketMeta, []byte(k), val); err != nil {
				return err
			}
		}
		if err := tx.Put(storage.BucketKeyring, keyKeyring, n.ring); err != nil {
			return err
		}
		if err := tx.Delete(storage.BucketMeta, keyRecovery); err != nil {
			return err
		}
		if err := endBreakGlass(tx); err != nil {
			return err
		}
		if err := sl.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.EscrowRekey, Target: audit.Target{Kind: "vault"}, Reason: reason}); err != nil {
			return err
		}
		return n.audit.write(tx)
	}
}

// addTerm is the keyring ring with a new random data key as its active
// term (one more than the highest); the caller wipes the result.
func addTerm(ring []byte) ([]byte, uint32, error) {
	_, keys, err := barrier.DecodeKeyring(ring)
	if err != nil {
		return nil, 0, err
	}
	term := uint32(0)
	for t := range keys {
		term = max(term, t)
	}
	term++ // term 0 is the state key, never a data key
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, 0, err
	}
	keys[term] = key
	stateKey := make([]byte, 32) // a new state key: the old one is in every old copy
	if _, err := rand.Read(stateKey); err != nil {
		return nil, 0, err
	}
	keys[0] = stateKey
	out := barrier.EncodeKeyring(term, keys)
	barrier.Wipe(key)
	barrier.Wipe(stateKey)
	return out, term, nil
}
