package client

import (
	"context"
	"fmt"
	"net/url"

	"strongroom/api/wire"
)

// CreateRequest asks for time-limited access to a credential.
func (c *Client) CreateRequest(ctx context.Context, in wire.AccessRequestBody) (wire.AccessRequest, error) {
	var out wire.AccessRequest
	err := c.do(ctx, "POST", "/v1/requests", in, &out)
	return out, err
}

// ListRequests lists requests: all for approvers, one's own otherwise.
func (c *Client) ListRequests(ctx context.Context) ([]wire.AccessRequest, error) {
	var out []wire.AccessRequest
	err := c.do(ctx, "GET", "/v1/requests", nil, &out)
	return out, err
}

// DecideRequest approves (a grant that expires) or denies a request, with
// the approver's reason if why is not empty.
func (c *Client) DecideRequest(ctx context.Context, id string, approve bool, why string) (wire.Decision, error) {
	verb := "deny"
	if approve {
		verb = "approve"
	}
	var out wire.Decision
	var body any
	if why != "" {
		body = wire.DecisionBody{Reason: why}
	}
	err := c.do(ctx, "POST", "/v1/requests/"+pathName(id)+"/"+verb, body, &out)
	return out, err
}

// RevokeGrant ends a grant early.
func (c *Client) RevokeGrant(ctx context.Context, id string) error {
	return c.do(ctx, "POST", "/v1/grants/"+pathName(id)+"/revoke", nil, nil)
}

// AccessReview reads the register of admin and shared accounts, flagging
// those not reviewed in days days.
func (c *Client) AccessReview(ctx context.Context, days int) ([]wire.RegisterEntry, error) {
	var out []wire.RegisterEntry
	err := c.do(ctx, "GET", fmt.Sprintf("/v1/report/access-review?days=%d", days), nil, &out)
	return out, err
}

// PasswordHealth reads the password health report; olderThan is sent as
// given ("365d", "8760h"; "" for the server's default).
func (c *Client) PasswordHealth(ctx context.Context, olderThan string) (wire.PasswordHealth, error) {
	var out wire.PasswordHealth
	path := "/v1/report/password-health"
	if olderThan != "" {
		path += "?older_than=" + url.QueryEscape(olderThan)
	}
	err := c.do(ctx, "GET", path, nil, &out)
	return out, err
}

// AnnualReview reads the year's access review.
func (c *Client) AnnualReview(ctx context.Context) (wire.AnnualReview, error) {
	var out wire.AnnualReview
	err := c.do(ctx, "GET", "/v1/report/access-review/year", nil, &out)
	return out, err
}

// ConfirmReview confirms, in the review under way, the holders of the
// credential named, as the review showed them (mark).
func (c *Client) ConfirmReview(ctx context.Context, credential, mark string) error {
	return c.do(ctx, "POST", "/v1/report/access-review/confirm", wire.ReviewConfirmBody{Credential: credential, Mark: mark}, nil)
}

// SignOffReview signs the review under way off.
func (c *Client) SignOffReview(ctx context.Context) (wire.Signoff, error) {
	var out wire.Signoff
	err := c.do(ctx, "POST", "/v1/report/access-review/signoff", nil, &out)
	return out, err
}
