// Package recovery is the vault's seal: init (root key, keyring, audit
// key, Shamir shares of the root key for the envelopes), unseal by the
// operator passphrase or by a quorum of envelope shares, seal, setting the
// passphrase, emergency recovery mode and the chairman's break-glass
// window, share checks and re-key (new envelopes, old ones refused).
//
// It owns the seal's metadata (vault id, council, KDF, root wrap, escrow
// state, recovery flag) and the keyring record, and is the one package
// above the barrier that makes keyrings: it opens the keyring with the
// root key and installs it in the barrier (Barrier.Install) only after the
// unseal's audit entry has committed, and drops it at seal.
//
// It guarantees:
//   - An unseal that is not on record does not happen (fail closed); an
//     envelope unseal is recorded as an incident naming the holders.
//   - A re-key and a passphrase change each write only if what they were
//     derived from (root wrap, KDF, keyring, escrow state, recovery flag)
//     is still what is stored (guards), so neither undoes the other.
//   - Shares given so far are kept only in memory, at most 15 minutes, and
//     wiped on reset, on unseal and at seal.
//   - During an emergency recovery every routine change is refused
//     (Routine), until a re-key ends it.
package recovery
