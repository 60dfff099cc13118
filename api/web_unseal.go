// Unseal: opening the vault after a restart, by the IT provider with the
// operator passphrase or by envelope holders (the chairman and the others
// named at set-up) each entering their share until enough are in.

package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

func (w *web) unsealForm(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	st, _ := w.s.v.Status(ctx(c))
	if !st.Sealed {
		return c.Redirect(http.StatusSeeOther, "/ui/login")
	}
	return w.render(c, http.StatusOK, "unseal", &page{Title: "Open the vault", Status: st})
}

func (w *web) unseal(c echo.Context) error {
	pass, share := secretField(c, "passphrase"), secretField(c, "share")
	defer wipeBytes(pass)
	defer wipeBytes(share)
	var err error
	field := "passphrase"
	switch {
	case len(pass) > 0:
		err = w.s.v.UnsealPassphrase(ctx(c), request(c), pass)
	case len(strings.TrimSpace(string(share))) > 0:
		field = "share"
		_, err = w.s.v.UnsealShare(ctx(c), request(c), string(share))
	default:
		return w.render(c, http.StatusUnprocessableEntity, "unseal", &page{Title: "Open the vault",
			Errors: []*fieldError{{"passphrase", "Enter the operator passphrase, or an envelope share below"}}})
	}
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.render(c, status, "unseal", &page{Title: "Open the vault", Errors: []*fieldError{{field, sentence(msg)}}})
	}
	if st, _ := w.s.v.Status(ctx(c)); st.Sealed {
		return c.Redirect(http.StatusSeeOther, "/ui/unseal")
	}
	return c.Redirect(http.StatusSeeOther, "/ui/login")
}
