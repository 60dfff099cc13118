package auditlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/storage"
)

// Retention (SECURITY.md "Retention"): pruning can never become erasure.
//
//   - Only entries older than the configured retention are ever removed,
//     whatever date is asked for; the retention is never below MinRetention.
//   - A person prunes only in two steps: the auditor asks (RequestPrune, an
//     audit.prune_request entry and a pending request in the meta bucket),
//     and a provider or the chairman who is not the requester approves
//     (ApprovePrune), which performs it. The approval re-checks, in the
//     write that prunes, that the request is still pending as read.
//   - The vault itself prunes at the retention (PruneExpired): the council's
//     own setting, run by the server's housekeeping as the system actor.
//   - The audit.prune entry names the range removed and the signed
//     checkpoint at the cut, which becomes the log's anchor.

// MinRetention is the shortest retention a log keeps: one year.
const MinRetention = 365 * 24 * time.Hour

// keyPrunePrefix starts the meta keys of prune requests ("audit.prune/" + id).
const keyPrunePrefix = "audit.prune/"

// Prune request states.
const (
	PrunePending  = "pending"
	PruneApproved = "approved"
)

// PruneRequest is the auditor's request to prune, as stored (JSON in the
// meta bucket) and answered.
type PruneRequest struct {
	ID          string    `json:"id"`
	Before      time.Time `json:"before"` // as asked; the retention may cut earlier
	RequesterID string    `json:"requester_id"`
	Requester   string    `json:"requester"`
	Requested   time.Time `json:"requested"`
	State       string    `json:"state"`
	Approver    string    `json:"approver,omitempty"`
}

// Pruned is what a prune did: entries From to Through were removed (Through
// 0: none was old enough), every one older than Cutoff, and the log now
// starts from Checkpoint, signed at Through.
type Pruned struct {
	Request       *PruneRequest
	From, Through uint64
	Cutoff        time.Time
	Checkpoint    []byte
	Head          string // the hash of entry Through, which Checkpoint signs
}

// SetRetention sets how long entries are kept (0: every entry is kept and
// nothing is ever pruned). A shorter one than MinRetention is raised to it:
// the floor holds whoever configures the log.
func (l *Log) SetRetention(d time.Duration) {
	if d > 0 && d < MinRetention {
		d = MinRetention
	}
	l.retention = d
}

// cutoff is the earlier of before and the retention's limit at now.
func (l *Log) cutoff(before, now time.Time) time.Time {
	limit := now.Add(-l.retention)
	if before.Before(limit) {
		return before
	}
	return limit
}

func pruneKey(id string) []byte { return []byte(keyPrunePrefix + id) }

