// The audit log: the auditor (and the IT provider) filters the log, checks
// its hash chain, downloads a signed checkpoint or the entries as JSON lines
// or CSV, and reads the incidents: refusals, failures and emergency access.

package api

import (
	"fmt"
	"net/http"
	"sort"
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
	var buf strings.Builder
	if err := w.s.v.ExportAudit(ctx(c), request(c), webUser(c), flt, vault.FormatJSONL, &buf); err != nil {
		return w.fail(c, err)
	}
	var entries []*audit.Entry
	for _, line := range strings.Split(buf.String(), "\n") {
		e, err := audit.ParseLine([]byte(line))
		if err == nil && e.Action != "" && flt.Match(e) {
			entries = append(entries, e)
		}
	}
	matched := len(entries)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Seq > entries[j].Seq })
	if len(entries) > 200 {
		entries = entries[:200]
	}
	return w.render(c, http.StatusOK, "audit", &page{Title: "Audit log", Form: f, Data: map[string]any{
		"Entries": entries, "Matched": matched, "Shown": len(entries), "Outcomes": outcomes, "Verify": verify}})
}

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
