// Access requests: anyone but the auditor (a member or contractor, most
// often) asks for time-limited use of a password, giving a reason; the
// clerk or the chairman, if not the one who asked, approves or denies it,
// and an approval is a grant that ends by itself.

package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

func (w *web) requests(c echo.Context) error {
	return w.requestsPage(c, http.StatusOK, nil, map[string]string{"cred": c.QueryParam("cred"), "for": "2h"})
}

func (w *web) requestsPage(c echo.Context, status int, errs []*fieldError, f map[string]string) error {
	reqs, err := w.s.v.ListRequests(ctx(c), webUser(c))
	if err != nil {
		return w.fail(c, err)
	}
	role := webUser(c).Role
	return w.render(c, status, "requests", &page{Title: "Access requests", Errors: errs, Form: f,
		Data: map[string]any{"Requests": reqs, "Approver": role == vault.RoleClerk || role == vault.RoleChairman}})
}

func (w *web) requestCreate(c echo.Context) error {
	f := form(c, "cred", "reason", "for")
	d, err := time.ParseDuration(f["for"])
	var errs []*fieldError
	if f["cred"] == "" {
		errs = append(errs, &fieldError{"cred", "Enter the name of the password"})
	}
	if f["reason"] == "" {
		errs = append(errs, &fieldError{"reason", "Say why you need it"})
	}
	if err != nil || d <= 0 {
		errs = append(errs, &fieldError{"for", "Enter how long, for example 2h or 30m"})
	}
	if errs != nil {
		return w.requestsPage(c, http.StatusUnprocessableEntity, errs, f)
	}
	if _, err := w.s.v.CreateRequest(ctx(c), request(c), webUser(c), f["cred"], f["reason"], d); err != nil {
		if se := (*vault.ScopeError)(nil); errors.As(err, &se) {
			return w.requestsPage(c, http.StatusForbidden, []*fieldError{{"cred", sentence(se.Reason() + "; ask only for what the agreement covers")}}, f)
		}
		if fe := inputError(err, "cred"); fe != nil {
			return w.requestsPage(c, http.StatusUnprocessableEntity, []*fieldError{fe}, f)
		}
		if status, msg := classify(err); status == http.StatusNotFound || status == http.StatusForbidden {
			return w.requestsPage(c, status, []*fieldError{{"cred", sentence(msg)}}, f)
		}
		return w.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/ui/requests")
}

func (w *web) decide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, _, err := w.s.v.DecideRequest(ctx(c), request(c), webUser(c), c.Param("id"), approve, c.FormValue("reason")); err != nil {
			return w.fail(c, err)
		}
		return c.Redirect(http.StatusSeeOther, "/ui/requests")
	}
}
