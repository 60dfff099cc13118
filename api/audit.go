package api

import (
	_ "embed"
	"encoding/csv"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/audit"
	"strongroom/vault"
)

// parseTime reads an RFC 3339 time or a date (YYYY-MM-DD, midnight UTC).
func parseTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, errBadRequest(name + " must be a date (2026-04-01) or an RFC 3339 time")
}

func filterFrom(c echo.Context) (vault.Filter, error) {
	from, err := parseTime(c, "from")
	if err != nil {
		return vault.Filter{}, err
	}
	to, err := parseTime(c, "to")
	if err != nil {
		return vault.Filter{}, err
	}
	f := vault.Filter{From: from, To: to, Actor: c.QueryParam("actor"), Action: c.QueryParam("action"),
		Target: c.QueryParam("target"), Outcome: c.QueryParam("outcome")}
	if seq := c.QueryParam("seq"); seq != "" { // an incident's link: that entry in full, the rest redacted
		n, err := strconv.ParseUint(seq, 10, 64)
		if err != nil {
			return f, errBadRequest("seq must be a whole number")
		}
		f.Seq = n
	}
	return f, nil
}

func format(c echo.Context, def string, allowed ...string) (string, error) {
	f := c.QueryParam("format")
	if f == "" {
		return def, nil
	}
	for _, a := range allowed {
		if f == a {
			return f, nil
		}
	}
	return "", errBadRequest("format must be one of " + strings.Join(allowed, ", "))
}

func setContentType(c echo.Context, format string) {
	ct := map[string]string{vault.FormatJSONL: "application/x-ndjson", vault.FormatCSV: "text/csv; charset=utf-8",
		"html": "text/html; charset=utf-8"}[format]
	c.Response().Header().Set(echo.HeaderContentType, ct)
}

// exportAudit streams the log (filtered: matching entries in full, the rest
// redacted). The export is recorded before the first byte is sent; a
// refusal happens before any byte, so it is still sent as an error.
func (s *server) exportAudit(c echo.Context) error {
	f, err := filterFrom(c)
	if err != nil {
		return err
	}
	fm, err := format(c, vault.FormatJSONL, vault.FormatJSONL, vault.FormatCSV)
	if err != nil {
		return err
	}
	setContentType(c, fm)
	return s.v.ExportAudit(c.Request().Context(), request(c), principal(c), f, fm, c.Response())
}

func (s *server) subjectAudit(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	fm, err := format(c, vault.FormatJSONL, vault.FormatJSONL, vault.FormatCSV)
	if err != nil {
		return err
	}
	f, err := s.v.SubjectFilter(c.Request().Context(), name)
	if err != nil {
		return err
	}
	setContentType(c, fm)
	return s.v.ExportAudit(c.Request().Context(), request(c), principal(c), f, fm, c.Response())
}

func (s *server) verifyAudit(c echo.Context) error {
	res, err := s.v.VerifyAudit(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.VerifyResult(res))
}

func (s *server) checkpoint(c echo.Context) error {
	signed, err := s.v.Checkpoint(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", signed)
}

func (s *server) incidents(c echo.Context) error {
	f, err := filterFrom(c)
	if err != nil {
		return err
	}
	list, err := s.v.Incidents(c.Request().Context(), request(c), principal(c), f.From, f.To)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, each(list, incidentOut))
}

func (s *server) prune(c echo.Context) error {
	var in wire.PruneRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.Before.IsZero() {
		return errBadRequest("before is required")
	}
	r, err := s.v.RequestPrune(c.Request().Context(), request(c), principal(c), in.Before)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, wire.PrunePending{ID: r.ID, Before: r.Before, Requester: r.Requester,
		Requested: r.Requested, State: r.State})
}

func (s *server) approvePrune(c echo.Context) error {
	res, err := s.v.ApprovePrune(c.Request().Context(), request(c), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := wire.Pruned{ID: c.Param("id"), Seq: res.Through, Cutoff: res.Cutoff, Checkpoint: string(res.Checkpoint)}
	if res.Through > 0 {
		out.From = res.From
	}
	return c.JSON(http.StatusOK, out)
}

//go:embed report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2 Jan 2006 15:04 MST")
	},
}).Parse(reportHTML))

func (s *server) report(c echo.Context) error {
	f, err := filterFrom(c)
	if err != nil {
		return err
	}
	fm, err := format(c, "html", "html", vault.FormatCSV, "json")
	if err != nil {
		return err
	}
	r, err := s.v.Report(c.Request().Context(), request(c), principal(c), f.From, f.To)
	if err != nil {
		return err
	}
	switch fm {
	case "json":
		return c.JSON(http.StatusOK, r)
	case vault.FormatCSV:
		setContentType(c, fm)
		w := csv.NewWriter(c.Response())
		_ = w.Write([]string{"section", "credential", "person", "reads", "last_or_time", "action", "outcome", "reason", "seq"})
		for _, x := range r.ByCredential {
			_ = w.Write([]string{"reads by credential", x.Credential, x.Person, strconv.Itoa(x.Reads), x.Last.Format(time.RFC3339), "", "", "", ""})
		}
		for _, x := range r.ByPerson {
			_ = w.Write([]string{"reads by person", x.Credential, x.Person, strconv.Itoa(x.Reads), x.Last.Format(time.RFC3339), "", "", "", ""})
		}
		for _, sec := range []struct {
			name string
			list []*audit.Entry
		}{{"denial", r.Denials}, {"break-glass", r.BreakGlass}} {
			for _, e := range sec.list {
				_ = w.Write([]string{sec.name, e.Target.Name, e.Actor.Name, "", e.Time.Format(time.RFC3339), string(e.Action), e.Outcome, e.Reason, strconv.FormatUint(e.Seq, 10)})
			}
		}
		w.Flush()
		return w.Error()
	}
	setContentType(c, "html")
	// The report is a document to save, not a page: it needs its own style.
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Response().WriteHeader(http.StatusOK)
	return reportTemplate.Execute(c.Response(), r)
}
