package identity

import (
	"bytes"
	"context"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
)

// Passwordless sign-in (server --passwordless): a discoverable passkey
// that verified the person (fingerprint, face, PIN) is both factors at
// once. The account's password still exists, for the command line.

// PasswordlessOn says a person may sign in with a passkey alone.
func (a *Accounts) PasswordlessOn() bool { return a.passwordless }

// BeginPasswordlessLogin begins a sign-in with a passkey alone: a
// discoverable ceremony, the same for everyone, that requires user
// verification.
func (a *Accounts) BeginPasswordlessLogin() (*Ceremony, error) {
	if !a.passwordless {
		return nil, passkeyErr(access.PasskeysOff)
	}
	assertion, data, err := a.rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	return a.begin(ceremonyPasswordless, "", data, assertion.Response)
}

// PasswordlessLogin signs in the account whose passkey answered
// BeginPasswordlessLogin's ceremony, and opens a session. It is decided,
// throttled and recorded as Login is (auth.login, "passwordless").
func (a *Accounts) PasswordlessLogin(ctx context.Context, req auditlog.Request, ans PasskeyAnswer) (token string, p *access.Principal, err error) {
	if !a.passwordless {
		return "", nil, passkeyErr(access.PasskeysOff)
	}
	pf := a.passkeyProof(&ans, ceremonyPasswordless, "")
	err = a.keys.Hold(func(h *barrier.Held) error {
		var name string
		if pf.problem == "" {
			if err := h.View(ctx, func(tx barrier.Tx) error {
				u, err := findByHandle(tx, pf.parsed.Response.UserHandle)
				if u != nil {
					name = u.Name
				}
				return err
			}); err != nil {
				return err
			}
		}
		token, p, err = a.login(ctx, req, h, LoginRequest{Name: name, passkey: pf, passwordless: true})
		return err
	})
	return token, p, err
}

// findByHandle is the account a WebAuthn user handle names (nil: none).
func findByHandle(tx barrier.Tx, handle []byte) (*Record, error) {
	if len(handle) == 0 {
		return nil, nil
	}
	users, err := All(tx)
	for _, u := range users {
		if len(u.PasskeyHandle) > 0 && bytes.Equal(u.PasskeyHandle, handle) {
			return u, err
		}
	}
	return nil, err
}
