// Package audit owns Strongroom's access log format: the entry type, its
// canonical encoding, the SHA-256 hash chain that links entries, and the
// offline verification of an exported log.
//
// Everything here is a pure function of bytes: no I/O, no clock, no keys
// other than those passed in. The offline verifier (strongroom audit verify
// --log) depends on this package alone, so an auditor can check a log with
// nothing but the export.
//
// Guarantee: Verify accepts a sequence of entries only if every entry's hash
// is SHA-256(prev || SHA-256(canonical bytes of the entry without its
// hash)), with prev as its 32 raw bytes (so a redacted line, which keeps
// only the inner digest, still chains), every
// prev equals the previous entry's hash (32 zero bytes for seq 1), and seqs
// run 1, 2, 3, ... with no gap. The canonical encoding is specified in
// SECURITY.md and in Entry.Canonical. Actions and incident kinds are
// typed constants here (action.go, incident.go).
package audit
