package client

import (
	"context"

	"strongroom/api/wire"
)

// Import stores every login of a file as new credentials, all or none
// (or, with DryRun, says what it would store).
func (c *Client) Import(ctx context.Context, in wire.ImportRequest) (wire.ImportReport, error) {
	var out wire.ImportReport
	err := c.do(ctx, "POST", "/v1/import", in, &out)
	return out, err
}

// Export returns a KDBX 4 file of the credentials the caller may export.
func (c *Client) Export(ctx context.Context, in wire.ExportRequest) (wire.ExportResponse, error) {
	var out wire.ExportResponse
	err := c.do(ctx, "POST", "/v1/export", in, &out)
	return out, err
}
