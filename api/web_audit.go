// The audit log: the auditor (and the IT provider) filters the log, checks
// its hash chain, downloads a signed checkpoint or the entries as JSON lines
// or CSV, and reads the incidents: refusals, failures and emergency access.

package api

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/audit"
	"strongroom/vault"
)

var outcomes = []string{"", audit.OutcomeOK, audit.OutcomeDenied, audit.OutcomeError}

func auditFilter(f map[string]string) (vault.Filter, error) {
	var flt vault.Filter
	for _, k := range []string{"from", "to"} {
		if f[k] == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", f[k])
		if err != nil {
			return flt, fmt.Errorf("%w: %s must be a date", vault.ErrInvalid, k)
		}
		if k == "from" {
			flt.From = t
		} else {
			flt.To = t.Add(24*time.Hour - time.Nanosecond)
		}
	}
	flt.Actor, flt.Action, flt.Outcome = f["actor"], f["action"], f["outcome"]
	return flt, nil
}

func (w *web) audit(c echo.Context) error {
	return w.auditPage(c, nil)
}

func (w *web) auditPage(c echo.Context, verify *vault.VerifyResult) error {
	f := map[string]string{}
	for _, k := range []string{"from", "to", "actor", "action", "outcome"} {
		f[k] = strings.TrimSpace(c.QueryParam(k))
		if v := strings.TrimSpace(c.FormValue(k)); v != "" {
			f[k] = v
		}
	}
	flt, err := auditFilter(f)
	if err != nil {
		return w.fail(c, err)
	}
	// One page at a time, newest first: the page reads the log in short
	// transactions and never holds all of it.
	before, _ := strconv.ParseUint(c.QueryParam("before"), 10, 64)
	pg, err := w.s.v.ReadAuditPage(ctx(c), request(c), webUser(c), flt, before, auditPageSize)
	if err != nil {
		return w.fail(c, err)
	}
	older := ""
	if pg.Before != 0 {
		q := url.Values{"before": {strconv.FormatUint(pg.Before, 10)}}
		for k, v := range f {
			if v != "" {
				q.Set(k, v)
			}
		}
		older = "/ui/audit?" + q.Encode()
	}
	return w.render(c, http.StatusOK, "audit", &page{Title: "Audit log", Form: f, Data: map[string]any{
		"Entries": pg.Entries, "Shown": len(pg.Entries), "Older": older, "Paged": before != 0,
		"Outcomes": outcomes, "Verify": verify}})
}

// auditPageSize is how many entries one page of the web audit log shows.
const auditPageSize = 100

func (w *web) auditVerify(c echo.Context) error {
	res, err := w.s.v.VerifyAudit(ctx(c), request(c), webUser(c))
	if err != nil {
		return w.fail(c, err)
	}
	return w.auditPage(c, &res)
}

func (w *web) auditCheckpoint(c echo.Context) error {
	signed, err := w.s.v.Checkpoint(ctx(c), request(c), webUser(c))
	if err != nil {
		return w.fail(c, err)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="strongroom-checkpoint.txt"`)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", signed)
}

func (w *web) auditExport(c echo.Context) error {
	f := form(c, "from", "to", "actor", "action", "outcome", "format")
	flt, err := auditFilter(f)
	if err != nil {
		return w.fail(c, err)
	}
	fm := vault.FormatJSONL
	if f["format"] == vault.FormatCSV {
		fm = vault.FormatCSV
	}
	var buf strings.Builder
	if err := w.s.v.ExportAudit(ctx(c), request(c), webUser(c), flt, fm, &buf); err != nil {
		return w.fail(c, err)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="strongroom-audit.`+fm+`"`)
	ct := "application/x-ndjson"
	if fm == vault.FormatCSV {
		ct = "text/csv; charset=utf-8"
	}
	return c.Blob(http.StatusOK, ct, []byte(buf.String()))
}

func (w *web) incidents(c echo.Context) error {
	list, err := w.s.v.Incidents(ctx(c), request(c), webUser(c), time.Time{}, time.Time{})
	if err != nil {
		return w.fail(c, err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Seq > list[j].Seq })
	return w.render(c, http.StatusOK, "incidents", &page{Title: "Incidents", Data: map[string]any{"Incidents": list}})
}
