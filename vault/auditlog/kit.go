package auditlog

import (
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/storage"
)

// The auditor's toolkit: signed checkpoints, filtered exports, incidents,
// subject access and retention. Reading any of it is for the auditor and the
// provider, and is itself recorded.

// signCheckpoint signs (size, hash) now and stores it in the checkpoints bucket.
//
// sign gives the log's signing key and the checkpoint's origin; it reads
// them in tx, through the barrier, so the caller holds the vault's keys
// for as long as the write runs.
// Signer gives, in tx, the audit signing key and the origin line of the
// log's checkpoints ("strongroom/<vault id in hex>").
type Signer func(tx storage.Tx) (note.Signer, string, error)

// Keys runs fn with a Signer while the vault's keys are held (failing if
// the vault is sealed). The log calls it around the one short write that
// signs, never around a long read, so a slow export does not hold up a
// seal.
type Keys func(fn func(Signer) error) error

func (l *Log) signCheckpoint(tx storage.Tx, sign Signer, size uint64, hash string) ([]byte, error) {
	signer, origin, err := sign(tx)
	if err != nil {
		return nil, err
	}
	cp := &audit.Checkpoint{Origin: origin,
		Size: size, Head: hash, Time: l.now().Truncate(time.Second)}
	signed, err := audit.SignCheckpoint(cp, signer)
	if err != nil {
		return nil, err
	}
	return signed, tx.Put(storage.BucketCheckpoints, SeqKey(size), signed)
}

// Checkpoint records the request, then signs a checkpoint that includes it.
func (l *Log) Checkpoint(ctx context.Context, req Request, p *access.Principal, keys Keys) ([]byte, error) {
	target := audit.Target{Kind: "audit"}
	if !access.MayReadLog(p) {
		return nil, l.Deny(ctx, req, p, audit.AuditCheckpoint, target, "role may not read the audit log")
	}
	var signed []byte
	err := keys(func(sign Signer) error {
		return access.Commit(ctx, l.store, func(tx storage.Tx) (err error) {
			if err := l.Append(tx, req, Event{Actor: ActorOf(p), Action: audit.AuditCheckpoint, Target: target}); err != nil {
				return err
			}
			seq, hash := Head(tx)
			signed, err = l.signCheckpoint(tx, sign, seq, hash)
			return err
		})
	})
	return signed, err
}

// AutoCheckpoint signs a checkpoint if the log grew since the last one. It
// writes no entry of its own, so a quiet vault stays quiet.
func (l *Log) AutoCheckpoint(ctx context.Context, keys Keys) (bool, error) {
	cut := false
	err := keys(func(sign Signer) error {
		return access.Commit(ctx, l.store, func(tx storage.Tx) error {
			cut = false
			seq, hash := Head(tx)
			last := uint64(0)
			_ = tx.Scan(storage.BucketCheckpoints, nil, func(k, _ []byte) (bool, error) {
				last = binary.BigEndian.Uint64(k)
				return true, nil
			})
			if seq == 0 || seq <= last {
				return nil
			}
			cut = true
			_, err := l.signCheckpoint(tx, sign, seq, hash)
			return err
		})
	})
	return cut, err
}

// LatestCheckpoint returns the newest signed checkpoint (a signed note,
// as `audit checkpoint` prints it), or nil if none was signed yet. It
// records nothing: the weekly digest attaches it for the auditor.
func (l *Log) LatestCheckpoint(ctx context.Context) ([]byte, error) {
	var out []byte
	err := l.store.View(ctx, func(tx storage.Tx) error {
		return tx.ScanBack(storage.BucketCheckpoints, nil, func(_, v []byte) (bool, error) {
			out = v // ScanBack copies
			return false, nil
		})
	})
	return out, err
}

// Filter selects entries. Empty fields match everything. Action may end in
// "*" to match a prefix ("cred.*").
type Filter struct {
	From, To                       time.Time
	Actor, Action, Target, Outcome string
	// Subject matches entries by or about one person (name or id).
	Subject, SubjectID string
	// Seq, if set, matches that one entry.
	Seq uint64
}

// Empty reports whether the filter selects everything.
func (f Filter) Empty() bool { return f == Filter{} }

