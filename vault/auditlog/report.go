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
	err := l.eachInPeriod(ctx, from, to, func(e *audit.Entry) {
		r.EntriesInSpan++
		switch {
		case e.Outcome == audit.OutcomeDenied:
			r.Denials = append(r.Denials, e)
		case e.Action == audit.BreakglassOpen || e.Action == audit.BreakglassRead || e.Action == audit.EscrowRecover:
			r.BreakGlass = append(r.BreakGlass, e)
		}
		if IsRead(e) {
			k := [2]string{e.Target.Name, e.Actor.Name}
			s := reads[k]
			if s == nil {
				s = &ReadSummary{Credential: e.Target.Name, Person: e.Actor.Name}
				reads[k] = s
			}
			s.Reads++
			s.Last = e.Time
		}
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

// IsRead says e records a secret handed out: a read that succeeded, by an
// assignee or through break-glass. The report, the register and the
// annual review count reads by this one rule.
func IsRead(e *audit.Entry) bool {
	return (e.Action == audit.CredRead || e.Action == audit.BreakglassRead) && e.Outcome == audit.OutcomeOK
}

// eachInPeriod calls fn with each stored entry in [from, to) (zero times:
// open), oldest first, in the log's short chunked reads.
func (l *Log) eachInPeriod(ctx context.Context, from, to time.Time, fn func(*audit.Entry)) error {
	f := Filter{From: from, To: to}
	var after uint64
	if err := l.store.View(ctx, func(tx storage.Tx) (err error) { _, after, err = logStart(tx); return err }); err != nil {
		return err
	}
	return l.eachEntry(ctx, after, 0, func(line auditLine) error {
		e, err := audit.ParseLine(line.line)
		if err != nil {
			return fmt.Errorf("vault: stored entry unreadable: %w", err)
		}
		if f.Match(e) {
			fn(e)
		}
		return nil
	})
}

// CredentialUse is what the log says of one credential over a period.
type CredentialUse struct {
	Reads    int       // secrets handed out (IsRead)
	LastRead time.Time // the last of them
	Denials  int       // refused attempts on it, of any action
}

// Uses counts, for [from, to), the reads and the denials of each
// credential, by credential id, as Report counts them. It records
// nothing: the caller (the annual review) records what it shows.
func (l *Log) Uses(ctx context.Context, from, to time.Time) (map[string]CredentialUse, error) {
	out := map[string]CredentialUse{}
	err := l.eachInPeriod(ctx, from, to, func(e *audit.Entry) {
		if e.Target.Kind != "credential" || e.Target.ID == "" {
			return
		}
		u := out[e.Target.ID]
		switch {
		case e.Outcome == audit.OutcomeDenied:
			u.Denials++
		case IsRead(e):
			u.Reads++
			u.LastRead = e.Time
		}
		out[e.Target.ID] = u
	})
	return out, err
}
