package access

import "time"

// Person is what the rest of the vault may know of an account: no
// password hash, TOTP seed or recovery code (package identity owns those).
type Person struct {
	ID, Name string
	Role     Role
	Disabled bool
	Expires  time.Time
	// Created is when the account was made (the first provider's: when
	// the vault was set up).
	Created time.Time
	// MFAExempt: a provider exempted this member from the second factor
	// at sign-in (not a secret; the password health report lists them).
	MFAExempt bool
	// Agreement is the agreement a contractor works under (nil: not a
	// contractor); read only, it may be shared with a cache.
	Agreement *Agreement
}

// Expired says the account's end date has passed.
func (u *Person) Expired(now time.Time) bool {
	return !u.Expires.IsZero() && !now.Before(u.Expires)
}

// Reauth is the caller's password and a fresh TOTP code, asked again.
type Reauth struct {
	Password []byte
	TOTP     string
	// Passkey, if set, stands in for password and TOTP: the browser's
	// answer to a re-authentication ceremony begun in this session.
	Passkey *PasskeyAnswer
}

// PasskeyAnswer is a browser's answer to a WebAuthn ceremony: the
// ceremony's ID and the PublicKeyCredential's JSON (its toJSON()).
type PasskeyAnswer struct {
	Ceremony string
	Response []byte
}

// ReauthCheck is what a re-authentication's inputs were found to be
// outside the write transaction, for CheckReauth to decide inside it.
type ReauthCheck struct {
	PasswordOK bool
	Step       int64 // the TOTP step the code matches; -1 if none
	// Passkey is the passkey answer, taken and read (identity's own type).
	Passkey any
}
