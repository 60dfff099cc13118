// People: the IT provider adds accounts (with a role and an optional end
// date), hands each new person their first sign-in (a one-time password
// and the QR code of their authenticator, MFA) and disables accounts.

package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

var roleChoices = []struct{ Value, Label string }{
	{"clerk", "Clerk: uses the council’s shared accounts, approves access requests"},
	{"member", "Member or contractor: uses only what is assigned or granted"},
	{"chairman", "Chairman: holds an envelope, approves requests, emergency access"},
	{"auditor", "Auditor: reads the log, never a password"},
	{"provider", "IT provider: manages people and admin passwords"},
}

func (w *web) users(c echo.Context) error {
	return w.usersPage(c, http.StatusOK, nil, map[string]string{"role": "clerk"})
}

func (w *web) usersPage(c echo.Context, status int, errs []*fieldError, f map[string]string) error {
	users, err := w.s.v.ListUsers(ctx(c), request(c), webUser(c))
	if err != nil {
		return w.fail(c, err)
	}
	return w.render(c, status, "users", &page{Title: "People", Errors: errs, Form: f,
		Data: map[string]any{"Users": users, "Roles": roleChoices}})
}

func (w *web) userAdd(c echo.Context) error {
	f := form(c, "name", "role", "expires", "email")
	var expires time.Time
	if f["expires"] != "" {
		d, err := time.ParseInLocation("2006-01-02", f["expires"], time.Local)
		if err != nil {
			return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{{"expires", "Enter the date as a real date"}}, f)
		}
		expires = d.Add(24*time.Hour - time.Second)
	}
	if f["name"] == "" {
		return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{{"name", "Enter the person’s name"}}, f)
	}
	// The one role parser (the vault's): no role or an unknown one is an
	// error on the role field, as the API's is.
	role, err := vault.ParseRole(f["role"])
	if err != nil {
		return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{inputError(err, "role")}, f)
	}
	otl, err := w.s.v.CreatePerson(ctx(c), request(c), webUser(c), vault.NewPerson{Name: f["name"], Role: role, Expires: expires, Email: f["email"]})
	if err != nil {
		var ee *vault.ExistsError
		if errors.As(err, &ee) {
			return w.usersPage(c, http.StatusConflict, []*fieldError{{"name", sentence(publicMessage(err))}}, f)
		}
		if fe := inputError(err, "name"); fe != nil && fe.Field == "email" {
			fe.Msg = "Enter an e-mail address in the correct format, like clerk@example-parish.gov.uk"
			return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{fe}, f)
		} else if fe != nil {
			return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{fe}, f)
		}
		return w.fail(c, err)
	}
	qr, err := qrDataURI(otl.TOTPURI)
	if err != nil {
		return w.fail(c, err)
	}
	return w.render(c, http.StatusOK, "user_created", &page{Title: otl.Name + " can now sign in", Data: map[string]any{
		"Name": otl.Name, "Password": otl.Password, "QR": qr, "Secret": totpSecret(otl.TOTPURI)}})
}

// userEmail sets or removes one person's e-mail address from the People
// page.
func (w *web) userEmail(c echo.Context) error {
	f := form(c, "email")
	if err := w.s.v.SetEmail(ctx(c), request(c), webUser(c), credName(c), f["email"]); err != nil {
		if fe := inputError(err, "email"); fe != nil {
			// The row's field is named by the account's id (a name may
			// hold spaces, an HTML id may not).
			users, lerr := w.s.v.ListUsers(ctx(c), request(c), webUser(c))
			if lerr != nil {
				return w.fail(c, lerr)
			}
			for _, u := range users {
				if u.Name == credName(c) {
					fe.Field = "email-" + u.ID
				}
			}
			fe.Msg = "Enter an e-mail address in the correct format, like clerk@example-parish.gov.uk"
			return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{fe}, map[string]string{"role": "clerk"})
		}
		return w.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/ui/users")
}

func (w *web) userDisable(c echo.Context) error {
	if err := w.s.v.DisableUser(ctx(c), request(c), webUser(c), credName(c)); err != nil {
		return w.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/ui/users")
}
