package vault

import (
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
)

// The auditor's toolkit: signed checkpoints, filtered exports, incidents,
// subject access and retention. Reading any of it is for the auditor and the
// provider, and is itself recorded.

// keyAnchorNote holds the signed checkpoint a pruned log starts from.
var keyAnchorNote = []byte("audit.anchor")

func auditHead(tx Tx) (uint64, string) {
	if h := tx.Get(bucketMeta, keyAuditHead); len(h) == 40 {
		return binary.BigEndian.Uint64(h), hex.EncodeToString(h[8:])
	}
	return 0, audit.ZeroHash
}

func (k *keyring) auditSigner(tx Tx) (note.Signer, error) {
	var skey string
	if ok, err := k.Get(tx, bucketKeyring, keyAuditSigner, &skey); err != nil || !ok {
		return nil, fmt.Errorf("vault: audit signing key unavailable: %v", err)
	}
	return note.NewSigner(skey)
}

// signCheckpoint signs (size, hash) now and stores it in the checkpoints bucket.
func (v *Vault) signCheckpoint(tx Tx, ks *keyring, size uint64, hash string) ([]byte, error) {
	signer, err := ks.auditSigner(tx)
	if err != nil {
		return nil, err
	}
	cp := &audit.Checkpoint{Origin: "strongroom/" + hex.EncodeToString(tx.Get(bucketMeta, keyVaultID)),
		Size: size, Head: hash, Time: v.now().Truncate(time.Second)}
	signed, err := audit.SignCheckpoint(cp, signer)
	if err != nil {
		return nil, err
	}
	return signed, tx.Put(bucketCheckpoints, seqKey(size), signed)
}

// Checkpoint records the request, then signs a checkpoint that includes it.
func (v *Vault) Checkpoint(ctx context.Context, req Request, p *Principal) ([]byte, error) {
	target := audit.Target{Kind: "audit"}
	if !mayReadLog(p) {
		return nil, v.deny(ctx, req, p, audit.AuditCheckpoint, target, "role may not read the audit log")
	}
	var signed []byte
	err := v.withKeys(func(ks *keyring) error {
		return v.write(ctx, func(tx Tx) (err error) {
			if err := v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.AuditCheckpoint, target: target}); err != nil {
				return err
			}
			seq, hash := auditHead(tx)
			signed, err = v.signCheckpoint(tx, ks, seq, hash)
			return err
		})
	})
	return signed, err
}

