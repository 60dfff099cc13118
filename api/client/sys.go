package client

import (
	"context"
	"net/url"

	"strongroom/api/wire"
)

// Status reports whether the vault is initialised and sealed (no session needed).
func (c *Client) Status(ctx context.Context) (wire.Status, error) {
	var out wire.Status
	err := c.do(ctx, "GET", "/v1/sys/status", nil, &out)
	return out, err
}

// Init initialises a new vault; the answer (envelopes, the first
// provider's one-time password) is given once.
func (c *Client) Init(ctx context.Context, in wire.InitRequest) (wire.InitResponse, error) {
	var out wire.InitResponse
	err := c.do(ctx, "POST", "/v1/sys/init", in, &out)
	return out, err
}

// Unseal gives the passphrase, one share, or a reset of the shares given.
func (c *Client) Unseal(ctx context.Context, in wire.UnsealRequest) (wire.UnsealResponse, error) {
	var out wire.UnsealResponse
	err := c.do(ctx, "POST", "/v1/sys/unseal", in, &out)
	return out, err
}

// Seal seals the vault now.
func (c *Client) Seal(ctx context.Context) error { return c.do(ctx, "POST", "/v1/sys/seal", nil, nil) }

// CheckShare says whether an envelope is a valid, current share (no session needed).
func (c *Client) CheckShare(ctx context.Context, in wire.ShareRequest) (wire.ShareCheckResponse, error) {
	var out wire.ShareCheckResponse
	err := c.do(ctx, "POST", "/v1/escrow/check", in, &out)
	return out, err
}

// Rekey makes a new root key and new envelopes, returned once.
func (c *Client) Rekey(ctx context.Context, in wire.RekeyRequest) (wire.RekeyResponse, error) {
	var out wire.RekeyResponse
	err := c.do(ctx, "POST", "/v1/escrow/rekey", in, &out)
	return out, err
}

// Rewrap seals every record again under the data key term of the last
// re-key and drops the older terms.
func (c *Client) Rewrap(ctx context.Context) (wire.RewrapResponse, error) {
	var out wire.RewrapResponse
	err := c.do(ctx, "POST", "/v1/escrow/rewrap", struct{}{}, &out)
	return out, err
}

// SetPassphrase sets a new operator passphrase (after an emergency recovery).
func (c *Client) SetPassphrase(ctx context.Context, in wire.PassphraseRequest) error {
	return c.do(ctx, "POST", "/v1/recover/passphrase", in, nil)
}

// BreakGlass opens the chairman's time-limited access to admin credentials.
func (c *Client) BreakGlass(ctx context.Context, reason string) (wire.BreakGlass, error) {
	var out wire.BreakGlass
	err := c.do(ctx, "POST", "/v1/breakglass", wire.BreakGlassRequest{Reason: reason}, &out)
	return out, err
}

// MailSettings reads the council's e-mail switches.
func (c *Client) MailSettings(ctx context.Context) (*wire.MailSettings, error) {
	var out wire.MailSettings
	if err := c.do(ctx, "GET", "/v1/notify/settings", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetMail switches one kind of e-mail on or off for the council.
func (c *Client) SetMail(ctx context.Context, kind string, on bool) (*wire.MailSettings, error) {
	var out wire.MailSettings
	if err := c.do(ctx, "PUT", "/v1/notify/settings/"+url.PathEscape(kind), wire.MailSwitch{On: &on}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