// Match applies the filter to an entry.
func (f Filter) Match(e *audit.Entry) bool {
	eq := func(want, name, id string) bool {
		return want == "" || strings.EqualFold(want, name) || (id != "" && want == id)
	}
	switch {
	case !f.From.IsZero() && e.Time.Before(f.From), !f.To.IsZero() && !e.Time.Before(f.To):
		return false
	case !eq(f.Actor, e.Actor.Name, e.Actor.ID), !eq(f.Target, e.Target.Name, e.Target.ID):
		return false
	case f.Outcome != "" && f.Outcome != e.Outcome, f.Seq != 0 && f.Seq != e.Seq:
		return false
	case f.Action != "" && !(f.Action == string(e.Action) || strings.HasSuffix(f.Action, "*") && strings.HasPrefix(string(e.Action), strings.TrimSuffix(f.Action, "*"))):
		return false
	}
	if f.Subject != "" {
		by := strings.EqualFold(e.Actor.Name, f.Subject) || (f.SubjectID != "" && e.Actor.ID == f.SubjectID)
		about := e.Target.Kind == "user" && (strings.EqualFold(e.Target.Name, f.Subject) || (f.SubjectID != "" && e.Target.ID == f.SubjectID))
		return by || about
	}
	return true
}

// Export formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// Export is an export that has been recorded and, for JSONL, closed by a
// signed checkpoint; WriteTo writes it.
type Export struct {
	l       *Log
	f       Filter
	format  string
	upTo    uint64
	closing []byte
}

