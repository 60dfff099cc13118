package client

import (
	"context"
	"net/url"

	"strongroom/api/wire"
)

// Passkeys lists the caller's passkeys and security keys.
func (c *Client) Passkeys(ctx context.Context) (wire.Passkeys, error) {
	var out wire.Passkeys
	err := c.do(ctx, "GET", "/v1/auth/passkeys", nil, &out)
	return out, err
}

// RemovePasskey removes one of the caller's passkeys by its ID; the
// server asks for a re-authentication first (NeedsReauth).
func (c *Client) RemovePasskey(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/v1/auth/passkeys/"+url.PathEscape(id), nil, nil)
}
