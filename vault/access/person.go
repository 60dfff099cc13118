package access

import "time"

// Person is what the rest of the vault may know of an account: no
// password hash, TOTP seed or recovery code (package identity owns those).
type Person struct {
	ID, Name string
	Role     Role
	Disabled bool
	Expires  time.Time
	// MFAExempt: a provider exempted this member from the second factor
	// at sign-in (not a secret; the password health report lists them).
	MFAExempt bool
}

// Expired says the account's end date has passed.
func (u *Person) Expired(now time.Time) bool {
	return !u.Expires.IsZero() && !now.Before(u.Expires)
}

// Reauth is the caller's password and a fresh TOTP code, asked again.
type Reauth struct {
	Password []byte
	TOTP     string
}
