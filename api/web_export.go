// Export: the IT provider takes every password out as a KeePass (KDBX)
// file, after giving their password and a new authenticator code again
// and choosing the file's passphrase; the provider alone may do it.

package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

func (w *web) exportForm(c echo.Context) error {
	if webUser(c).Role != vault.RoleProvider {
		return w.refuse(c, http.StatusForbidden, "Only the IT provider may export.")
	}
	return w.render(c, http.StatusOK, "export", &page{Title: "Export to KeePass", Data: map[string]any{"Passkeys": w.s.v.PasskeysOn()}})
}

func (w *web) export(c echo.Context) error {
	pass, pw := secretField(c, "passphrase"), secretField(c, "password")
	code := codeField(c, "totp")
	out, rep, err := w.s.v.ExportKDBX(ctx(c), request(c), webUser(c), vault.Reauth{Password: pw, TOTP: code, Passkey: passkeyAnswer(c)}, pass)
	if err != nil {
		status, msg := classify(err)
		if status >= 500 || status == http.StatusForbidden {
			return w.fail(c, err)
		}
		field := "passphrase"
		if errors.Is(err, vault.ErrReauth) {
			field, msg = "password", reauthRefused
		}
		if errors.Is(err, vault.ErrPasskey) {
			field, msg = "password", passkeyMessage(err, msg)
		}
		return w.render(c, http.StatusUnprocessableEntity, "export", &page{Title: "Export to KeePass", Errors: []*fieldError{{field, sentence(msg)}},
			Data: map[string]any{"Passkeys": w.s.v.PasskeysOn()}})
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="strongroom-export.kdbx"`)
	c.Response().Header().Set("X-Strongroom-Exported", strconv.Itoa(rep.Exported))
	return c.Blob(http.StatusOK, "application/octet-stream", out)
}
