// Package identity is the vault's people: accounts (created with a
// one-time password and TOTP enrolment, disabled, ended), their sessions
// (tokens stored only as SHA-256, idle and absolute expiry), sign-in with
// a password and a second factor (factors.go: TOTP, recovery codes, a
// provider's exemption, a passkey), passkeys and security keys (WebAuthn:
// passkey_rp.go, passkeys.go, passkey_login.go, passwordless.go), sign-in
// throttling per name and source address (throttle.go), MFA resets and
// re-authentication.
//
// It guarantees:
//   - Every read-then-write checks in its own transaction what it read: a
//     session refresh never brings back an ended session, a password change
//     writes only if the password it checked is still the account's, and a
//     login is decided again on the stored account (password hash, TOTP
//     secret, a code used once) and the throttle asked again.
//   - Every sign-in, refusal and change is recorded in the audit log in the
//     same transaction; failures look the same to the caller whatever the
//     cause, and an unknown name is answered, timed and throttled as a
//     known one. A refused session token is recorded, rate limited
//     (tokens.go).
//   - Records are read and written only through the barrier's keyring.
package identity
