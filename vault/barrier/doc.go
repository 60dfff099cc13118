// Package barrier is the line between the vault's keys and everything
// else, in the spirit of HashiCorp Vault's barrier: it owns the keyring
// (the root key and the data keys, in memguard Enclaves), the sealed
// record format, the Argon2id key-encryption parameters, and the cache of
// decoded, non-secret views of sealed records. It holds the vault's
// keyring while unsealed (Barrier) and lends it for one operation at a
// time (Hold); packages above it read and write sealed records by bucket
// and key through a Tx and never touch a key. State derived from sealed
// records that must die with the keys (the name index) lives in Tx.Local.
//
// It guarantees:
//   - Every record is sealed with XChaCha20-Poly1305 under the active data
//     key, with a fresh random 24-byte nonce, in format v1 (SECURITY.md
//     "Sealed record format v1"): a version byte, the key's term and the
//     record's path are the additional data, so a record opens only under
//     its own key and only at the place it was written for.
//   - Decrypted records are wiped after decoding; an error names the
//     record and the failure, never its content.
//   - A cached view is used only while the stored bytes in the caller's
//     own transaction are exactly those it was decoded from, so it never
//     answers with what the transaction would not have decrypted itself.
//   - Release (at seal) destroys every opened key and empties the cache.
//   - The state seal (state.go, statestore.go; SECURITY.md "The state
//     seal"): every write through Store folds what it changed into an
//     authenticated commitment to every record (meta/state, under the
//     state key, keyring term 0), in the same transaction; CheckState
//     recomputes it from every record, so a record put back to an earlier
//     copy, deleted, added or edited outside the vault is refused
//     (ErrRolledBack). Without keys only audit entries can be written.
package barrier
