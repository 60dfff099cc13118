package vault

import (
	"context"
	"encoding/hex"
	"io"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/identity"
	"strongroom/vault/recovery"
)

// The auditor's toolkit (package auditlog): signed checkpoints, filtered
// exports, the paged log, incidents, reports, retention and subscribers.
// Reading any of it is for the auditor and the provider, and is itself
// recorded.

// The log's types, as the vault's callers name them.
type (
	// Filter selects entries (auditlog.Filter).
	Filter = auditlog.Filter
	// Incident is one security incident found in the log.
	Incident = auditlog.Incident
	// VerifyResult is the outcome of an online verification.
	VerifyResult = auditlog.VerifyResult
	// AuditPage is one page of the log, newest first.
	AuditPage = auditlog.AuditPage
	// Subscriber reads the log for one named consumer from a saved position.
	Subscriber = auditlog.Subscriber
	// AccessReport is the access review for a period.
	AccessReport = auditlog.AccessReport
	// ReadSummary counts reads of one credential by one person.
	ReadSummary = auditlog.ReadSummary
	// PruneRequest is the auditor's request to prune the log.
	PruneRequest = auditlog.PruneRequest
	// Pruned is what a prune removed and the checkpoint at its cut.
	Pruned = auditlog.Pruned
)

// MinAuditRetention is the shortest audit retention a vault accepts.
const MinAuditRetention = auditlog.MinRetention

// Export formats.
const (
	FormatJSONL = auditlog.FormatJSONL
	FormatCSV   = auditlog.FormatCSV
)

// keyVerifier holds the log's note verifier key.
var keyVerifier = auditlog.KeyVerifier

// logKeys lends the log a Signer while the vault's keys are held.
func (v *Vault) logKeys(fn func(auditlog.Signer) error) error {
	return v.barrier.Hold(func(h *barrier.Held) error {
		return fn(func(stx Tx) (note.Signer, string, error) {
			tx := h.Bind(stx)
			s, err := recovery.AuditSigner(tx)
			return s, "strongroom/" + hex.EncodeToString(recovery.VaultID(tx)), err
		})
	})
}

// Checkpoint records the request, then signs a checkpoint that includes it.
func (v *Vault) Checkpoint(ctx context.Context, req Request, p *Principal) ([]byte, error) {
	return v.audit.Checkpoint(ctx, req, p, v.logKeys)
}

// AutoCheckpoint signs a checkpoint if the log grew since the last one. It
// writes no entry of its own, so a quiet vault stays quiet.
func (v *Vault) AutoCheckpoint(ctx context.Context) (bool, error) {
	return v.audit.AutoCheckpoint(ctx, v.logKeys)
}

// LatestCheckpoint returns the newest signed checkpoint, or nil if there
// is none yet; it records nothing.
func (v *Vault) LatestCheckpoint(ctx context.Context) ([]byte, error) {
	return v.audit.LatestCheckpoint(ctx)
}

// ExportAudit records an export of the log and writes it to w (see
// auditlog.Log.BeginExport): the keys are held only while it is recorded,
// not while a slow client downloads it.
func (v *Vault) ExportAudit(ctx context.Context, req Request, p *Principal, f Filter, format string, w io.Writer) error {
	ex, err := v.audit.BeginExport(ctx, req, p, f, format, v.logKeys)
	if err != nil {
		return err
	}
	return ex.WriteTo(ctx, w)
}

// SubjectFilter resolves a person for a subject access request.
func (v *Vault) SubjectFilter(ctx context.Context, name string) (Filter, error) {
	f := Filter{Subject: name}
	err := v.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			u, err := identity.Find(tx, name)
			if u != nil {
				f.Subject, f.SubjectID = u.Name, u.ID
			}
			return err
		})
	})
	return f, err
}

// Incidents lists the incidents in [from, to) (zero times: all).
func (v *Vault) Incidents(ctx context.Context, req Request, p *Principal, from, to time.Time) ([]Incident, error) {
	return v.audit.Incidents(ctx, req, p, from, to)
}

// RequestPrune records the auditor's request to remove entries older than
// before (never younger than the retention); another person approves it
// (auditlog.Log.RequestPrune).
func (v *Vault) RequestPrune(ctx context.Context, req Request, p *Principal, before time.Time) (*PruneRequest, error) {
	return v.audit.RequestPrune(ctx, req, p, before)
}

// ApprovePrune performs a pending prune request: a provider or the chairman
// who is not its requester. The rest of the log stays verifiable from the
// checkpoint signed at the cut.
func (v *Vault) ApprovePrune(ctx context.Context, req Request, p *Principal, id string) (*Pruned, error) {
	return v.audit.ApprovePrune(ctx, req, p, id, v.logKeys)
}

// PruneExpired removes the entries older than the configured retention
// (Config.AuditRetention), as the vault's own housekeeping.
func (v *Vault) PruneExpired(ctx context.Context, req Request) (*Pruned, error) {
	return v.audit.PruneExpired(ctx, req, v.logKeys)
}

// VerifyAudit checks the stored chain; the verification and its result
// are recorded.
func (v *Vault) VerifyAudit(ctx context.Context, req Request, p *Principal) (VerifyResult, error) {
	return v.audit.Verify(ctx, req, p)
}

// ReadAuditPage returns a page of the log, newest first.
func (v *Vault) ReadAuditPage(ctx context.Context, req Request, p *Principal, f Filter, before uint64, limit int) (*AuditPage, error) {
	return v.audit.ReadPage(ctx, req, p, f, before, limit)
}

// Subscriber returns the named outbox subscriber.
func (v *Vault) Subscriber(name string) (*Subscriber, error) { return v.audit.Subscriber(name) }

// Report builds the access report for [from, to).
func (v *Vault) Report(ctx context.Context, req Request, p *Principal, from, to time.Time) (*AccessReport, error) {
	var council string
	if err := v.store.View(ctx, func(tx Tx) error { council = recovery.Council(tx); return nil }); err != nil {
		return nil, err
	}
	return v.audit.Report(ctx, req, p, council, from, to)
}

// AuditHead is the seq of the newest audit entry (0: none), from one
// short read.
func (v *Vault) AuditHead(ctx context.Context) (head uint64, err error) {
	err = v.store.View(ctx, func(tx Tx) error {
		head, _ = auditlog.Head(tx)
		return nil
	})
	return head, err
}

// ProbeCommit runs an empty write through the store's group commit, for
// readiness checks: it fails if the store cannot commit.
func (v *Vault) ProbeCommit(ctx context.Context) error {
	return v.store.Update(ctx, func(Tx) error { return nil })
}
