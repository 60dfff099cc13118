package api

import (
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// overdueContractors are the home page's notice lines for the provider and
// the clerk: each contractor past the end date whose work was never marked
// completed (vault.OverdueContractors). Nil for anyone else, and when the
// list cannot be read (the page still works; the access review says more).
func (w *web) overdueContractors(c echo.Context, p *vault.Principal) []string {
	if p.Role != vault.RoleProvider && p.Role != vault.RoleClerk {
		return nil
	}
	list, err := w.s.v.OverdueContractors(ctx(c))
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range list {
		out = append(out, k.Name+" (agreement "+k.Agreement+": "+strings.Join(k.Scope, ", ")+"), whose access ended at "+
			ukTime(k.Expires, time.Now()))
	}
	return out
}
