package auditlog

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/storage"
)

// The audit log as an outbox: everything that reads the log in bulk
// (exports, the web audit page, incidents, reports, prune, notifiers)
// reads it through since, in bounded chunks, each chunk its own short read
// transaction, and does its slow work (a client's download, a delivery)
// between transactions, never inside one.

// defaultChunk is how many entries one transaction reads or deletes.
const defaultChunk = 1000

// auditLine is one stored entry: its seq and its exact stored line.
type auditLine struct {
	seq  uint64
	line []byte
}

// since returns up to limit entries with seq > after and seq <= upTo (0:
// no bound), in seq order, from one short read transaction.
func (l *Log) since(ctx context.Context, after, upTo uint64, limit int) ([]auditLine, error) {
	var out []auditLine
	err := l.store.View(ctx, func(tx storage.Tx) error {
		return tx.Scan(storage.BucketAudit, SeqKey(after+1), func(k, val []byte) (bool, error) {
			seq := binary.BigEndian.Uint64(k)
			if upTo > 0 && seq > upTo {
				return false, nil
			}
			out = append(out, auditLine{seq, val})
			return len(out) < limit, nil
		})
	})
	return out, err
}

// eachEntry calls fn for every entry with seq > after up to upTo, in seq
// order, reading l.chunk entries per transaction; fn runs outside any
// transaction. The entries must be contiguous: a gap means they were
// pruned (or cut) while the walk went on, and the walk fails rather than
// give a log with a hole in it.
func (l *Log) eachEntry(ctx context.Context, after, upTo uint64, fn func(auditLine) error) error {
	next := after + 1
	for {
		chunk, err := l.since(ctx, next-1, upTo, l.chunk)
		if err != nil {
			return err
		}
		for _, l := range chunk {
			if l.seq != next {
				return fmt.Errorf("vault: audit entries %d to %d went missing during the read (pruned meanwhile?); read again", next, l.seq-1)
			}
			if err := fn(l); err != nil {
				return err
			}
			next++
		}
		if len(chunk) < l.chunk || (upTo > 0 && next > upTo) {
			return nil
		}
	}
}

// logStart returns the signed anchor a pruned log starts from (nil if it
// was never pruned) and the seq the stored log continues after: entries
// at or below it are covered by the anchor, and may still be stored while
// a prune deletes them in chunks.
func logStart(tx storage.Tx) (anchor []byte, after uint64, err error) {
	anchor = tx.Get(storage.BucketMeta, keyAnchor)
	if anchor == nil {
		return nil, 0, nil
	}
	cp, err := openAnchor(tx, anchor)
	if err != nil {
		return nil, 0, err
	}
	return anchor, cp.Size, nil
}

// openAnchor opens the signed anchor with the audit key of its era: the
// current key, or, for an anchor signed before a re-key rotated the key,
// the old key of a stored key transition at or after its size.
func openAnchor(tx storage.Tx, anchor []byte) (*audit.Checkpoint, error) {
	cp, err := audit.OpenCheckpoint(anchor, string(tx.Get(storage.BucketMeta, KeyVerifier)))
	if err == nil {
		return cp, nil
	}
	trans, terr := Transitions(tx, 0)
	for i := len(trans) - 1; terr == nil && i >= 0; i-- {
		kt, kerr := audit.OpenTransition(trans[i])
		if kerr != nil {
			continue
		}
		if old, oerr := audit.OpenCheckpoint(anchor, kt.Old); oerr == nil && old.Size <= kt.Seq {
			return old, nil
		}
	}
	return nil, fmt.Errorf("vault: the audit log's anchor does not verify: %w", err)
}

// AuditPage is one page of the log, newest first.
type AuditPage struct {
	Entries []*audit.Entry
	// Before is the seq to ask for the next (older) page; 0 if none.
	Before uint64
	// Scanned is how many entries were read to fill the page.
	Scanned int
}

// ReadPage returns up to limit entries matching f with seq < before
// (0: from the newest), newest first, reading at most maxScan entries in
// short transactions, so a view never holds the whole log. The read is
// recorded (audit.view) when it starts from the newest.
func (l *Log) ReadPage(ctx context.Context, req Request, p *access.Principal, f Filter, before uint64, limit int) (*AuditPage, error) {
	target := audit.Target{Kind: "audit"}
	if !access.MayReadLog(p) {
		return nil, l.Deny(ctx, req, p, audit.AuditView, target, "role may not read the audit log")
	}
	if limit < 1 || limit > 1000 {
		return nil, access.Invalid("limit", "limit must be 1 to 1000")
	}
	if before == 0 {
		if err := l.Record(ctx, req, Event{Actor: ActorOf(p), Action: audit.AuditView, Target: target, Reason: describe(f, "page")}); err != nil {
			return nil, err
		}
	}
	const maxScan = 50_000
	pg := &AuditPage{}
	cursor := before
	for pg.Scanned < maxScan && len(pg.Entries) < limit {
		var chunk []auditLine
		err := l.store.View(ctx, func(tx storage.Tx) error {
			_, floor, err := logStart(tx)
			if err != nil {
				return err
			}
			var from []byte
			if cursor > 0 {
				from = SeqKey(cursor)
			}
			return tx.ScanBack(storage.BucketAudit, from, func(k, val []byte) (bool, error) {
				seq := binary.BigEndian.Uint64(k)
				if seq <= floor {
					return false, nil
				}
				chunk = append(chunk, auditLine{seq, val})
				return len(chunk) < l.chunk, nil
			})
		})
		if err != nil {
			return nil, err
		}
		for _, l := range chunk {
			if len(pg.Entries) == limit {
				break
			}
			pg.Scanned++
			cursor = l.seq
			e, err := audit.ParseLine(l.line)
			if err != nil {
				return nil, fmt.Errorf("vault: stored entry %d unreadable: %w", l.seq, err)
			}
			if f.Match(e) {
				pg.Entries = append(pg.Entries, e)
			}
		}
		if len(pg.Entries) < limit && len(chunk) < l.chunk {
			cursor = 0 // the oldest entry has been read
			break
		}
	}
	if cursor > 1 {
		pg.Before = cursor
	}
	return pg, nil
}

