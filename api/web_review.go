// The annual access review in the browser: the clerk (or a provider)
// goes through every admin and shared password, confirms that the people
// holding each are right or changes them first, then signs the review
// off; the auditor sees the same page without the buttons. Overdue and
// first reviews show on the clerk's and the provider's home pages.

package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// reviewItemView is one password on the review page, in plain words.
type reviewItemView struct {
	ID, Name, Kind, Holders, LastUsed, Rotated, State, Confirmed, Mark string
	Reads, Denials                                                     int
	Compromised, NeedsConfirm, MayChange, Done                         bool
}

// reviewView is the review page's data.
type reviewView struct {
	Heading, Period string
	Overdue         bool
	Items           []reviewItemView
	Accounts        []string // overdue for completion, one sentence each
	Unconfirmed     int
	MayConfirm      bool
}

// ukDay is t as a UK date in Europe/London ("2 December 2026"), or "never".
func ukDay(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(london).Format("2 January 2006")
}

// daysAgo is how long before now t was, in whole days, in words.
func daysAgo(now, t time.Time) string {
	switch d := int(now.Sub(t).Hours() / 24); d {
	case 0:
		return "today"
	case 1:
		return "yesterday"
	default:
		return fmt.Sprintf("%d days ago", d)
	}
}

// reviewHeading says where the review stands, in a sentence.
func reviewHeading(d vault.ReviewDue) string {
	switch d.Status {
	case vault.ReviewOverdue:
		if d.Last == nil {
			return "The annual access review is overdue: it was due by " + ukDay(d.DueBy) + ", and none has been signed off yet."
		}
		return fmt.Sprintf("The annual access review is overdue: it was due by %s. The last was signed off on %s by %s.",
			ukDay(d.DueBy), ukDay(d.Last.At), d.Last.By)
	case vault.ReviewFirst:
		return "The first annual access review is due by " + ukDay(d.DueBy) + "."
	}
	if d.Last == nil {
		return "The next annual access review is due by " + ukDay(d.DueBy) + "."
	}
	return fmt.Sprintf("The last review was signed off on %s by %s. The next is due by %s.", ukDay(d.Last.At), d.Last.By, ukDay(d.DueBy))
}

func holderWords(hs []vault.Holder) string {
	if len(hs) == 0 {
		return "Nobody"
	}
	var out []string
	for _, h := range hs {
		via := "assigned"
		if t, err := time.Parse(time.RFC3339, strings.TrimPrefix(h.Via, "grant until ")); err == nil && h.Via != "assigned" {
			via = "time-limited access until " + t.In(london).Format("15:04 on 2 January 2006")
		}
		out = append(out, h.Name+" ("+via+")")
	}
	return strings.Join(out, ", ")
}

func reviewItemOut(i int, it vault.ReviewItem, now time.Time, mayConfirm bool) reviewItemView {
	ago := daysAgo(now, it.Rotated)
	rotated := fmt.Sprintf("%s (%s)", ukDay(it.Rotated), ago)
	if it.RotatedIsCreation {
		rotated = fmt.Sprintf("Never changed since it was stored on %s (%s)", ukDay(it.Rotated), ago)
	}
	v := reviewItemView{ID: fmt.Sprintf("item-%d", i+1), Name: it.Credential, Kind: map[bool]string{true: "Admin", false: "Shared"}[it.Kind == "admin"],
		Holders: holderWords(it.Holders), LastUsed: ukDay(it.LastUsed), Rotated: rotated, Reads: it.Reads, Denials: it.Denials,
		Mark: it.Mark, Compromised: it.Compromised, MayChange: it.MayChange, Done: it.State == vault.ItemConfirmed,
		NeedsConfirm: mayConfirm && it.State != vault.ItemConfirmed, Confirmed: "Not yet"}
	v.State = map[string]string{vault.ItemToConfirm: "To confirm", vault.ItemConfirmed: "Confirmed", vault.ItemChanged: "Changed since confirmed"}[it.State]
	if !it.ConfirmedAt.IsZero() {
		v.Confirmed = fmt.Sprintf("By %s on %s", it.ConfirmedBy, ukDay(it.ConfirmedAt))
		if it.State == vault.ItemChanged {
			v.Confirmed += "; who holds it or the password has changed since, so confirm it again"
		}
	}
	return v
}

