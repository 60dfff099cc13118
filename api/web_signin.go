// Signing in and out, changing one's own password, and confirming it is
// you again (re-authentication) before an admin password is shown. Every
// person uses it: clerk, chairman, provider, auditor and members; a new
// account is sent to the password page until it has chosen its own.

package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

func (w *web) loginForm(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	if webUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/ui/home")
	}
	return w.render(c, http.StatusOK, "login", w.loginPage(nil))
}

func (w *web) login(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	f := form(c, "name")
	pw := secretField(c, "password")
	defer wipeBytes(pw)
	code := codeField(c, "totp")
	var errs []*fieldError
	if f["name"] == "" {
		errs = append(errs, &fieldError{"name", "Enter your account name"})
	}
	if len(pw) == 0 {
		errs = append(errs, &fieldError{"password", "Enter your password"})
	}
	if len(errs) > 0 {
		return w.render(c, http.StatusUnprocessableEntity, "login", w.loginPage(f, errs...))
	}
	in := vault.LoginRequest{Name: f["name"], Password: pw, TOTP: code, Passkey: passkeyAnswer(c)}
	if len(code) > 8 { // a recovery code, not a TOTP code
		in.TOTP, in.RecoveryCode = "", code
	}
	if in.Passkey != nil {
		in.TOTP, in.RecoveryCode = "", ""
	}
	token, _, err := w.s.v.Login(ctx(c), request(c), in)
	if err != nil {
		bad := "The account name, password or code is not right"
		if in.Passkey != nil {
			bad = "The account name, password or passkey is not right"
		}
		return w.loginRefused(c, err, f, bad)
	}
	setSession(c, token)
	return c.Redirect(http.StatusSeeOther, "/ui/home")
}

// loginPage is the sign-in page, with the form as given and an error.
func (w *web) loginPage(f map[string]string, errs ...*fieldError) *page {
	return &page{Title: "Sign in", Errors: errs, Form: f,
		Data: map[string]any{"Passkeys": w.s.v.PasskeysOn(), "Passwordless": w.s.v.PasswordlessOn()}}
}

// loginRefused answers a refused sign-in: bad is what to say of a wrong
// name, password or second factor (every such failure alike).
func (w *web) loginRefused(c echo.Context, err error, f map[string]string, bad string) error {
	status, msg := classify(err)
	if status >= 500 {
		return w.fail(c, err)
	}
	if errors.Is(err, vault.ErrBadLogin) {
		msg = bad
	}
	if le := (*vault.LockedError)(nil); errors.As(err, &le) {
		setRetryAfter(c, le.Until)
	}
	return w.render(c, status, "login", w.loginPage(f, &fieldError{"name", sentence(passkeyMessage(err, msg))}))
}

func setSession(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func (w *web) logout(c echo.Context) error {
	if p := webUser(c); p != nil {
		_ = w.s.v.Logout(ctx(c), request(c), p)
	}
	clearSession(c)
	c.Set(ctxUser, nil)
	msg := "You have signed out."
	if c.FormValue("reason") == "idle" {
		msg = "You were signed out because there was no activity for 15 minutes."
	}
	return w.render(c, http.StatusOK, "message", &page{Title: "Signed out",
		Data: map[string]any{"Lines": []string{msg}, "Link": menuItem{Href: "/ui/login", Label: "Sign in again"}}})
}

func (w *web) passwordForm(c echo.Context) error {
	return w.render(c, http.StatusOK, "password", &page{Title: "Choose a new password"})
}

func (w *web) password(c echo.Context) error {
	old, pw, pw2 := secretField(c, "old"), secretField(c, "new"), secretField(c, "new2")
	defer wipeBytes(old)
	defer wipeBytes(pw)
	defer wipeBytes(pw2)
	pg := &page{Title: "Choose a new password"}
	switch {
	case len(old) == 0:
		pg.Errors = append(pg.Errors, &fieldError{"old", "Enter your current password"})
	case len(pw) == 0:
		pg.Errors = append(pg.Errors, &fieldError{"new", "Enter a new password"})
	case string(pw) != string(pw2):
		pg.Errors = append(pg.Errors, &fieldError{"new2", "The two new passwords are different"})
	}
	if pg.Errors == nil {
		err := w.s.v.ChangePassword(ctx(c), request(c), webUser(c), old, pw)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/ui/home")
		}
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		field := "new"
		if errors.Is(err, vault.ErrBadLogin) || status == http.StatusUnauthorized {
			field, msg = "old", "Your current password is not right"
		}
		pg.Errors = []*fieldError{{field, sentence(msg)}}
		return w.render(c, http.StatusUnprocessableEntity, "password", pg)
	}
	return w.render(c, http.StatusUnprocessableEntity, "password", pg)
}

// safeNext keeps a return address on our own pages, escaped for a
// Location header.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/ui/") || strings.ContainsAny(u.Path, "\\\r\n") {
		return "/ui/home"
	}
	return (&url.URL{Path: u.Path}).EscapedPath()
}

// reauthRefused is the form error for a wrong password or code at
// re-authentication, here and at export.
const reauthRefused = "The password or code is not right (a code can be used once: wait for the next one)"

func (w *web) reauthForm(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	why := "Admin passwords and their two-factor codes are shown only after you confirm it is you again: with your passkey, or your password and a new authenticator code. It lasts 5 minutes."
	if next == deviceNext {
		why = "Signing in a command line needs you to confirm it is you again: with your passkey, or your password and a new authenticator code."
	}
	return w.render(c, http.StatusOK, "reauth", &page{Title: "Confirm it is you", Data: map[string]any{
		"Next": next, "Passkeys": w.s.v.PasskeysOn(), "Why": why}})
}

func (w *web) reauth(c echo.Context) error {
	pw := secretField(c, "password")
	next := safeNext(c.FormValue("next"))
	code := codeField(c, "totp")
	var err error
	if ans := passkeyAnswer(c); ans != nil {
		err = w.s.v.ReauthenticateWithPasskey(ctx(c), request(c), webUser(c), *ans)
	} else {
		err = w.s.v.Reauthenticate(ctx(c), request(c), webUser(c), vault.Reauth{Password: pw, TOTP: code})
	}
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		if errors.Is(err, vault.ErrReauth) {
			msg = reauthRefused
		}
		msg = passkeyMessage(err, msg)
		if le := (*vault.LockedError)(nil); errors.As(err, &le) {
			setRetryAfter(c, le.Until)
			status = http.StatusTooManyRequests
		} else {
			status = http.StatusUnprocessableEntity
		}
		return w.render(c, status, "reauth", &page{Title: "Confirm it is you",
			Errors: []*fieldError{{"password", sentence(msg)}}, Data: map[string]any{"Next": next, "Why": "Try again.", "Passkeys": w.s.v.PasskeysOn()}})
	}
	return c.Redirect(http.StatusSeeOther, next)
}