// Subscriber reads the log for one named consumer (a notifier: e-mail,
// webhook, syslog) from a position saved in the store, so that every
// entry is delivered at least once, in order, after it committed, and a
// restart resumes where it stopped: read with Next, deliver, then Ack.
type Subscriber struct {
	l   *Log
	key []byte
}

// Subscriber returns the subscriber called name (1 to 40 of a-z, 0-9 and
// -); its position starts at 0, before the first entry.
func (l *Log) Subscriber(name string) (*Subscriber, error) {
	if len(name) < 1 || len(name) > 40 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return nil, access.Invalid("name", "a subscriber name is 1 to 40 of a-z, 0-9 and -")
	}
	return &Subscriber{l: l, key: []byte("outbox/" + name)}, nil
}

// Position is the seq of the last entry acknowledged.
func (s *Subscriber) Position(ctx context.Context) (pos uint64, err error) {
	err = s.l.store.View(ctx, func(tx storage.Tx) error {
		pos, err = position(tx, s.key)
		return err
	})
	return pos, err
}

func position(tx storage.Tx, key []byte) (uint64, error) {
	b := tx.Peek(storage.BucketMeta, key)
	switch len(b) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("vault: the position of %s is malformed", key)
}

// Next returns up to limit entries after the saved position, oldest
// first. Entries a prune removed before they were delivered are skipped:
// the first entry returned then follows the log's anchor.
func (s *Subscriber) Next(ctx context.Context, limit int) ([]*audit.Entry, error) {
	var after, head uint64
	var bad []byte
	err := s.l.store.View(ctx, func(tx storage.Tx) error {
		pos, err := position(tx, s.key)
		if err != nil {
			return err
		}
		_, floor, err := logStart(tx)
		after = max(pos, floor)
		if head, _ = Head(tx); pos > head {
			bad = tx.Get(storage.BucketMeta, s.key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if bad != nil {
		// Positions are outside the state seal (they move while sealed) and
		// Ack never saves one past the head: one beyond it was set outside
		// the vault, and would silence this subscriber for good. It is put
		// back at the head, so that what comes next is delivered.
		s.l.log.Warn("an outbox position is past the log's head (changed outside the vault); delivering from the head",
			"subscriber", string(s.key), "head", head)
		err := access.Commit(ctx, s.l.store, func(tx storage.Tx) error {
			if !tx.Expect(storage.BucketMeta, s.key, bad) {
				return nil
			}
			return tx.Put(storage.BucketMeta, s.key, binary.BigEndian.AppendUint64(nil, head))
		})
		if err != nil {
			return nil, err
		}
		after = head
	}
	lines, err := s.l.since(ctx, after, 0, min(max(limit, 1), s.l.chunk))
	if err != nil {
		return nil, err
	}
	out := make([]*audit.Entry, 0, len(lines))
	for _, l := range lines {
		e, err := audit.ParseLine(l.line)
		if err != nil {
			return nil, fmt.Errorf("vault: stored entry %d unreadable: %w", l.seq, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Ack saves seq as delivered. The position only moves forward, and never
// past the log's head.
func (s *Subscriber) Ack(ctx context.Context, seq uint64) error {
	return access.Commit(ctx, s.l.store, func(tx storage.Tx) error {
		pos, err := position(tx, s.key)
		if err != nil || seq <= pos {
			return err
		}
		if head, _ := Head(tx); seq > head {
			return access.Invalid("seq", "seq %d is past the log's head (%d)", seq, head)
		}
		return tx.Put(storage.BucketMeta, s.key, binary.BigEndian.AppendUint64(nil, seq))
	})
}

// Pending is how many entries after the saved position are waiting to be
// delivered (the subscriber's queue depth), from one short read.
func (s *Subscriber) Pending(ctx context.Context) (n uint64, err error) {
	err = s.l.store.View(ctx, func(tx storage.Tx) error {
		pos, err := position(tx, s.key)
		if err != nil {
			return err
		}
		_, floor, err := logStart(tx)
		head, _ := Head(tx)
		if after := max(pos, floor); head > after {
			n = head - after
		}
		return err
	})
	return n, err
}

// StartAtHead gives a subscriber that has never saved a position the
// log's head as its position, so a destination set up on a vault with a
// history is sent what happens from then on, not the whole past. It
// reports whether it did; a saved position is left as it is.
func (s *Subscriber) StartAtHead(ctx context.Context) (started bool, err error) {
	err = access.Commit(ctx, s.l.store, func(tx storage.Tx) error {
		started = false
		if tx.Peek(storage.BucketMeta, s.key) != nil {
			return nil
		}
		head, _ := Head(tx)
		started = true
		return tx.Put(storage.BucketMeta, s.key, binary.BigEndian.AppendUint64(nil, head))
	})
	return started, err
}

// Restart moves the subscriber's position to the log's head, whatever it
// was: for a consumer that counts only what happens while it runs (the
// metrics' incident counter).
func (s *Subscriber) Restart(ctx context.Context) error {
	return access.Commit(ctx, s.l.store, func(tx storage.Tx) error {
		head, _ := Head(tx)
		return tx.Put(storage.BucketMeta, s.key, binary.BigEndian.AppendUint64(nil, head))
	})
}
