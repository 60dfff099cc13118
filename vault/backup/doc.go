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
//   - With the operator's verifier key the manifest's signature is checked
//     before the database is opened at all; a damaged database is refused,
//     never a crash.
//   - A restore writes only into an empty directory, checks the restored
//     copy there, records itself in the restored log, and leaves nothing
//     behind if any check fails.
package backup