// BeginExport records an export of the log, and WriteTo writes it. JSONL is verifiable: with a filter, every
// entry that does not match is written as a redacted line (seq, digest,
// prev, hash), so the export still chains to a signed checkpoint while
// showing only what was asked for; a pruned log starts with its signed
// anchor. CSV holds the matching entries only, for spreadsheets. The
// export is recorded first (action names the kind: audit.export or
// audit.subject), so an unfiltered export includes its own entry.
//
// BeginExport is one short write (the keys are held only for it); WriteTo
// reads the entries up
// to the head pinned then, chunk by chunk, writing to w between read
// transactions.
func (l *Log) BeginExport(ctx context.Context, req Request, p *access.Principal, f Filter, format string, keys Keys) (*Export, error) {
	action := audit.AuditExport
	target := audit.Target{Kind: "audit"}
	if f.Subject != "" {
		action, target = audit.AuditSubject, audit.Target{Kind: "user", ID: f.SubjectID, Name: f.Subject}
	}
	if !access.MayReadLog(p) {
		return nil, l.Deny(ctx, req, p, action, target, "role may not read the audit log")
	}
	if format != FormatJSONL && format != FormatCSV {
		return nil, access.Invalid("format", "format must be jsonl or csv")
	}
	// Record the export and, for JSONL, sign the head it will end at, in one
	// transaction: the export is closed by that signature, so nothing can be
	// appended to a copy of it unnoticed.
	ex := &Export{l: l, f: f, format: format}
	err := keys(func(sign Signer) error {
		return access.Commit(ctx, l.store, func(tx storage.Tx) (err error) {
			if err := l.Append(tx, req, Event{Actor: ActorOf(p), Action: action, Target: target, Reason: describe(f, format)}); err != nil {
				return err
			}
			var hash string
			ex.upTo, hash = Head(tx)
			if format == FormatJSONL {
				ex.closing, err = l.signCheckpoint(tx, sign, ex.upTo, hash)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return ex, nil
}

// WriteTo writes the export to w.
func (ex *Export) WriteTo(ctx context.Context, w io.Writer) error {
	l, f := ex.l, ex.f
	var cw *csv.Writer
	if ex.format == FormatCSV {
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{"seq", "time", "actor", "actor_role", "action", "target_kind", "target", "outcome", "reason", "client_ip", "request_id"})
	}
	var anchor []byte
	var trans [][]byte
	var after uint64
	if err := l.store.View(ctx, func(tx storage.Tx) (err error) {
		if anchor, after, err = logStart(tx); err != nil {
			return err
		}
		trans, err = Transitions(tx, ex.upTo)
		return err
	}); err != nil {
		return err
	}
	for _, t := range trans {
		if ex.format != FormatJSONL {
			break
		}
		if _, err := w.Write(append(audit.TransitionLine(t), '\n')); err != nil {
			return err
		}
	}
	if ex.format == FormatJSONL && anchor != nil {
		line := audit.AnchorLine(anchor)
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	err := l.eachEntry(ctx, after, ex.upTo, func(e auditLine) error {
		return exportLine(w, cw, f, e.line)
	})
	if err == nil && ex.closing != nil {
		line := audit.ClosingLine(ex.closing)
		_, err = w.Write(append(line, '\n'))
	}
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	return err
}

// exportLine writes one stored entry as ExportAudit shows it.
func exportLine(w io.Writer, cw *csv.Writer, f Filter, val []byte) error {
	if f.Empty() && cw == nil {
		_, err := w.Write(append(val, '\n'))
		return err
	}
	e, err := audit.ParseLine(val)
	if err != nil {
		return fmt.Errorf("vault: stored entry unreadable: %w", err)
	}
	match := f.Match(e)
	switch {
	case cw != nil && match:
		return cw.Write(csvRow(e))
	case cw != nil:
		return nil
	case match:
		_, err = w.Write(append(val, '\n'))
	default:
		_, err = w.Write(append(audit.Redact(e).Line(), '\n'))
	}
	return err
}

func csvRow(e *audit.Entry) []string {
	return []string{strconv.FormatUint(e.Seq, 10), e.Time.Format(time.RFC3339), e.Actor.Name, e.Actor.Role, string(e.Action),
		e.Target.Kind, e.Target.Name, e.Outcome, e.Reason, e.Client.IP, e.RequestID}
}

func describe(f Filter, format string) string {
	var parts []string
	if !f.From.IsZero() {
		parts = append(parts, "from "+f.From.Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		parts = append(parts, "to "+f.To.Format(time.RFC3339))
	}
	for _, kv := range [][2]string{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}, {"outcome", f.Outcome}, {"subject", f.Subject}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	return strings.TrimSpace(format + " " + strings.Join(parts, ", "))
}

// Incident is one security incident found in the log.
type Incident struct {
	Seq     uint64             `json:"seq"`
	Time    time.Time          `json:"time"`
	Kind    audit.IncidentKind `json:"kind"`
	Actor   audit.Actor        `json:"actor"`
	Action  audit.Action       `json:"action"`
	Target  audit.Target       `json:"target"`
	Outcome string             `json:"outcome"`
	Reason  string             `json:"reason"`
	// Entries are the seqs of the entries this incident rests on; Link
	// fetches them as a verifiable export.
	Entries []uint64 `json:"entries"`
	Link    string   `json:"link"`
}

// Incidents lists the incidents in [from, to) (zero times: all).
func (l *Log) Incidents(ctx context.Context, req Request, p *access.Principal, from, to time.Time) ([]Incident, error) {
	target := audit.Target{Kind: "audit"}
	if !access.MayReadLog(p) {
		return nil, l.Deny(ctx, req, p, audit.AuditIncidents, target, "role may not read the audit log")
	}
	if err := l.Record(ctx, req, Event{Actor: ActorOf(p), Action: audit.AuditIncidents, Target: target}); err != nil {
		return nil, err
	}
	out := []Incident{}
	f := Filter{From: from, To: to}
	for _, t := range l.Failures(from, to) {
		out = append(out, Incident{Time: t, Kind: audit.IncidentWriteFailure, Action: audit.AuditWrite, Outcome: audit.OutcomeError,
			Reason:  "an audit entry could not be written, so its request was refused (kept in memory since the server started; see the server log)",
			Entries: []uint64{}})
	}
	var after uint64
	if err := l.store.View(ctx, func(tx storage.Tx) (err error) { _, after, err = logStart(tx); return err }); err != nil {
		return nil, err
	}
	err := l.eachEntry(ctx, after, 0, func(line auditLine) error {
		e, err := audit.ParseLine(line.line)
		if err != nil {
			return fmt.Errorf("vault: stored entry unreadable: %w", err)
		}
		if f.Match(e) && audit.IsIncident(e) {
			out = append(out, Incident{Seq: e.Seq, Time: e.Time, Kind: audit.KindOf(e), Actor: e.Actor, Action: e.Action,
				Target: e.Target, Outcome: e.Outcome, Reason: e.Reason, Entries: []uint64{e.Seq},
				Link: fmt.Sprintf("/v1/audit?seq=%d", e.Seq)})
		}
		return nil
	})
	return out, err
}

// deletePruned deletes the stored entries the anchor covers, l.chunk
// per transaction. Until it has finished (or if it was cut short, when the
// next prune finishes it) readers skip them: the log starts after the
// anchor (logStart).
func (l *Log) deletePruned(ctx context.Context) error {
	for {
		var done bool
		err := access.Commit(ctx, l.store, func(tx storage.Tx) error {
			_, floor, err := logStart(tx)
			if err != nil {
				return err
			}
			var doomed [][]byte
			err = tx.Scan(storage.BucketAudit, nil, func(k, _ []byte) (bool, error) {
				if binary.BigEndian.Uint64(k) > floor {
					return false, nil
				}
				doomed = append(doomed, k)
				return len(doomed) < l.chunk, nil
			})
			for _, k := range doomed {
				if err == nil {
					err = tx.Delete(storage.BucketAudit, k)
				}
			}
			done = len(doomed) < l.chunk
			return err
		})
		if err != nil || done {
			return err
		}
	}
}

// Head is the seq and hash of the log's last entry (0 and ZeroHash when empty).
func Head(tx storage.Tx) (uint64, string) {
	if h := tx.Get(storage.BucketMeta, keyHead); len(h) == 40 {
		return binary.BigEndian.Uint64(h), hex.EncodeToString(h[8:])
	}
	return 0, audit.ZeroHash
}

var errStop = errors.New("auditlog: stop")