// RequestPrune records the auditor's request to remove entries older than
// before (and older than the retention); nothing is removed until another
// person approves it.
func (l *Log) RequestPrune(ctx context.Context, req Request, p *access.Principal, before time.Time) (*PruneRequest, error) {
	target := audit.Target{Kind: "audit"}
	if p == nil || p.Role != access.RoleAuditor {
		return nil, l.Deny(ctx, req, p, audit.AuditPruneRequest, target, "only the auditor may ask to prune the audit log")
	}
	if l.retention == 0 {
		return nil, l.RecordThen(ctx, req, Event{Actor: ActorOf(p), Action: audit.AuditPruneRequest, Target: target,
			Outcome: audit.OutcomeDenied, Reason: "this vault keeps every entry (audit retention 0)"},
			access.Invalid("before", "this vault keeps every audit entry (the server runs with --audit-retention 0)"))
	}
	now := l.now()
	r := &PruneRequest{ID: access.NewID(), Before: before.UTC(), RequesterID: p.UserID, Requester: p.Name,
		Requested: now.UTC(), State: PrunePending}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	target.Name = r.ID
	err = access.Commit(ctx, l.store, func(tx storage.Tx) error {
		if err := tx.Put(storage.BucketMeta, pruneKey(r.ID), raw); err != nil {
			return err
		}
		return l.Append(tx, req, Event{Actor: ActorOf(p), Action: audit.AuditPruneRequest, Target: target,
			Reason: fmt.Sprintf("asks to remove entries older than %s; with the retention of %s nothing after %s can go; a provider or the chairman who is not the requester approves",
				r.Before.Format(time.RFC3339), l.retention, l.cutoff(r.Before, now).UTC().Format(time.RFC3339))})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ApprovePrune performs the pending request id: only a provider or the
// chairman, never its requester. What is removed is decided now: entries
// older than both the date asked and the retention.
func (l *Log) ApprovePrune(ctx context.Context, req Request, p *access.Principal, id string, keys Keys) (*Pruned, error) {
	target := audit.Target{Kind: "audit", Name: id}
	if p == nil || (p.Role != access.RoleProvider && p.Role != access.RoleChairman) {
		return nil, l.Deny(ctx, req, p, audit.AuditPrune, target, "only a provider or the chairman approves a prune")
	}
	refuse := func(reason string, answer error) (*Pruned, error) {
		return nil, l.RecordThen(ctx, req, Event{Actor: ActorOf(p), Action: audit.AuditPrune, Target: target,
			Outcome: audit.OutcomeDenied, Reason: reason}, answer)
	}
	var raw []byte
	if err := l.store.View(ctx, func(tx storage.Tx) error { raw = tx.Get(storage.BucketMeta, pruneKey(id)); return nil }); err != nil {
		return nil, err
	}
	var r PruneRequest
	if raw == nil || json.Unmarshal(raw, &r) != nil {
		return refuse("no such prune request", fmt.Errorf("%w: prune request %s", access.ErrNotFound, id))
	}
	switch {
	case r.State != PrunePending:
		return refuse("the prune request was already "+r.State, fmt.Errorf("%w: prune request %s was already %s", access.ErrConflict, id, r.State))
	case r.RequesterID == p.UserID:
		return nil, l.Deny(ctx, req, p, audit.AuditPrune, target, "the requester may not approve their own prune")
	case l.retention == 0:
		return refuse("this vault keeps every entry (audit retention 0)",
			access.Invalid("", "this vault keeps every audit entry (the server runs with --audit-retention 0)"))
	}
	l.pause("prune.approve")
	r.State, r.Approver = PruneApproved, p.Name
	settled, err := json.Marshal(&r)
	if err != nil {
		return nil, err
	}
	pending := func(tx storage.Tx) error {
		if tx.Expect(storage.BucketMeta, pruneKey(id), raw) {
			return nil
		}
		if err := l.Append(tx, req, Event{Actor: ActorOf(p), Action: audit.AuditPrune, Target: target,
			Outcome: audit.OutcomeDenied, Reason: "the prune request was settled meanwhile"}); err != nil {
			return err
		}
		return access.Recorded(fmt.Errorf("%w: prune request %s was settled meanwhile", access.ErrConflict, id))
	}
	res, err := l.pruneTo(ctx, l.cutoff(r.Before, l.now()), keys, pending, func(tx storage.Tx, res *Pruned) error {
		if err := tx.Put(storage.BucketMeta, pruneKey(id), settled); err != nil {
			return err
		}
		return l.Append(tx, req, Event{Actor: ActorOf(p), Action: audit.AuditPrune, Target: target,
			Reason: fmt.Sprintf("approved the request of %s (%s, before %s): %s", r.Requester, r.RequesterID,
				r.Before.Format(time.RFC3339), res.describe())})
	})
	if res != nil {
		res.Request = &r
	}
	return res, err
}

// PruneExpired removes the entries older than the retention, as the
// vault's own housekeeping (the system actor). With retention 0 it does
// nothing.
func (l *Log) PruneExpired(ctx context.Context, req Request, keys Keys) (*Pruned, error) {
	if l.retention == 0 {
		return &Pruned{}, nil
	}
	return l.pruneExpiredAt(ctx, req, l.now().Add(-l.retention), keys)
}

func (l *Log) pruneExpiredAt(ctx context.Context, req Request, cutoff time.Time, keys Keys) (*Pruned, error) {
	return l.pruneTo(ctx, cutoff, keys, nil, func(tx storage.Tx, res *Pruned) error {
		return l.Append(tx, req, Event{Actor: System, Action: audit.AuditPrune, Target: audit.Target{Kind: "audit"},
			Reason: "retention: " + res.describe()})
	})
}

// describe says what a prune did, for its entry: the range, the cutoff and
// the checkpoint at the cut.
func (res *Pruned) describe() string {
	cutoff := res.Cutoff.UTC().Format(time.RFC3339)
	if res.Through == 0 {
		return fmt.Sprintf("no entry is older than %s; nothing removed", cutoff)
	}
	signed := ""
	if text, _, ok := strings.Cut(string(res.Checkpoint), "\n\n"); ok {
		if cp, err := audit.ParseCheckpoint(text + "\n"); err == nil {
			signed = ", signed " + cp.Time.UTC().Format(time.RFC3339)
		}
	}
	return fmt.Sprintf("removed entries seq %d to %d, older than %s; the log now starts from the checkpoint at seq %d (head %s%s)",
		res.From, res.Through, cutoff, res.Through, res.Head, signed)
}

// pruneTo cuts the log after its last entry older than cutoff. Where the cut
// falls is read in chunks; then one short write, guarded on that entry and
// the old anchor as read, signs the checkpoint at the cut, makes it the
// anchor and runs settle (which records the prune); then the deletion, in
// chunks. guard, if set, checks first in that write what its caller read (an
// answer, before anything is written); with it, the write runs even when
// there is nothing to cut, to settle the request.
func (l *Log) pruneTo(ctx context.Context, cutoff time.Time, keys Keys, guard func(storage.Tx) error, settle func(storage.Tx, *Pruned) error) (*Pruned, error) {
	res := &Pruned{Cutoff: cutoff}
	var anchor, cutLine []byte
	var floor uint64
	err := l.store.View(ctx, func(tx storage.Tx) (err error) { anchor, floor, err = logStart(tx); return err })
	if err != nil {
		return nil, err
	}
	err = l.eachEntry(ctx, floor, 0, func(l auditLine) error {
		e, err := audit.ParseLine(l.line)
		if err != nil {
			return fmt.Errorf("vault: stored entry unreadable: %w", err)
		}
		if !e.Time.Before(cutoff) {
			return errStop
		}
		res.Through, cutLine = e.Seq, l.line
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if res.Through == 0 && guard == nil {
		return res, l.deletePruned(ctx)
	}
	res.From = floor + 1
	err = keys(func(sign Signer) error {
		return access.Commit(ctx, l.store, func(tx storage.Tx) error {
			if guard != nil {
				if err := guard(tx); err != nil {
					return err
				}
			}
			if res.Through == 0 {
				return settle(tx, res)
			}
			if !tx.Expect(storage.BucketAudit, SeqKey(res.Through), cutLine) || !tx.Expect(storage.BucketMeta, keyAnchor, anchor) {
				return fmt.Errorf("%w: the audit log was pruned meanwhile", access.ErrConflict)
			}
			e, _ := audit.ParseLine(cutLine)
			// The log is never left empty: the audit.prune entry follows the cut.
			signed, err := l.signCheckpoint(tx, sign, res.Through, e.Hash)
			if err != nil {
				return err
			}
			res.Checkpoint, res.Head = signed, e.Hash
			if err := tx.Put(storage.BucketMeta, keyAnchor, signed); err != nil {
				return err
			}
			return settle(tx, res)
		})
	})
	if err != nil {
		return nil, err
	}
	return res, l.deletePruned(ctx)
}
