// The password health report page: for the IT provider (who acts on it)
// and the auditor (who checks that they do). Each finding links to the
// password's page and, for the provider, to its "change the password"
// form. The page is a GET form (the age) and plain links, so it works
// without JavaScript; every load is a reading of the report, recorded.

package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London on machines without a zoneinfo database

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// healthRow is one credential in a table of the page.
type healthRow struct {
	Credential, Kind, Detail, Page, Rotate string
}

// healthSection is one check of the report: a heading and its table.
type healthSection struct {
	ID, Title, None string
	Rows            []healthRow
}

// london is UK time, for when the report was made.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("api: no Europe/London in the embedded tzdata: " + err.Error())
	}
	return loc
}()

func (w *web) passwordHealth(c echo.Context) error {
	days := strings.TrimSpace(c.QueryParam("older_than"))
	pg := &page{Title: "Password health", Form: map[string]string{"older_than": days}, Data: map[string]any{}}
	age, err := olderThan(days)
	if err == nil && days != "" && strings.Trim(days, "0123456789") != "" {
		err = errors.New("days only") // the form asks for a number of days
	}
	if err != nil {
		pg.Errors = []*fieldError{{"older_than", "Enter the number of days, from 1 to 3650, such as 365"}}
		return w.render(c, http.StatusBadRequest, "health", pg)
	}
	rep, err := w.s.v.PasswordHealth(ctx(c), request(c), webUser(c), age)
	if fe := inputError(err, "older_than"); fe != nil {
		pg.Errors = []*fieldError{{"older_than", "Enter the number of days, from 1 to 3650, such as 365"}}
		return w.render(c, http.StatusBadRequest, "health", pg)
	}
	if err != nil {
		return w.fail(c, err)
	}
	if days == "" {
		pg.Form["older_than"] = strconv.Itoa(rep.OlderThanDays)
	}
	canRotate := webUser(c).Role == vault.RoleProvider
	row := func(f vault.HealthFinding) healthRow {
		r := healthRow{Credential: f.Credential, Kind: string(f.Kind), Detail: sentence(f.Detail), Page: "/ui/creds/" + url.PathEscape(f.Credential)}
		if canRotate {
			r.Rotate = r.Page + "#change"
		}
		return r
	}
	rows := func(fs []vault.HealthFinding) []healthRow { return each(fs, row) }
	var groups [][]healthRow
	for _, g := range rep.Reused {
		groups = append(groups, rows(g.Credentials))
	}
	sections := []healthSection{
		{ID: "weak", Title: "Easy to guess", None: "No password is easy to guess.", Rows: rows(rep.Weak)},
		{ID: "stale", Title: "Not changed for more than " + strconv.Itoa(rep.OlderThanDays) + " days", None: "Every password was changed more recently.", Rows: rows(rep.Stale)},
		{ID: "compromised", Title: "Reported compromised and not changed since", None: "None.", Rows: rows(rep.Compromised)},
		{ID: "totp", Title: "No two-factor code stored, though the site offers one", None: "None.", Rows: rows(rep.MissingTOTP)},
		{ID: "no-url", Title: "No two-factor code and no web address to judge by", None: "None.", Rows: rows(rep.NoURL)},
	}
	pg.Data = map[string]any{"Report": rep, "Groups": groups, "Sections": sections, "CanRotate": canRotate,
		"Generated": rep.Generated.In(london).Format("2 January 2006 at 15:04")}
	return w.render(c, http.StatusOK, "health", pg)
}
