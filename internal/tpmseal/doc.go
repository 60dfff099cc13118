// Package tpmseal keeps one small secret (the vault's passphrase-derived
// key-encryption key) sealed to this machine's TPM 2.0, for the server's
// `--auto-unseal tpm`.
//
// It guarantees:
//
//   - The secret is written only inside a TPM sealed-data object created
//     under the storage hierarchy's primary key (the standard ECC P-256
//     SRK template, recreated from the TPM's owner seed at every use and
//     never persisted). The object's blobs (public and private areas,
//     the private one encrypted by the TPM under that primary) are all
//     that reaches the disk, in the file format below; they are useless
//     on any other TPM, and on this one after its owner hierarchy is
//     cleared.
//   - The object has no password (userWithAuth is clear): it opens only
//     through a policy session whose PolicyPCR matches the SHA-256 PCR
//     values the object was sealed over. Changing any bound PCR (a
//     firmware or boot loader change, Secure Boot turned off) makes
//     Load's Unseal fail with ErrPolicy.
//   - The secret crosses the bus (or the socket to a software TPM) only
//     in sessions salted to the primary key and parameter-encrypted with
//     AES-128 CFB, in both directions.
//
// Blob file format (version 1), written 0600:
//
//	0x01 || PCR mask (uint32 big-endian, bit i = PCR i, SHA-256 bank)
//	     || TPM2B_PUBLIC (uint16 big-endian size || TPMT_PUBLIC)
//	     || TPM2B_PRIVATE (uint16 big-endian size || encrypted private area)
//
// The PCR mask is what the policy session replays at unseal; a mask
// edited in the file gives another policy digest and the TPM refuses.
package tpmseal
