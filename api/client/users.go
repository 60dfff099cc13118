package client

import (
	"context"
	"fmt"

	"strongroom/api/wire"
)

// Login starts a session (POST /v1/auth/login). The token is in the
// answer; pass it to WithToken.
func (c *Client) Login(ctx context.Context, in wire.LoginRequest) (wire.LoginResponse, error) {
	var out wire.LoginResponse
	err := c.do(ctx, "POST", "/v1/auth/login", in, &out)
	return out, err
}

// Logout ends the session.
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, "POST", "/v1/auth/logout", nil, nil)
}

// Reauthenticate confirms the caller again with their password and a TOTP
// code later than any they used (POST /v1/auth/reauth): for the next
// five minutes the session may read admin secrets and their TOTP codes.
// A wrong password or code is an *APIError with Reauth set.
func (c *Client) Reauthenticate(ctx context.Context, in wire.ReauthRequest) error {
	return c.do(ctx, "POST", "/v1/auth/reauth", in, nil)
}

// ChangePassword changes the caller's password and ends their other sessions.
func (c *Client) ChangePassword(ctx context.Context, in wire.PasswordRequest) error {
	return c.do(ctx, "POST", "/v1/auth/password", in, nil)
}

// RecoveryCodes makes ten new one-time recovery codes (earlier ones stop working).
func (c *Client) RecoveryCodes(ctx context.Context) (wire.RecoveryCodes, error) {
	var out wire.RecoveryCodes
	err := c.do(ctx, "POST", "/v1/auth/recovery-codes", nil, &out)
	return out, err
}

// ListUsers lists the accounts.
func (c *Client) ListUsers(ctx context.Context) ([]wire.User, error) {
	var out []wire.User
	err := c.do(ctx, "GET", "/v1/users", nil, &out)
	return out, err
}

// CreateUser adds an account and returns its one-time login, shown once.
func (c *Client) CreateUser(ctx context.Context, in wire.UserRequest) (wire.OneTimeLogin, error) {
	var out wire.OneTimeLogin
	err := c.do(ctx, "POST", "/v1/users", in, &out)
	return out, err
}

// SetEmail sets (or, with "", removes) an account's e-mail address.
func (c *Client) SetEmail(ctx context.Context, name, email string) error {
	return c.do(ctx, "POST", "/v1/users/"+pathName(name)+"/email", wire.EmailRequest{Email: email}, nil)
}

// DisableUser disables an account and ends its sessions.
func (c *Client) DisableUser(ctx context.Context, name string) error {
	return c.do(ctx, "POST", "/v1/users/"+pathName(name)+"/disable", nil, nil)
}

// Offboard disables an account, ends its sessions and grants, and lists
// what it could read in the last days days.
func (c *Client) Offboard(ctx context.Context, name string, days int) (wire.OffboardReport, error) {
	var out wire.OffboardReport
	err := c.do(ctx, "POST", fmt.Sprintf("/v1/users/%s/offboard?days=%d", pathName(name), days), nil, &out)
	return out, err
}

// Complete marks a contractor's work completed: the account, its grants
// and sessions end, and the report lists what to rotate.
func (c *Client) Complete(ctx context.Context, name string) (wire.OffboardReport, error) {
	var out wire.OffboardReport
	err := c.do(ctx, "POST", "/v1/users/"+pathName(name)+"/complete", nil, &out)
	return out, err
}

// ResetMFA issues a new TOTP enrolment for an account.
func (c *Client) ResetMFA(ctx context.Context, name string) (wire.MFAReset, error) {
	var out wire.MFAReset
	err := c.do(ctx, "POST", "/v1/users/"+pathName(name)+"/reset-mfa", nil, &out)
	return out, err
}

// SetMFAExempt exempts a member from TOTP at login, or ends the exemption.
func (c *Client) SetMFAExempt(ctx context.Context, name string, exempt bool) error {
	return c.do(ctx, "POST", "/v1/users/"+pathName(name)+"/mfa-exempt", wire.ExemptRequest{Exempt: exempt}, nil)
}

// StartDevice asks to sign in as user by approval in the web interface
// (POST /v1/auth/device, RFC 8628). Keep the answer's DeviceCode secret.
func (c *Client) StartDevice(ctx context.Context, user string) (wire.DeviceStart, error) {
	var out wire.DeviceStart
	err := c.do(ctx, "POST", "/v1/auth/device", wire.DeviceStartRequest{User: user}, &out)
	return out, err
}

// PollDevice asks whether the sign-in was approved (POST
// /v1/auth/device/token). Until then the error is an *APIError whose Code
// is authorization_pending or slow_down; access_denied, expired_token and
// invalid_grant end the wait.
func (c *Client) PollDevice(ctx context.Context, deviceCode string) (wire.LoginResponse, error) {
	var out wire.LoginResponse
	err := c.do(ctx, "POST", "/v1/auth/device/token", wire.DeviceTokenRequest{DeviceCode: deviceCode}, &out)
	return out, err
}

// Whoami is the session's account (GET /v1/auth/whoami).
func (c *Client) Whoami(ctx context.Context) (wire.Whoami, error) {
	var out wire.Whoami
	err := c.do(ctx, "GET", "/v1/auth/whoami", nil, &out)
	return out, err
}
