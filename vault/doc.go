// Package vault owns Strongroom's keys, seal state, records, users,
// sessions, credentials and storage. It is the only package that imports the
// storage engine (bbolt, behind Store).
//
// Guarantees:
//   - Nothing is written in the clear but audit entries, seal metadata and
//     share commitments; every record is a sealed blob (crypto.go) bound by
//     its AEAD to its path and version.
//   - Every operation that touches a secret, an account, the seal or the log
//     appends its audit entry in the same transaction as its change; a secret
//     is handed to the caller only after the transaction holding its read
//     entry has committed (fail closed).
//   - While sealed, no key exists in memory. While unsealed, the root key and
//     data keys live in memguard Enclaves and are opened only while used.
package vault
