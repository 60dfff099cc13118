// Package credentials owns the vault's stored logins and who may use them:
// credential heads and versions, the name index, TOTP codes, access
// requests and grants, logins handed over to the council (handover.go),
// offboarding, the access register, and import and KDBX export (the
// formats themselves are package transfer).
//
// It reads and writes sealed records only through barrier.Tx, records
// through auditlog, and knows the vault's accounts and seal state only
// through the People and Recovery interfaces the vault gives it (package
// identity and the seal provide them), so it depends on no other domain.
//
// It guarantees:
//   - Old versions are kept, never rewritten: a put writes version n+1 and
//     moves the head, in one write whose guard is the head it read.
//   - A secret is handed out only after the write holding its cred.read
//     entry has committed (fail closed), in a locked buffer (Secret).
//   - The name index changes only after the commit that made it true, in
//     commit order (storage's OnCommit); a name absent from a complete
//     index is absent, and a create-only put of a taken name is refused.
//   - Every refusal is recorded as it is answered, and commits with its
//     entry without rolling back its neighbours (access.Commit).
package credentials