func reviewOut(r *vault.AnnualReview) reviewView {
	v := reviewView{Heading: reviewHeading(r.Due), Period: ukDay(r.From) + " to " + ukDay(r.To), Overdue: r.Due.Status == vault.ReviewOverdue,
		Unconfirmed: r.Unconfirmed, MayConfirm: r.MayConfirm}
	for i, it := range r.Items {
		v.Items = append(v.Items, reviewItemOut(i, it, r.To, r.MayConfirm))
	}
	for _, o := range r.Overdue {
		holds := "holds no password"
		if len(o.Holds) > 0 {
			holds = "still holds " + strings.Join(o.Holds, ", ")
		}
		who := string(o.Role)
		if o.Agreement != "" {
			who = "contractor under agreement " + o.Agreement
			holds += "; mark the work completed (strongroom user complete " + o.Name + ")"
			if o.Disabled {
				holds = "disabled, but the work was never marked completed (strongroom user complete " + o.Name + ")"
			}
		}
		v.Accounts = append(v.Accounts, fmt.Sprintf("%s (%s): the end date was %s; %s.", o.Name, who, ukDay(o.Expires), holds))
	}
	return v
}

func (w *web) review(c echo.Context) error { return w.reviewPage(c, http.StatusOK, "", nil) }

func (w *web) reviewPage(c echo.Context, status int, flash string, errs []*fieldError) error {
	r, err := w.s.v.AnnualReview(ctx(c), request(c), webUser(c))
	if err != nil {
		return w.fail(c, err)
	}
	return w.render(c, status, "review", &page{Title: "Annual access review", Flash: flash, Errors: errs, Data: reviewOut(r)})
}

func (w *web) reviewConfirm(c echo.Context) error {
	name, mark := strings.TrimSpace(c.FormValue("credential")), strings.TrimSpace(c.FormValue("mark"))
	if name == "" || mark == "" || len(mark) > 64 {
		return w.refuse(c, http.StatusBadRequest, "The form was not complete. Go back to the review and try again.")
	}
	err := w.s.v.ConfirmReview(ctx(c), request(c), webUser(c), name, mark)
	switch {
	case errors.Is(err, vault.ErrConflict):
		return w.reviewPage(c, http.StatusConflict, "", []*fieldError{{"credentials",
			"Who holds " + name + " changed after the page was shown. Check it again below, then confirm."}})
	case err != nil:
		return w.fail(c, err)
	}
	return w.reviewPage(c, http.StatusOK, "Confirmed: the people who hold "+name+" are right.", nil)
}

func (w *web) reviewSignoff(c echo.Context) error {
	s, err := w.s.v.SignOffReview(ctx(c), request(c), webUser(c))
	if fe := inputError(err, "credentials"); fe != nil {
		return w.reviewPage(c, http.StatusUnprocessableEntity, "", []*fieldError{fe})
	}
	if err != nil {
		return w.fail(c, err)
	}
	return w.reviewPage(c, http.StatusOK, fmt.Sprintf("The annual access review is signed off. The next is due by %s.", ukDay(s.NextDue)), nil)
}

// reviewNotice is what the home page says of the review to the clerk and
// the provider: nil when a review was signed off in the last year.
func (w *web) reviewNotice(c echo.Context, p *vault.Principal) map[string]any {
	if p == nil || !vault.MayRunReview(p) {
		return nil
	}
	d, err := w.s.v.ReviewStatus(ctx(c))
	if err != nil {
		w.s.log.Warn("review status unavailable for the home page", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
		return nil
	}
	if d.Status == vault.ReviewDone {
		return nil
	}
	return map[string]any{"Overdue": d.Status == vault.ReviewOverdue, "Text": reviewHeading(d)}
}
