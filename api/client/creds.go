package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"strongroom/api/wire"
)

// Page is one page of GET /v1/creds. Next is the query of the following
// page, from the answer's Link rel="next" header; nil on the last page.
type Page struct {
	Credentials []wire.CredentialInfo
	Next        *wire.ListOptions
}

// ListCredentials reads one page of the credentials the caller may see,
// in name order (no secrets).
func (c *Client) ListCredentials(ctx context.Context, opt wire.ListOptions) (Page, error) {
	q := url.Values{}
	if opt.After != "" {
		q.Set("after", opt.After)
	}
	if opt.Limit > 0 {
		q.Set("limit", strconv.Itoa(opt.Limit))
	}
	if opt.Query != "" {
		q.Set("q", opt.Query)
	}
	path := "/v1/creds"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	var page Page
	if err := decodeAnswer(resp, &page.Credentials); err != nil {
		return Page{}, err
	}
	page.Next = nextPage(resp.Header.Values("Link"))
	return page, nil
}

// AllCredentials follows the pages of ListCredentials to the end.
func (c *Client) AllCredentials(ctx context.Context, opt wire.ListOptions) ([]wire.CredentialInfo, error) {
	var all []wire.CredentialInfo
	for next := &opt; next != nil; {
		page, err := c.ListCredentials(ctx, *next)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Credentials...)
		next = page.Next
	}
	return all, nil
}

// nextPage reads the query of an RFC 8288 link with rel="next".
func nextPage(links []string) *wire.ListOptions {
	for _, h := range links {
		for _, link := range strings.Split(h, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(link), ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
			if err != nil {
				continue
			}
			q := u.Query()
			limit, _ := strconv.Atoi(q.Get("limit"))
			return &wire.ListOptions{After: q.Get("after"), Limit: limit, Query: q.Get("q")}
		}
	}
	return nil
}

// PutCredential stores a credential, or a new version of it.
func (c *Client) PutCredential(ctx context.Context, in wire.CredentialRequest) (wire.CredentialInfo, error) {
	var out wire.CredentialInfo
	err := c.do(ctx, "POST", "/v1/creds", in, &out)
	return out, err
}

// GetCredential reads a credential's secret (version 0: the current one).
// The read is recorded. The caller wipes the answer (Credential.Wipe).
func (c *Client) GetCredential(ctx context.Context, name string, version int) (wire.Credential, error) {
	path := "/v1/creds/" + pathName(name)
	if version > 0 {
		path += "?version=" + strconv.Itoa(version)
	}
	var out wire.Credential
	err := c.do(ctx, "GET", path, nil, &out)
	return out, err
}

// DeleteCredential retires a credential (its versions are kept).
func (c *Client) DeleteCredential(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/creds/"+pathName(name), nil, nil)
}

// UndeleteCredential brings back a retired credential.
func (c *Client) UndeleteCredential(ctx context.Context, name string) (wire.CredentialInfo, error) {
	var out wire.CredentialInfo
	err := c.do(ctx, "POST", "/v1/creds/"+pathName(name)+"/undelete", nil, &out)
	return out, err
}

// CredentialTOTP reads the current TOTP code of a stored login (recorded as a read).
func (c *Client) CredentialTOTP(ctx context.Context, name string) (wire.TOTPCode, error) {
	var out wire.TOTPCode
	err := c.do(ctx, "GET", "/v1/creds/"+pathName(name)+"/totp", nil, &out)
	return out, err
}

// CredentialHistory lists every stored version (no secrets).
func (c *Client) CredentialHistory(ctx context.Context, name string) ([]wire.Version, error) {
	var out []wire.Version
	err := c.do(ctx, "GET", "/v1/creds/"+pathName(name)+"/history", nil, &out)
	return out, err
}

// MarkCompromised reports a suspected compromise.
func (c *Client) MarkCompromised(ctx context.Context, name, reason string) error {
	return c.do(ctx, "POST", "/v1/creds/"+pathName(name)+"/compromised", wire.CompromisedRequest{Reason: reason}, nil)
}

// RotateCredential stores a new password as a new version. The caller
// wipes a generated password in the answer.
func (c *Client) RotateCredential(ctx context.Context, name string, in wire.RotateRequest) (wire.Rotated, error) {
	var out wire.Rotated
	err := c.do(ctx, "POST", "/v1/creds/"+pathName(name)+"/rotate", in, &out)
	return out, err
}

// RestoreVersion makes an older version current again, as a new version.
func (c *Client) RestoreVersion(ctx context.Context, name string, version int) (wire.CredentialInfo, error) {
	var out wire.CredentialInfo
	err := c.do(ctx, "POST", "/v1/creds/"+pathName(name)+"/restore", wire.RestoreRequest{Version: version}, &out)
	return out, err
}

// ReviewCredential records that the caller checked who holds access.
func (c *Client) ReviewCredential(ctx context.Context, name string) error {
	return c.do(ctx, "POST", "/v1/creds/"+pathName(name)+"/review", nil, nil)
}

// HandOver hands a council account's login over to the council: it is
// stored as a shared credential assigned to the clerks and the caller.
func (c *Client) HandOver(ctx context.Context, in wire.HandoverRequest) (wire.CredentialInfo, error) {
	var out wire.CredentialInfo
	err := c.do(ctx, "POST", "/v1/handovers", in, &out)
	return out, err
}

// ConfirmHandover records that the calling clerk received a handed-over
// login.
func (c *Client) ConfirmHandover(ctx context.Context, name string) (wire.CredentialInfo, error) {
	var out wire.CredentialInfo
	err := c.do(ctx, "POST", "/v1/handovers/"+pathName(name)+"/confirm", nil, &out)
	return out, err
}
