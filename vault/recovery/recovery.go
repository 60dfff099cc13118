package recovery

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"

	"github.com/awnumar/memguard"

	"strongroom/audit"
)

// Emergency recovery: an unseal by envelope shares puts the
// vault in recovery mode, stored in meta/recovery so a restart does not
// forget it. In recovery mode routine changes are refused, the chairman may
// open a time-limited break-glass window over admin credentials, and only a
// re-key (new envelopes) ends it: an opened envelope is never valid again.

var keyRecovery = []byte("recovery")

const breakGlassPrefix = "breakglass/"

type recoveryState struct {
	Since      time.Time `json:"since"`
	Holders    []string  `json:"holders"`
	Generation uint32    `json:"generation"`
}

// RecoveryError refuses a routine change while the vault is in recovery.
type RecoveryError struct {
	Since   time.Time
	Holders []string
}

func (e *RecoveryError) Error() string {
	return fmt.Sprintf("vault: the vault was opened by emergency recovery on %s by %s; routine changes are refused until the envelopes are re-keyed (strongroom escrow rekey)",
		e.Since.UTC().Format("2 January 2006 15:04 MST"), strings.Join(e.Holders, ", "))
}

func (e *RecoveryError) Unwrap() error { return access.ErrRecoveryMode }

func loadRecovery(tx storage.Tx) (*recoveryState, error) {
	b := tx.Get(storage.BucketMeta, keyRecovery)
	if b == nil {
		return nil, nil
	}
	var r recoveryState
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("vault: recovery state unreadable: %w", err)
	}
	return &r, nil
}

// checkRoutine refuses routine changes during recovery.
func Routine(tx storage.Tx) error {
	r, err := loadRecovery(tx)
	if err != nil || r == nil {
		return err
	}
	return &RecoveryError{Since: r.Since, Holders: r.Holders}
}

// SetPassphrase replaces the operator passphrase (the root key is re-wrapped
// under a new Argon2id KEK with a new salt). A provider may do it at any
// time; the chairman only during recovery, when the passphrase may be lost.
func (sl *Seal) SetPassphrase(ctx context.Context, req auditlog.Request, p *access.Principal, pass []byte) error {
	target := audit.Target{Kind: "vault"}
	if len(pass) < 12 {
		return access.Invalid("passphrase", "the operator passphrase must be at least 12 characters")
	}
	var rec *recoveryState
	var rootWrap []byte
	if err := sl.store.View(ctx, func(tx storage.Tx) (err error) {
		rootWrap = tx.Get(storage.BucketMeta, keyRootWrap)
		rec, err = loadRecovery(tx)
		return err
	}); err != nil {
		return err
	}
	if p.Role != access.RoleProvider && !(p.Role == access.RoleChairman && rec != nil) {
		return sl.log.Deny(ctx, req, p, audit.SysPassphrase, target, "only a provider, or the chairman during emergency recovery, may set the passphrase")
	}
	kdf := sl.kdf
	kdf.Salt = make([]byte, 16)
	rand.Read(kdf.Salt)
	kek := kdf.Derive(pass)
	defer barrier.Wipe(kek)
	var root *memguard.LockedBuffer
	if err := sl.barrier.Hold(func(h *barrier.Held) (err error) {
		root, err = h.OpenRoot()
		return err
	}); err != nil {
		return err
	}
	defer root.Destroy()
	wrap, err := barrier.SealRecord(kek, 0, pathRootWrap, root.Bytes())
	if err != nil {
		return err
	}
	kdfJSON, _ := json.Marshal(kdf)
	reason := "new operator passphrase"
	if rec != nil {
		reason += " (during emergency recovery)"
	}
	sl.pause("passphrase.write")
	err = access.Commit(ctx, sl.store, func(tx storage.Tx) error {
		// The guards: the root wrap is the one read above (no re-key or
		// other passphrase change came between), and the root key wrapped
		// opens the stored keyring (a re-key that committed before this
		// vault's keys were updated in memory is caught).
		if !tx.Expect(storage.BucketMeta, keyRootWrap, rootWrap) || !OpensKeyring(tx, root.Bytes()) {
			return fmt.Errorf("%w: the vault was re-keyed or its passphrase changed meanwhile", access.ErrConflict)
		}
		if err := tx.Put(storage.BucketMeta, keyKDF, kdfJSON); err != nil {
			return err
		}
		if err := tx.Put(storage.BucketMeta, keyRootWrap, wrap); err != nil {
			return err
		}
		return sl.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.SysPassphrase, Target: target, Reason: reason})
	})
	if err == nil {
		sl.keepKEK(kek) // the TPM's copy follows the new passphrase
	}
	return err
}

type BreakGlass struct {
	UserID  string    `json:"user_id"`
	Reason  string    `json:"reason"`
	Opened  time.Time `json:"opened"`
	Expires time.Time `json:"expires"`
}

