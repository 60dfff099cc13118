// Package auditlog is the audit log as the vault keeps it in its store: it
// appends entries (package audit's format and chain) in the caller's own
// transaction, and it is the outbox that everything reading the log in bulk
// goes through: exports, the web's paged log, incidents, the access report,
// online verification, retention (prune) and named subscribers with saved
// positions for notifiers.
//
// It guarantees:
//   - An entry is appended in the same transaction as the change it
//     records, with its seq and prev hash derived from that transaction, so
//     a write that group commit runs again stays correct; a failed append
//     fails its request and is remembered (Failures) for the incidents.
//   - Long reads go in chunks, each its own short read transaction, up to a
//     head pinned when they began; nothing is written to a client, and
//     nothing slow runs, inside a transaction.
//   - What needs the vault's keys (signing a checkpoint) asks for them
//     through Keys only around the one short write that signs.
//   - Retention cannot become erasure (prune.go): nothing younger than the
//     retention (at least MinRetention) is ever pruned, whatever date is
//     asked; a person prunes only by the auditor's request and the approval
//     of a provider or the chairman who is not the requester, re-checked in
//     the write that prunes; the entry names the range and the checkpoint at
//     the cut.
//   - A subscriber's position only moves forward, never past the head, so
//     every entry is delivered at least once, in order, after it committed.
package auditlog
