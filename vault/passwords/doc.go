// Package passwords makes and checks passwords: generated ones for stored
// credentials (NCSC "three random words" from the EFF large wordlist,
// drawn with crypto/rand, with their entropy), account passwords (length,
// not the name, not the old one, not common or guessable) and their
// Argon2id hashes in PHC string form, and one-time first-login passwords.
//
// It guarantees that hashes are compared in constant time, that a
// malformed or over-costly stored hash matches nothing rather than
// panicking or running unbounded, and that no error quotes a password.
package passwords
