// Package escrow owns the sealed envelope: splitting the root key into Shamir
// shares (github.com/hashicorp/vault/shamir), the share encoding v1 that a
// person types or scans back in, the commitments the vault stores so a share
// can be checked without combining anything, and the envelope documents.
//
// Guarantees: Decode locates every single-character typo to its group; a
// share from another vault, an older generation, or with a wrong checksum is
// refused with an error that says which; Combine never sees a share that has
// not passed Decode.
package escrow
