// Give the council a login: any signed-in person stores the login of an
// account they run for the council (cred handover), so the password goes
// straight into the vault and through nobody else's hands. The clerk sees
// each one on their home page until they confirm receiving it.

package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

const handoverTitle = "Give the council a login"

func (w *web) handoverForm(c echo.Context) error {
	return w.render(c, http.StatusOK, "handover", &page{Title: handoverTitle, Form: map[string]string{}})
}

// handover stores the login. On an error the page comes back with what
// was typed, but the password and the two-factor secret, which are never
// sent back to the browser.
func (w *web) handover(c echo.Context) error {
	f := form(c, "name", "username", "url", "reason")
	pw, totpIn := secretField(c, "password"), c.FormValue("totp")
	defer wipeBytes(pw)
	pg := &page{Title: handoverTitle, Form: f}
	if f["name"] == "" {
		pg.Errors = append(pg.Errors, &fieldError{"name", "Enter the name of the account, for example “X (Twitter)”"})
	}
	if f["username"] == "" {
		pg.Errors = append(pg.Errors, &fieldError{"username", "Enter the user name or e-mail address the account signs in with"})
	}
	if len(pw) == 0 {
		pg.Errors = append(pg.Errors, &fieldError{"password", "Enter the account’s password"})
	}
	if pg.Errors != nil {
		return w.render(c, http.StatusUnprocessableEntity, "handover", pg)
	}
	info, err := w.s.v.HandOver(ctx(c), request(c), webUser(c), vault.HandoverInput{Name: f["name"], Username: f["username"],
		URL: f["url"], Password: pw, TOTP: totpIn, Reason: f["reason"]})
	if err != nil {
		if fe := inputError(err, "name"); fe != nil {
			pg.Errors = []*fieldError{fe}
			return w.render(c, http.StatusUnprocessableEntity, "handover", pg)
		}
		return w.fail(c, err)
	}
	return w.render(c, http.StatusOK, "message", &page{Title: "Login handed over", Data: map[string]any{
		"Lines": []string{"Thank you. The council now has the login for " + info.Name + ".",
			"It is kept for " + joinAnd(info.Assignees) + ". Nobody else can see the password.",
			"The clerk has been told and will confirm that they received it."},
		"Link": menuItem{Href: "/ui/creds/" + url.PathEscape(info.Name), Label: "See " + info.Name}}})
}

// handoverConfirm is the clerk's "I have received it" (a POST from the
// home page or the password's page), then back to that password's page.
func (w *web) handoverConfirm(c echo.Context) error {
	info, err := w.s.v.ConfirmHandover(ctx(c), request(c), webUser(c), credName(c))
	if err != nil {
		return w.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/ui/creds/"+url.PathEscape(info.Name))
}

// pendingHandover is a hand-over on the clerk's home page.
type pendingHandover struct{ Credential, By, When string }

// pendingHandovers lists, for a clerk, the logins handed over that they
// have not confirmed yet (nil for anyone else, or if they cannot be read).
func (w *web) pendingHandovers(c echo.Context) []pendingHandover {
	list, err := w.s.v.PendingHandovers(ctx(c), webUser(c))
	if err != nil {
		return nil
	}
	var out []pendingHandover
	for _, h := range list {
		out = append(out, pendingHandover{Credential: h.Credential, By: h.By, When: ukTime(h.At, time.Now())})
	}
	return out
}

// handoverLine says on a password's page who handed it over and whether
// the clerk confirmed it ("" if nobody handed it over).
func handoverLine(h *vault.HandoverInfo) string {
	if h == nil {
		return ""
	}
	now := time.Now()
	s := "By " + h.By + " at " + ukTime(h.At, now) + "."
	if h.ConfirmedAt.IsZero() {
		return s + " The clerk has not yet confirmed receiving it."
	}
	return s + " " + h.ConfirmedBy + " confirmed receiving it at " + ukTime(h.ConfirmedAt, now) + "."
}

// joinAnd lists names as people write them: "A", "A and B", "A, B and C".
func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return "nobody"
	case 1:
		return names[0]
	}
	out := names[0]
	for _, n := range names[1 : len(names)-1] {
		out += ", " + n
	}
	return out + " and " + names[len(names)-1]
}
