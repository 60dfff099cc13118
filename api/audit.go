package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// exportAudit streams the log as JSONL. The export is recorded before the
// first byte is sent; a refusal happens before any byte, so it is still
// sent as an error.
func (s *server) exportAudit(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/x-ndjson")
	return s.v.ExportAudit(c.Request().Context(), request(c), principal(c), c.Response())
}

func (s *server) verifyAudit(c echo.Context) error {
	res, err := s.v.VerifyAudit(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
