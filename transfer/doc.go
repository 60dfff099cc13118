// Package transfer reads and writes the formats councils bring their
// passwords in and take them out in: KeePass KDBX (4.x, and 3.1 as
// keepassxc-cli still writes it), Bitwarden's unencrypted JSON and CSV
// exports, and a generic CSV with a column mapping.
//
// It is pure: bytes in, items out (and items in, bytes out), with no I/O
// and no knowledge of the vault. Every decoder either returns every item
// it could read plus a list of what it skipped and why, or an error and
// nothing, so an import built on it is all-or-nothing. Decoders bound
// their input (size, nesting, item count, KDF cost) so a hostile file
// cannot exhaust memory or time, and errors never quote a field's value.
//
// Why not a KDBX library: the one maintained Go library
// (tobischo/gokeepasslib) derives keys with a fork of x/crypto/argon2 for
// Argon2d and cannot open Argon2id files, which the import must; our
// rule is cryptography from the standard library and golang.org/x/crypto
// only. The container is therefore written here, following the KeePass
// format documentation field by field (SECURITY.md lists the subset), over
// stdlib AES-CBC, HMAC-SHA-256 and SHA-2 and x/crypto's Argon2id,
// ChaCha20 and Salsa20. Argon2d files are refused with the two clicks
// in KeePassXC that turn them into Argon2id.
package transfer
