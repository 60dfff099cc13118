// Package backup owns the backup file format v1 (SECURITY.md "Backups"):
// a header, a manifest signed with the vault's audit key, and a consistent
// snapshot of the encrypted database; writing one from the running vault
// (Write, ToDir), checking one without restoring it (CheckFile), restoring
// one into a new data directory (Restore), and grandfather-father-son
// retention (Prune).
//
// It guarantees:
//   - A backup is framed, sized and checksummed: a truncated, extended or
//     changed file is refused before anything is opened.
//   - A backup is checked only against the verifier key the operator
//     brings (Options.VerifierKey; none is ErrNoVerifierKey), never the one
//     inside it: the manifest's signature is checked with it before the
//     database is opened at all, and the database must hold the same key.
//     A damaged database is refused, never a crash.
//   - A restore writes only into an empty directory, checks the restored
//     copy there, records itself in the restored log, and leaves nothing
//     behind if any check fails.
package backup
