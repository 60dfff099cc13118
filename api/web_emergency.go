// Envelopes and emergencies: an envelope holder (the chairman among them)
// checks that their envelope is still valid, even while the vault is
// sealed; during a recovery the chairman alone opens break-glass access to
// the admin passwords, for a stated reason; the IT provider (at any time)
// or the chairman (during a recovery) sets a new operator passphrase; and
// either of them may seal the vault.

package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

func (w *web) escrowCheckForm(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	return w.render(c, http.StatusOK, "escrow_check", &page{Title: "Check an envelope"})
}

func (w *web) escrowCheck(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	share := secretField(c, "share")
	defer wipeBytes(share)
	if strings.TrimSpace(string(share)) == "" {
		return w.render(c, http.StatusUnprocessableEntity, "escrow_check", &page{Title: "Check an envelope",
			Errors: []*fieldError{{"share", "Enter the envelope share"}}})
	}
	res, err := w.s.v.CheckShare(ctx(c), request(c), string(share))
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.render(c, http.StatusUnprocessableEntity, "escrow_check", &page{Title: "Check an envelope",
			Errors: []*fieldError{{"share", sentence(msg)}}})
	}
	return w.render(c, http.StatusOK, "escrow_check", &page{Title: "Check an envelope", Data: map[string]string{
		"Result": fmt.Sprintf("This is share %d of %d, held by %s, of the current set (generation %d). Any %d open the vault.",
			res.Index, res.Shares, res.Holder, res.Generation, res.Threshold)}})
}

func (w *web) emergency(c echo.Context) error {
	return w.render(c, http.StatusOK, "emergency", &page{Title: "Emergency"})
}

func (w *web) breakglass(c echo.Context) error {
	f := form(c, "reason")
	if f["reason"] == "" {
		return w.render(c, http.StatusUnprocessableEntity, "emergency", &page{Title: "Emergency", Form: f,
			Errors: []*fieldError{{"reason", "Say why you need the admin passwords"}}})
	}
	until, err := w.s.v.OpenBreakGlass(ctx(c), request(c), webUser(c), f["reason"])
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.render(c, status, "emergency", &page{Title: "Emergency", Form: f, Errors: []*fieldError{{"reason", sentence(msg)}}})
	}
	return w.render(c, http.StatusOK, "emergency", &page{Title: "Emergency",
		Data: map[string]string{"Until": until.Local().Format("15:04 on 2 January 2006")}})
}

func (w *web) seal(c echo.Context) error {
	if err := w.s.v.Seal(ctx(c), request(c), webUser(c)); err != nil {
		return w.fail(c, err)
	}
	clearSession(c)
	return c.Redirect(http.StatusSeeOther, "/ui/unseal")
}

func (w *web) emergencyPassphrase(c echo.Context) error {
	pass := secretField(c, "passphrase")
	defer wipeBytes(pass)
	if err := w.s.v.SetPassphrase(ctx(c), request(c), webUser(c), pass); err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.render(c, status, "emergency", &page{Title: "Emergency", Errors: []*fieldError{{"passphrase", sentence(msg)}}})
	}
	return w.render(c, http.StatusOK, "emergency", &page{Title: "Emergency", Flash: "The new operator passphrase is set."})
}
