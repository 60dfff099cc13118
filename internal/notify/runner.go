package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"strongroom/audit"
)

// Source is a named subscriber of the audit log (*vault.Subscriber).
type Source interface {
	Next(ctx context.Context, limit int) ([]*audit.Entry, error)
	Ack(ctx context.Context, seq uint64) error
	Pending(ctx context.Context) (uint64, error)
}

// Destination delivers a batch of committed entries, oldest first. It
// returns nil once every message the batch makes was accepted or refused
// for good (refused counts those), and an error to have the whole batch
// tried again later; a destination may remember what it already sent of
// a batch so that a retry does not send it twice. ErrNotReady says it
// cannot start yet (the vault is sealed and the addresses are in sealed
// records): the Runner waits without counting a failure.
type Destination interface {
	Deliver(ctx context.Context, batch []*audit.Entry) (refused int, err error)
}

// Taker is a destination that may take only the first part of a batch
// now (the weekly digest, which waits for its week to end): Take returns
// how many entries to deliver and acknowledge; 0 leaves them all waiting,
// which is not a failure.
type Taker interface {
	Take(batch []*audit.Entry) int
}

// ErrNotReady: the destination cannot deliver yet, and nothing failed.
var ErrNotReady = errors.New("notify: not ready")

// PublicError is an error with a fixed sentence that is safe to show in
// status (it quotes no server reply and no input).
type PublicError interface{ Public() string }

// deliveryError is a destination's failure: a fixed public sentence, and
// the cause for the server's log only. A cause never carries a webhook
// URL (a bearer secret to chat services) or a password.
type deliveryError struct {
	public string
	err    error
}

func (e *deliveryError) Error() string  { return "notify: " + e.public + ": " + e.err.Error() }
func (e *deliveryError) Unwrap() error  { return e.err }
func (e *deliveryError) Public() string { return e.public }

// Status is what status and /metrics show of one destination.
type Status struct {
	Name      string    `json:"name"`
	Delivered uint64    `json:"delivered"` // entries delivered and acknowledged
	Failures  uint64    `json:"failures"`  // failed delivery attempts
	Refused   uint64    `json:"refused"`   // messages refused for good
	Pending   uint64    `json:"pending"`   // entries waiting (queue depth)
	Failing   int       `json:"failing"`   // failures in a row now
	LastError string    `json:"last_error,omitempty"`
	LastOK    time.Time `json:"last_ok,omitzero"`
	LastFail  time.Time `json:"last_failure,omitzero"`
	Waiting   bool      `json:"waiting,omitempty"` // not ready (vault sealed)
	// FailingSince is when the failures in a row began (zero while
	// delivering).
	FailingSince time.Time `json:"failing_since,omitzero"`
}

// Runner moves entries from one Source to one Destination until its
// context ends.
type Runner struct {
	Name   string
	Source Source
	Dest   Destination
	Log    *slog.Logger
	// Poll is how often the log is read for new entries (default 2s); a
	// second's wait also groups entries that arrive together.
	Poll time.Duration
	// Batch is the most entries delivered at once (default 100).
	Batch int
	// MinBackoff and MaxBackoff bound the wait after a failure (defaults
	// 1s and 5 minutes); it doubles with each failure in a row.
	MinBackoff, MaxBackoff time.Duration

	mu sync.Mutex
	st Status
}

// Status returns a copy of the runner's counters.
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Name = r.Name
	return st
}

func (r *Runner) update(fn func(*Status)) {
	r.mu.Lock()
	fn(&r.st)
	r.mu.Unlock()
}

func (r *Runner) defaults() {
	if r.Poll <= 0 {
		r.Poll = 2 * time.Second
	}
	if r.Batch <= 0 {
		r.Batch = 100
	}
	if r.MinBackoff <= 0 {
		r.MinBackoff = time.Second
	}
	if r.MaxBackoff < r.MinBackoff {
		r.MaxBackoff = max(5*time.Minute, r.MinBackoff)
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
}

// Run delivers until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	r.defaults()
	backoff := r.MinBackoff
	for {
		wait, failed := r.Poll, false
		n, err := r.step(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrNotReady):
			r.update(func(s *Status) { s.Waiting = true })
		case err != nil:
			failed, wait = true, backoff
			backoff = min(2*backoff, r.MaxBackoff)
		case n == r.Batch:
			wait = 0 // more are waiting
		}
		if !failed {
			backoff = r.MinBackoff
		}
		if p, err := r.Source.Pending(ctx); err == nil {
			r.update(func(s *Status) { s.Pending = p })
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// step reads one batch and delivers it; it returns how many entries it
// delivered.
func (r *Runner) step(ctx context.Context) (int, error) {
	batch, err := r.Source.Next(ctx, r.Batch)
	if err != nil || len(batch) == 0 {
		if err != nil && ctx.Err() == nil {
			r.Log.Error("delivery: reading the audit log failed", "destination", r.Name, "err", err)
		}
		return 0, err
	}
	if t, ok := r.Dest.(Taker); ok {
		if batch = batch[:t.Take(batch)]; len(batch) == 0 {
			return 0, nil
		}
	}
	refused, err := r.Dest.Deliver(ctx, batch)
	if err == nil {
		err = r.Source.Ack(ctx, batch[len(batch)-1].Seq)
	}
	switch {
	case errors.Is(err, ErrNotReady):
		return 0, err
	case err != nil:
		if ctx.Err() != nil {
			return 0, err
		}
		public := "delivery failed"
		var pe PublicError
		if errors.As(err, &pe) {
			public = pe.Public()
		}
		r.Log.Warn("delivery failed; will try again", "destination", r.Name,
			"from_seq", batch[0].Seq, "through_seq", batch[len(batch)-1].Seq, "err", err)
		now := time.Now()
		r.update(func(s *Status) {
			if s.Failing == 0 {
				s.FailingSince = now
			}
			s.Failures++
			s.Failing++
			s.Refused += uint64(refused)
			s.LastError, s.LastFail, s.Waiting = public, now, false
		})
		return 0, err
	}
	r.update(func(s *Status) {
		s.Delivered += uint64(len(batch))
		s.Refused += uint64(refused)
		s.Failing, s.LastOK, s.Waiting, s.FailingSince = 0, time.Now(), false, time.Time{}
	})
	return len(batch), nil
}
