// Package identity is the vault's people: accounts (created with a
// one-time password and TOTP enrolment, disabled, ended), their sessions
// (tokens stored only as SHA-256, idle and absolute expiry), sign-in with
// a password and a second factor (factors.go: TOTP, recovery codes, a
// provider's exemption; a passkey plugs in there), lockout, MFA resets and
// re-authentication.
//
// It guarantees:
//   - Every read-then-write checks in its own transaction what it read: a
//     session refresh never brings back an ended session, a password change
//     writes only if the password it checked is still the account's, and a
//     login is decided again on the stored account (lock, password hash,
//     TOTP secret, a code used once).
//   - Every sign-in, refusal and change is recorded in the audit log in the
//     same transaction; failures look the same to the caller whatever the
//     cause.
//   - Records are read and written only through the barrier's keyring.
package identity
