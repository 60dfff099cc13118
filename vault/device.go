package vault

import (
	"time"

	"context"

	"strongroom/vault/access"
	"strongroom/vault/identity"
)

// A command line's sign-in approved in the web interface (identity
// device.go: the device authorisation grant of RFC 8628).
type (
	// DeviceGrant is what the command line is told when it asks.
	DeviceGrant = identity.DeviceGrant
	// DeviceRequest is what the approver is shown of a request.
	DeviceRequest = identity.DeviceRequest
)

// The answers to a poll, named as RFC 8628 §3.5 names them.
var (
	ErrDevicePending  = identity.ErrDevicePending
	ErrDeviceSlowDown = identity.ErrDeviceSlowDown
	ErrDeviceDenied   = identity.ErrDeviceDenied
	ErrDeviceExpired  = identity.ErrDeviceExpired
	ErrDeviceUnknown  = identity.ErrDeviceUnknown
)

// StartDevice records a command line's request to sign in as name.
func (v *Vault) StartDevice(ctx context.Context, req Request, name string) (DeviceGrant, error) {
	return v.accounts.StartDevice(ctx, req, name)
}

// FindDevice is the request waiting for p with user code code.
func (v *Vault) FindDevice(ctx context.Context, req Request, p *Principal, code string) (DeviceRequest, error) {
	return v.accounts.FindDevice(ctx, req, p, code)
}

// DecideDevice approves (after a re-authentication) or refuses the request
// waiting for p with user code code.
func (v *Vault) DecideDevice(ctx context.Context, req Request, p *Principal, code string, approve bool) error {
	return v.accounts.DecideDevice(ctx, req, p, code, approve)
}

// PollDevice answers a command line polling with its device code: a new
// session once the request is approved, exactly once.
func (v *Vault) PollDevice(ctx context.Context, req Request, deviceCode string) (string, *Principal, error) {
	return v.accounts.PollDevice(ctx, req, deviceCode)
}

// Reauthed says p re-authenticated within ReauthWindow (what approving a
// command line's sign-in needs).
func (v *Vault) Reauthed(p *Principal) bool { return access.Reauthed(p, v.now()) }

// Fresh says p signed in, or re-authenticated, within ReauthWindow (what
// adding a passkey needs; access.Fresh).
func Fresh(p *Principal, now time.Time) bool { return access.Fresh(p, now) }
