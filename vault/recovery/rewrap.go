// Rewrap: after a re-key, every sealed record sealed again under the new
// data key term, in bounded chunks, and the old terms dropped.

package recovery

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// rewrapChunk is how many records one write of a rewrap looks at.
var rewrapChunk = 500

// sealedBuckets hold records sealed under a data key (the keyring
// record itself is sealed under the root key, and is rewritten last).
var sealedBuckets = []string{storage.BucketUsers, storage.BucketSessions, storage.BucketCredentials,
	storage.BucketGrants, storage.BucketRequests, storage.BucketKeyring}

// RewrapResult says what a rewrap did.
type RewrapResult struct {
	Term     uint32   `json:"term"`
	Resealed int      `json:"resealed"`
	Dropped  []uint32 `json:"dropped_terms"`
}

// Rewrap seals every record still under an older data key term again
// under the active one, in writes of at most rewrapChunk records (each
// checks in its own transaction the record it rewrites), then drops the
// older terms from the keyring, recorded as escrow.rekey. A rewrap cut off
// by a crash is resumed by running it again: records already resealed are
// passed over. Those who may re-key (a provider, the chairman) rewrap.
func (sl *Seal) Rewrap(ctx context.Context, req auditlog.Request, p *access.Principal) (*RewrapResult, error) {
	target := audit.Target{Kind: "vault"}
	if p.Role != access.RoleProvider && p.Role != access.RoleChairman {
		return nil, sl.log.Deny(ctx, req, p, audit.EscrowRekey, target, "only a provider or the chairman, who re-key, rewraps the records")
	}
	sl.rekeyMu.Lock()
	defer sl.rekeyMu.Unlock()
	res := &RewrapResult{}
	if err := sl.barrier.Hold(func(h *barrier.Held) error { res.Term = h.Active(); return nil }); err != nil {
		return nil, err
	}
	clean := false
	for pass := 0; pass < 3 && !clean; pass++ { // the last finds nothing left under an old term
		left, err := sl.rewrapPass(ctx, res.Term)
		if err != nil {
			return nil, err
		}
		res.Resealed += left
		clean = left == 0
	}
	if !clean {
		return nil, fmt.Errorf("%w: records kept appearing under an old term; run the rewrap again", access.ErrConflict)
	}
	var ring, root []byte // the keyring kept, for the barrier after the keys are let go
	defer func() { barrier.Wipe(ring); barrier.Wipe(root) }()
	err := sl.barrier.Hold(func(h *barrier.Held) (err error) {
		ring, root, err = sl.dropOldTerms(ctx, h, req, p, res)
		return err
	})
	if err != nil {
		return nil, err
	}
	active, keys, err := barrier.DecodeKeyring(ring)
	if err != nil {
		return nil, err
	}
	sl.barrier.Replace(barrier.NewKeyring(active, keys, root))
	return res, nil
}

// rewrapPass reseals, chunk by chunk, each under its own lending of the
// keys (so a seal waits for one chunk, not the whole pass), every record
// not under term; it says how many it resealed.
func (sl *Seal) rewrapPass(ctx context.Context, term uint32) (int, error) {
	total := 0
	for _, bucket := range sealedBuckets {
		for from := []byte(nil); ; {
			var next []byte
			err := sl.barrier.Hold(func(h *barrier.Held) (err error) {
				if h.Active() != term { // only a re-key changes it, and rekeyMu holds those off
					return fmt.Errorf("%w: the vault's keys changed while rewrapping; run the rewrap again", access.ErrConflict)
				}
				var n int
				next, n, err = sl.rewrapChunk(ctx, h, bucket, from)
				total += n
				return err
			})
			if err != nil {
				return total, err
			}
			if next == nil {
				break
			}
			from = next
		}
	}
	return total, nil
}

// rewrapChunk reseals up to rewrapChunk records of bucket from key from;
// next is where the next chunk starts (nil: the bucket is done).
func (sl *Seal) rewrapChunk(ctx context.Context, h *barrier.Held, bucket string, from []byte) (next []byte, n int, err error) {
	err = h.Write(ctx, func(tx barrier.Tx) error {
		next, n = nil, 0
		type rec struct{ k, v []byte }
		var recs []rec
		if err := tx.Scan(bucket, from, func(k, v []byte) (bool, error) {
			if len(recs) == rewrapChunk {
				next = bytes.Clone(k)
				return false, nil
			}
			if !(bucket == storage.BucketKeyring && bytes.Equal(k, keyKeyring)) {
				recs = append(recs, rec{bytes.Clone(k), bytes.Clone(v)})
			}
			return true, nil
		}); err != nil {
			return err
		}
		for _, r := range recs { // written after the scan: a cursor is not moved under
			done, err := tx.Reseal(bucket, r.k, r.v)
			if err != nil {
				return fmt.Errorf("vault: rewrap %s: %w", bucket, err)
			}
			if done {
				n++
			}
		}
		return nil
	})
	return next, n, err
}

// dropOldTerms rewrites the keyring with the active term alone, once a
// pass found no record left under another (a write after it can only use
// the active term), and returns it and the root key for the barrier; the
// caller wipes both.
func (sl *Seal) dropOldTerms(ctx context.Context, h *barrier.Held, req auditlog.Request, p *access.Principal,
	res *RewrapResult) (kept, rootCopy []byte, err error) {
	root, err := h.OpenRoot()
	if err != nil {
		return nil, nil, err
	}
	defer root.Destroy()
	err = h.Write(ctx, func(tx barrier.Tx) error {
		blob := tx.Get(storage.BucketKeyring, keyKeyring)
		plain, err := barrier.OpenRecord(root.Bytes(), blob, pathKeyring)
		if err != nil {
			return err
		}
		defer barrier.Wipe(plain)
		active, keys, err := barrier.DecodeKeyring(plain)
		if err != nil {
			return err
		}
		if active != res.Term {
			return fmt.Errorf("%w: another re-key came while rewrapping; run the rewrap again", access.ErrConflict)
		}
		res.Dropped = nil
		for term := range keys {
			if term != active && term != 0 {
				res.Dropped = append(res.Dropped, term)
			}
		}
		slices.Sort(res.Dropped)
		barrier.Wipe(kept)
		keep := map[uint32][]byte{active: keys[active]}
		if sk, ok := keys[0]; ok {
			keep[0] = sk // the state key stays
		}
		kept = barrier.EncodeKeyring(active, keep)
		sealed, err := barrier.SealRecord(root.Bytes(), 0, pathKeyring, kept)
		if err != nil {
			return err
		}
		if err := tx.Put(storage.BucketKeyring, keyKeyring, sealed); err != nil {
			return err
		}
		var dropped []string
		for _, t := range res.Dropped {
			dropped = append(dropped, fmt.Sprint(t))
		}
		return sl.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.EscrowRekey, Target: audit.Target{Kind: "vault"},
			Reason: fmt.Sprintf("rewrap: %d records sealed again under term %d; terms dropped from the keyring: %s",
				res.Resealed, res.Term, strings.Join(dropped, ", "))})
	})
	if err != nil {
		barrier.Wipe(kept)
		return nil, nil, err
	}
	return kept, bytes.Clone(root.Bytes()), nil
}
