package auditlog

import (
	"context"
	"fmt"
	"sort"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/storage"
)

// AccessReport is the access review for a period, for the council's annual
// internal audit: who read each credential, what each person read, every
// denial and every break-glass access.
type AccessReport struct {
	Council       string         `json:"council"`
	From          time.Time      `json:"from"`
	To            time.Time      `json:"to"`
	Generated     time.Time      `json:"generated"`
	ByCredential  []ReadSummary  `json:"by_credential"`
	ByPerson      []ReadSummary  `json:"by_person"`
	Denials       []*audit.Entry `json:"denials"`
	BreakGlass    []*audit.Entry `json:"break_glass"`
	EntriesInSpan uint64         `json:"entries_in_period"`
}

// ReadSummary counts reads of one credential by one person.
type ReadSummary struct {
	Credential string    `json:"credential"`
	Person     string    `json:"person"`
	Reads      int       `json:"reads"`
	Last       time.Time `json:"last"`
}

// Report builds the access report for [from, to).
// council is the council's name, for the report's heading.
func (l *Log) Report(ctx context.Context, req Request, p *access.Principal, council string, from, to time.Time) (*AccessReport, error) {
	target := audit.Target{Kind: "audit"}
	if !access.MayReadLog(p) {
		return nil, l.Deny(ctx, req, p, audit.AuditReport, target, "role may not read the audit log")
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, access.Invalid("from", "--from must be before --to")
	}
	if err := l.Record(ctx, req, Event{Actor: ActorOf(p), Action: audit.AuditReport, Target: target,
		Reason: describe(Filter{From: from, To: to}, "report")}); err != nil {
		return nil, err
	}
	r := &AccessReport{Council: council, From: from, To: to, Generated: l.now(), Denials: []*audit.Entry{}, BreakGlass: []*audit.Entry{}}
	reads := map[[2]string]*ReadSummary{}
	f := Filter{From: from, To: to}
	var after uint64
	if err := l.store.View(ctx, func(tx storage.Tx) (err error) { _, after, err = logStart(tx); return err }); err != nil {
		return nil, err
	}
	err := l.eachEntry(ctx, after, 0, func(line auditLine) error {
		e, err := audit.ParseLine(line.line)
		if err != nil {
			return fmt.Errorf("vault: stored entry unreadable: %w", err)
		}
		if !f.Match(e) {
			return nil
		}
		r.EntriesInSpan++
		switch {
		case e.Outcome == audit.OutcomeDenied:
			r.Denials = append(r.Denials, e)
		case e.Action == audit.BreakglassOpen || e.Action == audit.BreakglassRead || e.Action == audit.EscrowRecover:
			r.BreakGlass = append(r.BreakGlass, e)
		}
		if (e.Action == audit.CredRead || e.Action == audit.BreakglassRead) && e.Outcome == audit.OutcomeOK {
			k := [2]string{e.Target.Name, e.Actor.Name}
			s := reads[k]
			if s == nil {
				s = &ReadSummary{Credential: e.Target.Name, Person: e.Actor.Name}
				reads[k] = s
			}
			s.Reads++
			s.Last = e.Time
		}
		return nil
	})
	for _, s := range reads {
		r.ByCredential = append(r.ByCredential, *s)
	}
	r.ByPerson = append([]ReadSummary(nil), r.ByCredential...)
	sort.Slice(r.ByCredential, func(i, j int) bool {
		a, b := r.ByCredential[i], r.ByCredential[j]
		return a.Credential < b.Credential || a.Credential == b.Credential && a.Person < b.Person
	})
	sort.Slice(r.ByPerson, func(i, j int) bool {
		a, b := r.ByPerson[i], r.ByPerson[j]
		return a.Person < b.Person || a.Person == b.Person && a.Credential < b.Credential
	})
	return r, err
}
