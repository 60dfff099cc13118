package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
)

// passkeysList lists the caller's passkeys (registering one needs a
// browser: the web interface's Passkeys page).
func (s *server) passkeysList(c echo.Context) error {
	keys, err := s.v.ListPasskeys(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	out := wire.Passkeys{Passkeys: make([]wire.Passkey, len(keys))}
	for i, k := range keys {
		out.Passkeys[i] = wire.Passkey{ID: k.ID, Name: k.Name, Synced: k.Synced, Created: k.Created, LastUsed: k.LastUsed}
	}
	return c.JSON(http.StatusOK, out)
}

// passkeyRemove removes one of the caller's passkeys; it needs a
// re-authentication within vault.ReauthWindow (403 with the reauth marker
// otherwise).
func (s *server) passkeyRemove(c echo.Context) error {
	if err := s.v.RemovePasskey(c.Request().Context(), request(c), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
