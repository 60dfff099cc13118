package vault

import (
	"context"

	"strongroom/audit"
	"strongroom/vault/auditlog"
)

// The audit log (package auditlog), as the vault's domain code uses it.

func actorOf(p *Principal) audit.Actor { return auditlog.ActorOf(p) }

var systemActor = auditlog.System

// event is an audit entry under construction.
type event struct {
	actor   audit.Actor
	action  audit.Action
	target  audit.Target
	outcome string
	reason  string
}

func (e event) entry() auditlog.Event {
	return auditlog.Event{Actor: e.actor, Action: e.action, Target: e.target, Outcome: e.outcome, Reason: e.reason}
}

// appendAudit appends one entry inside tx (auditlog.Log.Append).
func (v *Vault) appendAudit(tx Tx, req Request, ev event) error {
	return v.audit.Append(tx, req, ev.entry())
}

// record commits one entry on its own (auditlog.Log.Record): its error
// must be returned to the caller, as an unrecorded refusal is an audit
// failure.
func (v *Vault) record(ctx context.Context, req Request, ev event) error {
	return v.audit.Record(ctx, req, ev.entry())
}

// deny records a refusal and returns the error for it.
func (v *Vault) deny(ctx context.Context, req Request, p *Principal, action audit.Action, target audit.Target, reason string) error {
	return v.audit.Deny(ctx, req, p, action, target, reason)
}

func seqKey(seq uint64) []byte { return auditlog.SeqKey(seq) }
