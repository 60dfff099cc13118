// Passkeys and security keys: a person registers theirs (naming each),
// signs in with password and passkey, confirms it is them with a passkey
// before an admin password is shown, and removes one after confirming.
// WebAuthn needs the browser's navigator.credentials, so these steps need
// JavaScript (static/passkey.js); the pages say so, and the authenticator
// app code keeps working without it.
//
// The ceremony's challenge stays in the vault (identity), bound to the
// session or sign-in attempt; the browser holds only its random ID, in an
// HttpOnly __Host- cookie, never in a URL.

package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

const ceremonyCookie = "__Host-strongroom-webauthn"

// beginCeremony answers a begun ceremony: the options as JSON for
// passkey.js, and the ceremony's ID in its cookie.
func (w *web) beginCeremony(c echo.Context, cer *vault.Ceremony, err error) error {
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		if errors.Is(err, vault.ErrReauth) {
			msg = "Confirm it is you first: reload this page and follow the link to confirm"
		}
		return c.JSON(status, map[string]string{"error": sentence(passkeyMessage(err, msg))})
	}
	c.SetCookie(&http.Cookie{Name: ceremonyCookie, Value: cer.ID, Path: "/", MaxAge: 300, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode})
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONBlob(http.StatusOK, cer.Options)
}

// passkeyAnswer is the browser's answer in the form's "passkey" field, for
// the ceremony its cookie names (nil if the form has none). The cookie is
// cleared: a ceremony is used once.
func passkeyAnswer(c echo.Context) *vault.PasskeyAnswer {
	resp := c.FormValue("passkey")
	if resp == "" {
		return nil
	}
	ans := &vault.PasskeyAnswer{Response: []byte(resp)}
	if ck, err := c.Cookie(ceremonyCookie); err == nil {
		ans.Ceremony = ck.Value
	}
	c.SetCookie(&http.Cookie{Name: ceremonyCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode})
	return ans
}

// passkeyMessage is what to tell a person of a refused passkey, chosen by
// the error's type.
func passkeyMessage(err error, fallback string) string {
	var pe *vault.PasskeyError
	if !errors.As(err, &pe) {
		return fallback
	}
	switch pe.Problem {
	case vault.PasskeyOrigin:
		return "This passkey answer was made for a different web address from this vault's. Check the address bar: sign in only at the vault's own address"
	case vault.PasskeyExpired:
		return "The passkey request ran out of time or was already used. Try again"
	case vault.PasskeyRequired:
		return "Your role must sign in with a passkey: use your passkey, or one of your recovery codes"
	case vault.PasskeyReauthRequired:
		return "Your role must confirm it is you with a passkey, not a code: use the passkey button on this page"
	case vault.PasskeysOff:
		return "Passkeys are not set up on this vault. Ask your IT provider"
	}
	return string(pe.Problem)
}

func (w *web) passkeyLoginBegin(c echo.Context) error {
	cer, err := w.s.v.BeginPasskeyLogin()
	return w.beginCeremony(c, cer, err)
}

func (w *web) passwordlessBegin(c echo.Context) error {
	cer, err := w.s.v.BeginPasswordlessLogin()
	return w.beginCeremony(c, cer, err)
}

// passwordlessLogin signs in with a passkey alone (server --passwordless).
func (w *web) passwordlessLogin(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	ans := passkeyAnswer(c)
	if ans == nil {
		return w.render(c, http.StatusUnprocessableEntity, "login", w.loginPage(nil,
			&fieldError{"name", "Signing in with a passkey needs JavaScript in your browser. Without it, use your password and code"}))
	}
	token, _, err := w.s.v.PasswordlessLogin(ctx(c), request(c), *ans)
	if err != nil {
		return w.loginRefused(c, err, nil, "The passkey was not accepted")
	}
	setSession(c, token)
	return c.Redirect(http.StatusSeeOther, "/ui/home")
}

func (w *web) passkeyRegisterBegin(c echo.Context) error {
	cer, err := w.s.v.BeginPasskeyRegistration(ctx(c), webUser(c), c.FormValue("passkey_name"))
	return w.beginCeremony(c, cer, err)
}

func (w *web) passkeyReauthBegin(c echo.Context) error {
	cer, err := w.s.v.BeginPasskeyReauth(ctx(c), webUser(c))
	return w.beginCeremony(c, cer, err)
}

// passkeysPage lists the person's passkeys, with the form to add one.
func (w *web) passkeysPage(c echo.Context, status int, pg *page) error {
	keys, err := w.s.v.ListPasskeys(ctx(c), webUser(c))
	if err != nil {
		return w.fail(c, err)
	}
	type row struct {
		vault.PasskeyInfo
		Added, Used string
	}
	rows := make([]row, len(keys))
	for i, k := range keys {
		rows[i] = row{PasskeyInfo: k, Added: k.Created.In(london).Format("2 January 2006 at 15:04"), Used: "Not yet"}
		if !k.LastUsed.IsZero() {
			rows[i].Used = k.LastUsed.In(london).Format("2 January 2006 at 15:04")
		}
	}
	pg.Title = "Passkeys and security keys"
	// Adding a passkey (a new way in) needs a sign-in or re-authentication
	// in the last 5 minutes; otherwise the page links to the confirmation.
	pg.Data = map[string]any{"Keys": rows, "On": w.s.v.PasskeysOn(), "Fresh": vault.Fresh(webUser(c), time.Now())}
	return w.render(c, status, "passkeys", pg)
}

func (w *web) passkeys(c echo.Context) error {
	pg := &page{}
	switch c.QueryParam("done") {
	case "added":
		pg.Flash = "Your passkey is registered. You can use it the next time you sign in."
	case "removed":
		pg.Flash = "The passkey is removed. It can no longer be used to sign in."
	}
	return w.passkeysPage(c, http.StatusOK, pg)
}

func (w *web) passkeyAdd(c echo.Context) error {
	f := form(c, "passkey_name")
	ans := passkeyAnswer(c)
	if ans == nil {
		return w.passkeysPage(c, http.StatusUnprocessableEntity, &page{Form: f,
			Errors: []*fieldError{{"passkey_name", "Adding a passkey needs JavaScript in your browser: turn it on, or use a browser that has it"}}})
	}
	err := w.s.v.FinishPasskeyRegistration(ctx(c), request(c), webUser(c), f["passkey_name"], *ans)
	if errors.Is(err, vault.ErrReauth) {
		return c.Redirect(http.StatusSeeOther, "/ui/reauth?next=/ui/passkeys")
	}
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.passkeysPage(c, http.StatusUnprocessableEntity, &page{Form: f,
			Errors: []*fieldError{{"passkey_name", sentence(passkeyMessage(err, msg))}}})
	}
	return c.Redirect(http.StatusSeeOther, "/ui/passkeys?done=added")
}

func (w *web) passkeyRemove(c echo.Context) error {
	err := w.s.v.RemovePasskey(ctx(c), request(c), webUser(c), c.FormValue("id"))
	switch {
	case errors.Is(err, vault.ErrReauthNeeded):
		return c.Redirect(http.StatusSeeOther, "/ui/reauth?next=/ui/passkeys")
	case err != nil:
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.passkeysPage(c, status, &page{Errors: []*fieldError{{"passkeys", sentence(msg)}}})
	}
	return c.Redirect(http.StatusSeeOther, "/ui/passkeys?done=removed")
}
