// Package vault is Strongroom's core: a facade over the store, the
// barrier and the audit log that keeps the seal state, the accounts and
// sessions, the credentials and the access rules, recovery and backups.
//
// Layout (see each package's doc for what it owns and guarantees):
//   - vault/storage: the store contract and its bbolt implementation with
//     group commit; the only package that imports bbolt.
//   - vault/barrier: the keyring, the sealed record format, the KDF and the
//     view cache; it lends the keys per operation (Barrier.Hold) and the
//     domain packages see only barrier.Tx: no domain function takes a key.
//   - vault/access: the principal, roles, kinds, the access rules and the
//     answers a request gets; the write helper that keeps answers from
//     rolling back their neighbours (access.Commit).
//   - vault/auditlog: the audit log in the store and its outbox (exports,
//     the paged log, incidents, reports, prune, verification, subscribers).
//   - Domain packages, which depend on storage, barrier, access and
//     auditlog and never on each other: vault/identity (accounts,
//     sessions, sign-in and its second factors, MFA, re-authentication),
//     vault/credentials (names, versions, TOTP, grants, requests,
//     offboarding, the register, import and export), vault/recovery (the
//     seal, escrow, emergency recovery, break-glass, re-key) and
//     vault/backup (the backup format, checking, restoring, retention).
//     Where one needs another, it declares an interface
//     (credentials.People, credentials.Recovery, backup.Restored) and this
//     package passes the other in (accounts.go, seal.go, backup.go).
//   - vault/passwords: generated passwords, account password rules, hashes.
//   - strongroom/audit: the entry format, the chain, checkpoints, the
//     offline verifier, and the typed actions and incident kinds.
//   - this package: the facade that wires them, names their types for
//     callers, and the interleaving hook tests use (Vault.between).
//
// Where new work attaches:
//   - A notifier (e-mail the clerk when an incident is recorded, a webhook,
//     syslog): take a named Subscriber (Vault.Subscriber), read with Next,
//     pick the entries audit.IsIncident selects (audit.KindOf names them),
//     deliver, then Ack; it runs beside the vault, never inside a write,
//     and resumes after a restart where its saved position says.
//   - A second factor (a passkey): a secondFactor in identity/factors.go, put in
//     secondFactors ahead of the ones it should be tried before; login
//     prechecks it outside the write and confirms it on the stored account
//     inside it.
//   - A storage backend (etcd): the storage.Store contract, whose package
//     doc maps each method onto etcd.
//
// Guarantees:
//   - Nothing is written in the clear but audit entries, seal metadata,
//     share commitments and subscriber positions; every other record is
//     sealed by the barrier, bound by its AEAD to its path.
//   - Every operation that touches a secret, an account, the seal or the
//     log appends its audit entry in the same transaction as its change; a
//     secret is handed to the caller only after the transaction holding
//     its read entry has committed (fail closed). A refusal is committed
//     with its entry and never rolls back a neighbouring write (access.Commit).
//   - Every read-then-write path checks in its own transaction what it
//     read (guards); in-memory state changes only after the commit that
//     made it true.
//   - While sealed, no key exists in memory. While unsealed, the root key
//     is in a memguard Enclave and the data keys, once used, in read-only
//     locked buffers until seal (SECURITY.md "Keys" says why).
package vault
