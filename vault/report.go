package vault

import (
	"context"
	"fmt"
	"sort"
	"time"

	"strongroom/audit"
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
func (v *Vault) Report(ctx context.Context, req Request, p *Principal, from, to time.Time) (*AccessReport, error) {
	target := audit.Target{Kind: "audit"}
	if !mayReadLog(p) {
		return nil, v.deny(ctx, req, p, audit.AuditReport, target, "role may not read the audit log")
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, invalidField("from", "--from must be before --to")
	}
	if err := v.record(ctx, req, event{actor: actorOf(p), action: audit.AuditReport, target: target,
		reason: describe(Filter{From: from, To: to}, "report")}); err != nil {
		return nil, err
	}
	r := &AccessReport{From: from, To: to, Generated: v.now(), Denials: []*audit.Entry{}, BreakGlass: []*audit.Entry{}}
	reads := map[[2]string]*ReadSummary{}
	f := Filter{From: from, To: to}
	err := v.store.View(ctx, func(tx Tx) error {
		r.Council = string(tx.Get(bucketMeta, keyCouncil))
		return tx.Scan(bucketAudit, nil, func(_, val []byte) (bool, error) {
			e, err := audit.ParseLine(val)
			if err != nil {
				return false, fmt.Errorf("vault: stored entry unreadable: %w", err)
			}
			if !f.Match(e) {
				return true, nil
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
			return true, nil
		})
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
