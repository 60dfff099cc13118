package client

import (
	"context"
	"io"
	"net/url"
	"time"

	"strongroom/api/wire"
)

// ExportAudit streams the log (GET /v1/audit?query): the caller copies the
// body and closes it. The export is recorded before its first byte.
func (c *Client) ExportAudit(ctx context.Context, query url.Values) (io.ReadCloser, error) {
	return c.stream(ctx, "/v1/audit?"+query.Encode())
}

// SubjectAudit streams every entry by or about a person.
func (c *Client) SubjectAudit(ctx context.Context, name, format string) (io.ReadCloser, error) {
	return c.stream(ctx, "/v1/audit/subject/"+pathName(name)+"?format="+url.QueryEscape(format))
}

// AuditReport streams the access report for a period (html or csv).
func (c *Client) AuditReport(ctx context.Context, query url.Values) (io.ReadCloser, error) {
	return c.stream(ctx, "/v1/audit/report?"+query.Encode())
}

// Checkpoint streams a signed checkpoint of the log now.
func (c *Client) Checkpoint(ctx context.Context) (io.ReadCloser, error) {
	return c.stream(ctx, "/v1/audit/checkpoint")
}

// VerifyAudit verifies the stored log on the server.
func (c *Client) VerifyAudit(ctx context.Context) (wire.VerifyResult, error) {
	var out wire.VerifyResult
	err := c.do(ctx, "GET", "/v1/audit/verify", nil, &out)
	return out, err
}

// Incidents lists security incidents between from and to (each a date or
// an RFC 3339 time; empty: unbounded).
func (c *Client) Incidents(ctx context.Context, from, to string) ([]wire.Incident, error) {
	q := url.Values{}
	if from != "" {
		q.Set("from", from)
	}
	if to != "" {
		q.Set("to", to)
	}
	var out []wire.Incident
	err := c.do(ctx, "GET", "/v1/audit/incidents?"+q.Encode(), nil, &out)
	return out, err
}

// RequestPrune asks (as the auditor) to remove entries older than before;
// nothing is removed until another person approves it (ApprovePrune).
func (c *Client) RequestPrune(ctx context.Context, before time.Time) (wire.PrunePending, error) {
	var out wire.PrunePending
	err := c.do(ctx, "POST", "/v1/audit/prune", wire.PruneRequest{Before: before}, &out)
	return out, err
}

// ApprovePrune performs the pending prune request id (a provider or the
// chairman who did not ask for it).
func (c *Client) ApprovePrune(ctx context.Context, id string) (wire.Pruned, error) {
	var out wire.Pruned
	err := c.do(ctx, "POST", "/v1/audit/prune/"+url.PathEscape(id)+"/approve", nil, &out)
	return out, err
}

// Backup streams a backup of the running vault.
func (c *Client) Backup(ctx context.Context) (io.ReadCloser, error) {
	return c.stream(ctx, "/v1/backup")
}