// AutoCheckpoint signs a checkpoint if the log grew since the last one. It
// writes no entry of its own, so a quiet vault stays quiet.
func (v *Vault) AutoCheckpoint(ctx context.Context) (bool, error) {
	cut := false
	err := v.withKeys(func(ks *keyring) error {
		return v.write(ctx, func(tx Tx) error {
			cut = false
			seq, hash := auditHead(tx)
			last := uint64(0)
			_ = tx.Scan(bucketCheckpoints, nil, func(k, _ []byte) (bool, error) {
				last = binary.BigEndian.Uint64(k)
				return true, nil
			})
			if seq == 0 || seq <= last {
				return nil
			}
			cut = true
			_, err := v.signCheckpoint(tx, ks, seq, hash)
			return err
		})
	})
	return cut, err
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

// ExportAudit writes the log. JSONL is verifiable: with a filter, every
// entry that does not match is written as a redacted line (seq, digest,
// prev, hash), so the export still chains to a signed checkpoint while
// showing only what was asked for; a pruned log starts with its signed
// anchor. CSV holds the matching entries only, for spreadsheets. The
// export is recorded first (action names the kind: audit.export or
// audit.subject), so an unfiltered export includes its own entry.
func (v *Vault) ExportAudit(ctx context.Context, req Request, p *Principal, f Filter, format string, w io.Writer) error {
	action := audit.AuditExport
	target := audit.Target{Kind: "audit"}
	if f.Subject != "" {
		action, target = audit.AuditSubject, audit.Target{Kind: "user", ID: f.SubjectID, Name: f.Subject}
	}
	if !mayReadLog(p) {
		return v.deny(ctx, req, p, action, target, "role may not read the audit log")
	}
	if format != FormatJSONL && format != FormatCSV {
		return invalidField("format", "format must be jsonl or csv")
	}
	// Record the export and, for JSONL, sign the head it will end at, in one
	// transaction: the export is closed by that signature, so nothing can be
	// appended to a copy of it unnoticed.
	var closing []byte
	var upTo uint64
	err := v.withKeys(func(ks *keyring) error {
		return v.write(ctx, func(tx Tx) (err error) {
			if err := v.appendAudit(tx, req, event{actor: actorOf(p), action: action, target: target, reason: describe(f, format)}); err != nil {
				return err
			}
			var hash string
			upTo, hash = auditHead(tx)
			if format == FormatJSONL {
				closing, err = v.signCheckpoint(tx, ks, upTo, hash)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	var cw *csv.Writer
	if format == FormatCSV {
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{"seq", "time", "actor", "actor_role", "action", "target_kind", "target", "outcome", "reason", "client_ip", "request_id"})
	}
	// The entries up to the head pinned above, chunk by chunk: the writes
	// to w (a client's download) happen between read transactions.
	var anchor []byte
	var after uint64
	if err := v.store.View(ctx, func(tx Tx) (err error) {
		anchor, after, err = logStart(tx)
		return err
	}); err != nil {
		return err
	}
	if format == FormatJSONL && anchor != nil {
		line, _ := json.Marshal(map[string]string{"anchor": string(anchor)})
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	err = v.eachEntry(ctx, after, upTo, func(l auditLine) error {
		return exportLine(w, cw, f, l.line)
	})
	if err == nil && closing != nil {
		line, _ := json.Marshal(map[string]string{"checkpoint": string(closing)})
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

// SubjectFilter resolves a person for a subject access request.
func (v *Vault) SubjectFilter(ctx context.Context, name string) (Filter, error) {
	f := Filter{Subject: name}
	err := v.withKeys(func(ks *keyring) error {
		return v.store.View(ctx, func(tx Tx) error {
			u, err := findUser(tx, ks, name)
			if u != nil {
				f.Subject, f.SubjectID = u.Name, u.ID
			}
			return err
		})
	})
	return f, err
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
func (v *Vault) Incidents(ctx context.Context, req Request, p *Principal, from, to time.Time) ([]Incident, error) {
	target := audit.Target{Kind: "audit"}
	if !mayReadLog(p) {
		return nil, v.deny(ctx, req, p, audit.AuditIncidents, target, "role may not read the audit log")
	}
	if err := v.record(ctx, req, event{actor: actorOf(p), action: audit.AuditIncidents, target: target}); err != nil {
		return nil, err
	}
	out := []Incident{}
	f := Filter{From: from, To: to}
	v.failMu.Lock()
	for _, t := range v.auditFailures {
		if (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to)) {
			out = append(out, Incident{Time: t, Kind: audit.IncidentWriteFailure, Action: audit.AuditWrite, Outcome: audit.OutcomeError,
				Reason:  "an audit entry could not be written, so its request was refused (kept in memory since the server started; see the server log)",
				Entries: []uint64{}})
		}
	}
	v.failMu.Unlock()
	var after uint64
	if err := v.store.View(ctx, func(tx Tx) (err error) { _, after, err = logStart(tx); return err }); err != nil {
		return nil, err
	}
	err := v.eachEntry(ctx, after, 0, func(l auditLine) error {
		e, err := audit.ParseLine(l.line)
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

// Prune deletes entries older than before, keeping the rest verifiable: it
// signs a checkpoint at the last pruned entry and keeps it as the log's
// anchor, and records the pruning. p is nil for the automatic retention run.
func (v *Vault) Prune(ctx context.Context, req Request, p *Principal, before time.Time) (uint64, error) {
	actor := systemActor
	if p != nil {
		actor = actorOf(p)
		if p.Role != RoleProvider && p.Role != RoleAuditor {
			return 0, v.deny(ctx, req, p, audit.AuditPrune, audit.Target{Kind: "audit"}, "role may not prune the audit log")
		}
	}
	// Where the cut falls, read in chunks; then one short write that signs
	// the anchor and records the pruning (guarded: that entry and the old
	// anchor are as read); then the deletion, in chunks.
	var anchor []byte
	var floor, cut uint64
	var cutLine []byte
	err := v.store.View(ctx, func(tx Tx) (err error) { anchor, floor, err = logStart(tx); return err })
	if err != nil {
		return 0, err
	}
	err = v.eachEntry(ctx, floor, 0, func(l auditLine) error {
		e, err := audit.ParseLine(l.line)
		if err != nil {
			return fmt.Errorf("vault: stored entry unreadable: %w", err)
		}
		if !e.Time.Before(before) {
			return errStopScan
		}
		cut, cutLine = e.Seq, l.line
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return 0, err
	}
	if cut == 0 {
		return 0, v.deletePruned(ctx)
	}
	err = v.withKeys(func(ks *keyring) error {
		return v.write(ctx, func(tx Tx) error {
			if !tx.Expect(bucketAudit, seqKey(cut), cutLine) || !tx.Expect(bucketMeta, keyAnchorNote, anchor) {
				return fmt.Errorf("%w: the audit log was pruned meanwhile", ErrConflict)
			}
			e, _ := audit.ParseLine(cutLine)
			// The log is never left empty: the audit.prune entry follows the cut.
			signed, err := v.signCheckpoint(tx, ks, cut, e.Hash)
			if err != nil {
				return err
			}
			if err := tx.Put(bucketMeta, keyAnchorNote, signed); err != nil {
				return err
			}
			return v.appendAudit(tx, req, event{actor: actor, action: audit.AuditPrune, target: audit.Target{Kind: "audit"},
				reason: fmt.Sprintf("removed entries up to seq %d, older than %s; the log now starts from a signed checkpoint at seq %d",
					cut, before.Format(time.RFC3339), cut)})
		})
	})
	if err != nil {
		return 0, err
	}
	return cut, v.deletePruned(ctx)
}

// deletePruned deletes the stored entries the anchor covers, auditChunk
// per transaction. Until it has finished (or if it was cut short, when the
// next prune finishes it) readers skip them: the log starts after the
// anchor (logStart).
func (v *Vault) deletePruned(ctx context.Context) error {
	for {
		var done bool
		err := v.write(ctx, func(tx Tx) error {
			_, floor, err := logStart(tx)
			if err != nil {
				return err
			}
			var doomed [][]byte
			err = tx.Scan(bucketAudit, nil, func(k, _ []byte) (bool, error) {
				if binary.BigEndian.Uint64(k) > floor {
					return false, nil
				}
				doomed = append(doomed, k)
				return len(doomed) < auditChunk, nil
			})
			for _, k := range doomed {
				if err == nil {
					err = tx.Delete(bucketAudit, k)
				}
			}
			done = len(doomed) < auditChunk
			return err
		})
		if err != nil || done {
			return err
		}
	}
}