// OpenBreakGlass lets the chairman read admin credentials for the
// break-glass window, during recovery only, for a stated reason. Each read
// is recorded as breakglass.read with that reason.
func (sl *Seal) OpenBreakGlass(ctx context.Context, req auditlog.Request, p *access.Principal, reason string) (time.Time, error) {
	target := audit.Target{Kind: "vault"}
	reason = strings.TrimSpace(reason)
	if p.Role != access.RoleChairman {
		return time.Time{}, sl.log.Deny(ctx, req, p, audit.BreakglassOpen, target, "only the chairman may break the glass")
	}
	if len(reason) < 5 || len(reason) > 500 {
		return time.Time{}, access.Invalid("reason", "state the reason for breaking the glass (5 to 500 characters)")
	}
	var rec *recoveryState
	if err := sl.store.View(ctx, func(tx storage.Tx) (err error) { rec, err = loadRecovery(tx); return err }); err != nil {
		return time.Time{}, err
	}
	if rec == nil {
		return time.Time{}, sl.log.Deny(ctx, req, p, audit.BreakglassOpen, target,
			"break-glass is only available after an emergency recovery with the envelopes")
	}
	var expires time.Time
	err := sl.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			rec, err := loadRecovery(tx)
			if err != nil {
				return err
			}
			if rec == nil { // re-keyed meanwhile
				return access.Invalid("", "the emergency recovery has ended (re-keyed)")
			}
			now := sl.now()
			expires = now.Add(sl.breakGlass)
			bg := &BreakGlass{UserID: p.UserID, Reason: reason, Opened: now, Expires: expires}
			if err := tx.PutRecord(storage.BucketGrants, breakGlassPrefix+p.UserID, bg); err != nil {
				return err
			}
			return sl.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.BreakglassOpen, Target: target,
				Reason: fmt.Sprintf("%s (until %s)", reason, expires.Format(time.RFC3339))})
		})
	})
	return expires, err
}

// activeBreakGlass returns the caller's open break-glass window, if any.
func (sl *Seal) ActiveBreakGlass(tx barrier.Tx, p *access.Principal) (*BreakGlass, error) {
	if p.Role != access.RoleChairman {
		return nil, nil
	}
	var bg BreakGlass
	ok, err := tx.GetRecord(storage.BucketGrants, breakGlassPrefix+p.UserID, &bg)
	if err != nil || !ok {
		return nil, err
	}
	return &bg, nil
}

// ShareCheck says whose current share was checked.
type ShareCheck struct {
	Index      int    `json:"index"`
	Holder     string `json:"holder"`
	Generation uint32 `json:"generation"`
	Threshold  int    `json:"threshold"`
	Shares     int    `json:"shares"`
}

// CheckShare says whether a share is a valid, current share of this vault,
// using only the stored commitments: nothing is combined or unsealed. It
// works sealed or unsealed, and every check is recorded.
func (sl *Seal) CheckShare(ctx context.Context, req auditlog.Request, text string) (ShareCheck, error) {
	vaultID, es, err := sl.escrowMeta(ctx)
	if err != nil {
		return ShareCheck{}, err
	}
	share, commit, err := validateShare(es, vaultID, text)
	if share != nil {
		share.Wipe()
	}
	ev := auditlog.Event{Actor: audit.Actor{Name: "share holder", Role: "holder"}, Action: audit.EscrowCheck, Target: audit.Target{Kind: "share"}}
	if share != nil {
		ev.Target.ID = strconv.Itoa(int(share.Index))
	}
	if err != nil {
		ev.Outcome, ev.Reason = audit.OutcomeError, err.Error()
		return ShareCheck{}, sl.log.RecordThen(ctx, req, ev, err)
	}
	ev.Actor.Name, ev.Target.Name = commit.Holder, commit.Holder
	res := ShareCheck{Index: int(commit.Index), Holder: commit.Holder, Generation: es.Generation, Threshold: es.Threshold, Shares: len(es.Shares)}
	return res, sl.log.Record(ctx, req, ev)
}

// opensKeyring says root opens the stored keyring.
func OpensKeyring(tx storage.Tx, root []byte) bool {
	pt, err := barrier.OpenRecord(root, tx.Peek(storage.BucketKeyring, keyKeyring), pathKeyring)
	barrier.Wipe(pt)
	return err == nil
}

func endBreakGlass(tx storage.Tx) error {
	var doomed [][]byte
	err := tx.Scan(storage.BucketGrants, []byte(breakGlassPrefix), func(k, _ []byte) (bool, error) {
		if !strings.HasPrefix(string(k), breakGlassPrefix) {
			return false, nil
		}
		doomed = append(doomed, k)
		return true, nil
	})
	for _, k := range doomed {
		if err == nil {
			err = tx.Delete(storage.BucketGrants, k)
		}
	}
	return err
}

// checkQuorum validates at least threshold distinct current shares.
func checkQuorum(es *escrowState, vaultID []byte, texts []string) ([]string, error) {
	seen := map[uint8]bool{}
	var holders []string
	for _, t := range texts {
		s, c, err := validateShare(es, vaultID, t)
		if s != nil {
			s.Wipe()
		}
		if err != nil {
			return nil, err
		}
		if seen[s.Index] {
			return nil, fmt.Errorf("%w (share %d of %s)", access.ErrDuplicateShare, s.Index, c.Holder)
		}
		seen[s.Index] = true
		holders = append(holders, c.Holder)
	}
	if len(holders) < es.Threshold {
		return nil, access.Invalid("", "a re-key by the holders needs %d current shares; %d given", es.Threshold, len(holders))
	}
	return holders, nil
}
