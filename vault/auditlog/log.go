package auditlog

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// Meta keys the log keeps.
var (
	keyHead   = []byte("audit.head")   // seq (u64 BE) || hash (32 bytes)
	keyAnchor = []byte("audit.anchor") // the signed checkpoint a pruned log starts from
	// KeyVerifier holds the log's note verifier key (written at init).
	KeyVerifier = []byte("audit.verifier")
)

// ErrHeadBehind refuses an append when the recorded head is behind the
// stored entries (it was put back outside the vault): the entry would be
// written over one already there.
var ErrHeadBehind error = &barrier.RollbackError{Bucket: storage.BucketMeta,
	What: "the audit head is behind the log's last entry, so nothing more can be appended"}

// ActorOf is p as an entry names it (anonymous if nil).
func ActorOf(p *access.Principal) audit.Actor {
	if p == nil {
		return audit.Actor{Name: "anonymous", Role: "anonymous"}
	}
	return audit.Actor{ID: p.UserID, Name: p.Name, Role: string(p.Role)}
}

// System is the actor of what the vault does by itself.
var System = audit.Actor{Name: "strongroom", Role: "system"}

// Event is an audit entry under construction.
type Event struct {
	Actor   audit.Actor
	Action  audit.Action
	Target  audit.Target
	Outcome string // "" is audit.OutcomeOK
	Reason  string
}

// Append appends one entry inside tx. It derives seq and prev from the
// transaction it runs in, so a retried batch function stays correct.
func (l *Log) Append(tx storage.Tx, req Request, ev Event) error {
	seq, prev := uint64(0), audit.ZeroHash
	if h := tx.Get(storage.BucketMeta, keyHead); h != nil {
		if len(h) != 40 {
			return errors.New("auditlog: the audit head is malformed")
		}
		seq, prev = binary.BigEndian.Uint64(h), hex.EncodeToString(h[8:])
	}
	if tx.Peek(storage.BucketAudit, SeqKey(seq+1)) != nil {
		return ErrHeadBehind // never write over an entry
	}
	if ev.Outcome == "" {
		ev.Outcome = audit.OutcomeOK
	}
	e := audit.Entry{Time: l.now(), Actor: ev.Actor, Action: ev.Action, Target: ev.Target,
		Outcome: ev.Outcome, Reason: ev.Reason,
		Client:    audit.Client{IP: req.IP, UserAgent: req.UserAgent},
		RequestID: req.ID}
	e.Seal(seq, prev) // cuts every field to its maximum (audit.MaxReason …)
	if err := tx.Put(storage.BucketAudit, SeqKey(e.Seq), e.Line()); err != nil {
		return fmt.Errorf("vault: audit write: %w", err)
	}
	raw, _ := hex.DecodeString(e.Hash)
	head := binary.BigEndian.AppendUint64(nil, e.Seq)
	return tx.Put(storage.BucketMeta, keyHead, append(head, raw...))
}

// Record commits one audit entry on its own (for refusals and other
// outcomes that change nothing else). Its error must be returned to the
// caller: an unrecorded refusal is an audit failure.
func (l *Log) Record(ctx context.Context, req Request, ev Event) error {
	err := l.store.Update(ctx, func(tx storage.Tx) error { return l.Append(tx, req, ev) })
	if err != nil && ctx.Err() == nil {
		l.NoteFailure(err)
	}
	return err
}

// Deny records a refusal and returns the error for it.
func (l *Log) Deny(ctx context.Context, req Request, p *access.Principal, action audit.Action, target audit.Target, reason string) error {
	if err := l.Record(ctx, req, Event{Actor: ActorOf(p), Action: action, Target: target,
		Outcome: audit.OutcomeDenied, Reason: reason}); err != nil {
		return err
	}
	return &access.ForbiddenError{Action: action, Target: target.Name}
}

// SeqKey is the store key of entry seq.
func SeqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Request is where a call came from, for its entry.
type Request struct {
	IP, UserAgent, ID string
	// Attempt names this one request, made by the server and never by the
	// client (ID may be the client's): the sign-in throttle counts an
	// attempt once by it, however often a group commit runs the write
	// ("" counts every time).
	Attempt string
}

// Log is the audit log in the store: appends in the caller's transaction,
// and everything that reads it in bulk through the outbox (outbox.go).
type Log struct {
	store storage.Store
	now   func() time.Time
	log   *slog.Logger

	chunk     int           // entries per transaction of a long read or delete
	retention time.Duration // how long entries are kept (0: forever); SetRetention
	pause     func(point string)

	failMu   sync.Mutex
	failures []time.Time // appends that failed: they cannot be in the log itself
}

// New is the log kept in store; now gives the time of entries.
func New(store storage.Store, now func() time.Time, logger *slog.Logger) *Log {
	return &Log{store: store, now: now, log: logger, chunk: defaultChunk, pause: func(string) {}}
}

// SetPause sets the interleaving hook: pause(point) runs where a
// read-then-write path has read and is about to write (tests).
func (l *Log) SetPause(pause func(point string)) { l.pause = pause }

// SetChunk sets how many entries one transaction of a long read or delete
// handles (tests walk many chunks of a small log with it).
func (l *Log) SetChunk(n int) { l.chunk = max(n, 1) }

// NoteFailure remembers (in memory, the last 100) and logs that an entry
// could not be written. The request it belonged to failed.
func (l *Log) NoteFailure(err error) {
	l.failMu.Lock()
	l.failures = append(l.failures, l.now())
	if len(l.failures) > 100 {
		l.failures = l.failures[1:]
	}
	l.failMu.Unlock()
	l.log.Error("audit write failed; the request was refused", "err", err)
}

// Failures are the times of the remembered failed appends in [from, to)
// (zero times: all).
func (l *Log) Failures(from, to time.Time) []time.Time {
	l.failMu.Lock()
	defer l.failMu.Unlock()
	var out []time.Time
	for _, t := range l.failures {
		if (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to)) {
			out = append(out, t)
		}
	}
	return out
}

// RecordThen records ev, then answers result (or the failure to record).
func (l *Log) RecordThen(ctx context.Context, req Request, ev Event, result error) error {
	if err := l.Record(ctx, req, ev); err != nil {
		return err
	}
	return result
}
