package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// backup streams a backup of the running vault. It is recorded before the
// first byte; the manifest is signed with the audit key.
func (s *server) backup(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/octet-stream")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="strongroom.backup"`)
	_, err := s.v.Backup(c.Request().Context(), request(c), principal(c), c.Response())
	return err
}

// undelete brings back a retired credential.
func (s *server) credUndelete(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	info, err := s.v.UndeleteCredential(c.Request().Context(), request(c), principal(c), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}
