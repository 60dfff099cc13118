package wire

import "time"

// LoginRequest is the body of POST /v1/auth/login. NewPassword replaces a
// one-time password at first login; RecoveryCode stands in for TOTP.
type LoginRequest struct {
	Name         string `json:"name"`
	Password     Secret `json:"password"`
	TOTP         string `json:"totp"`
	NewPassword  Secret `json:"new_password,omitempty"`
	RecoveryCode string `json:"recovery_code"`
}

// ReauthRequest is the body of POST /v1/auth/reauth: the caller's
// password and a TOTP code later than any the account used. It marks the
// session re-authenticated for identity.ReauthWindow (5 minutes), which
// admin secrets and their TOTP codes need.
type ReauthRequest struct {
	Password Secret `json:"password"`
	TOTP     string `json:"totp"`
}

// LoginResponse carries the session token (in the body, never a URL).
type LoginResponse struct {
	Token      string `json:"token"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	MustChange bool   `json:"must_change_password"`
}

// Whoami is the answer to GET /v1/auth/whoami: the session's account.
type Whoami struct {
	Name       string `json:"name"`
	Role       string `json:"role"`
	MustChange bool   `json:"must_change_password"`
}

// PasswordRequest is the body of POST /v1/auth/password.
type PasswordRequest struct {
	OldPassword Secret `json:"old_password"`
	NewPassword Secret `json:"new_password"`
}

// RecoveryCodes is the answer to POST /v1/auth/recovery-codes: ten
// one-time codes, shown once.
type RecoveryCodes struct {
	Codes []string `json:"codes"`
}

// UserRequest is the body of POST /v1/users.
type UserRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Expires is the end date of a contractor's or third party's account
	// (zero: none).
	Expires time.Time `json:"expires,omitzero"`
	// Email is where the vault's messages to the person go (optional).
	Email string `json:"email,omitempty"`
	// Contractor makes the account a contractor's: role member, an end
	// date, the Agreement's reference and the Scope of credentials (by
	// name) it covers are then required; without it both must be absent.
	Contractor bool     `json:"contractor,omitempty"`
	Agreement  string   `json:"agreement,omitempty"`
	Scope      []string `json:"scope,omitempty"`
}

// EmailRequest is the body of POST /v1/users/{name}/email ("" removes
// the address).
type EmailRequest struct {
	Email string `json:"email"`
}

// User is what callers see of an account (GET /v1/users).
type User struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       string    `json:"role"`
	Disabled   bool      `json:"disabled"`
	MustChange bool      `json:"must_change_password"`
	Locked     bool      `json:"locked"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires,omitempty"`
	Email      string    `json:"email,omitempty"`
	// Contractor, Agreement and Scope describe a contractor's agreement;
	// Completed is when the work was marked completed (user complete);
	// Overdue says the end date has passed and it was not.
	Contractor bool      `json:"contractor,omitempty"`
	Agreement  string    `json:"agreement,omitempty"`
	Scope      []string  `json:"scope,omitempty"`
	Completed  time.Time `json:"completed,omitzero"`
	Overdue    bool      `json:"overdue,omitempty"`
}

// OneTimeLogin is a new account's first password and TOTP enrolment,
// returned once (POST /v1/users, and the admin in InitResponse).
type OneTimeLogin struct {
	Name     string `json:"name"`
	Role     string `json:"role,omitempty"`
	Password string `json:"password"`
	TOTPURI  string `json:"totp_uri"`
}

// ExemptRequest is the body of POST /v1/users/{name}/mfa-exempt.
type ExemptRequest struct {
	Exempt bool `json:"exempt"`
}

// MFAReset is the answer to POST /v1/users/{name}/reset-mfa: the new TOTP
// enrolment, shown once.
type MFAReset struct {
	Name    string `json:"name"`
	TOTPURI string `json:"totp_uri"`
}

// OffboardReport is the answer to POST /v1/users/{name}/offboard?days=N
// and to POST /v1/users/{name}/complete (a contractor's work completed).
type OffboardReport struct {
	User          string       `json:"user"`
	Days          int          `json:"days"`
	SessionsEnded bool         `json:"sessions_ended"`
	GrantsRevoked int          `json:"grants_revoked"`
	Rotate        []RotateItem `json:"rotate"`
}

// RotateItem is a credential an offboarded person could read.
type RotateItem struct {
	Credential string `json:"credential"`
	Kind       string `json:"kind"`
	Why        string `json:"why"`
	Action     string `json:"action"` // always "rotate"
}

// DeviceStartRequest is the body of POST /v1/auth/device: a command line
// asks to sign in as User by approval in the web interface (RFC 8628).
type DeviceStartRequest struct {
	User string `json:"user"`
}

// DeviceStart answers POST /v1/auth/device (RFC 8628 §3.2). DeviceCode is
// a secret: the command line keeps it and sends it only in the body of
// POST /v1/auth/device/token. The person types UserCode at
// VerificationURI (there is no verification_uri_complete: the code is
// typed, not carried in a link).
type DeviceStart struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
}

// DeviceTokenRequest is the body of POST /v1/auth/device/token.
type DeviceTokenRequest struct {
	DeviceCode string `json:"device_code"`
}

// DeviceTokenError is a 400 answer of POST /v1/auth/device/token that is
// not a malformed request (RFC 8628 §3.5): Error is authorization_pending,
// slow_down (wait 5 seconds longer between polls from now on), access_denied,
// expired_token or invalid_grant; Description says it in plain words.
type DeviceTokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	RequestID   string `json:"request_id,omitempty"`
}
