package wire

import "time"

// Passkey is one of the caller's passkeys or security keys, as GET
// /v1/auth/passkeys lists them. ID is the credential ID, base64url.
type Passkey struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Synced   bool      `json:"synced"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Passkeys is the answer of GET /v1/auth/passkeys.
type Passkeys struct {
	Passkeys []Passkey `json:"passkeys"`
}
