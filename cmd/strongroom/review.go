package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London on machines without a zoneinfo database

	"github.com/spf13/cobra"

	"strongroom/api/client"
	"strongroom/api/wire"
)

// The annual access review on the command line: `report access-review
// --year` prints it; --confirm NAME confirms one credential's holders as
// the review shows them; --sign-off signs the review off.

// london is UK time: the review's dates are the council's.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("strongroom: no Europe/London in the embedded tzdata: " + err.Error())
	}
	return loc
}()

// ukDate is t as a UK date ("2 December 2026"), or "never".
func ukDate(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(london).Format("2 January 2006")
}

// reviewFlags are the annual review's flags on `report access-review`.
type reviewFlags struct {
	year    bool
	confirm []string
	signOff bool
}

func (f *reviewFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.year, "year", false, "the annual review: every admin and shared login, its holders, last use, this year's reads and denials, and password age")
	cmd.Flags().StringArrayVar(&f.confirm, "confirm", nil, "confirm that the holders of this login are right, as the review shows them (repeatable; clerk or provider)")
	cmd.Flags().BoolVar(&f.signOff, "sign-off", false, "sign the annual review off once every login is confirmed; the next is due a year on")
}

func (f *reviewFlags) wanted() bool { return f.year || len(f.confirm) > 0 || f.signOff }

// runReview does what the flags ask, in order: confirmations, the
// sign-off, then (with --year, or with nothing else asked) the review.
func runReview(ctx context.Context, g *globals, f *reviewFlags) error {
	c, err := newClient(g)
	if err != nil {
		return err
	}
	if len(f.confirm) > 0 {
		r, err := c.AnnualReview(ctx)
		if err != nil {
			return err
		}
		for _, name := range f.confirm {
			if err := confirmOne(ctx, c, r, name); err != nil {
				return err
			}
		}
	}
	if f.signOff {
		s, err := c.SignOffReview(ctx)
		if err != nil {
			return err
		}
		if g.json && !f.year {
			return printAnswer(s)
		}
		fmt.Printf("The annual access review is signed off by %s on %s (%d logins confirmed). The next review is due by %s.\n",
			s.By, ukDate(s.At), s.Confirmed, ukDate(s.NextDue))
	}
	if !f.year {
		return nil
	}
	r, err := c.AnnualReview(ctx)
	if err != nil {
		return err
	}
	if g.json {
		return printAnswer(r)
	}
	printReview(os.Stdout, r)
	return nil
}

// confirmOne confirms name's holders as r showed them: a change since is
// refused by the server (409), not confirmed unseen.
func confirmOne(ctx context.Context, c *client.Client, r wire.AnnualReview, name string) error {
	for _, it := range r.Items {
		if strings.EqualFold(it.Credential, name) {
			if err := c.ConfirmReview(ctx, it.Credential, it.Mark); err != nil {
				return err
			}
			fmt.Printf("Confirmed: the holders of %s are right (%s).\n", it.Credential, holders(it.Holders))
			return nil
		}
	}
	// Not in the review as shown: nothing is confirmed unseen.
	return fmt.Errorf("no admin or shared login named %q is in the review (see: strongroom report access-review --year)", name)
}

func holders(hs []wire.Holder) string {
	if len(hs) == 0 {
		return "nobody holds it"
	}
	var out []string
	for _, h := range hs {
		via := h.Via
		if strings.HasPrefix(via, "grant until ") {
			if t, err := time.Parse(time.RFC3339, strings.TrimPrefix(via, "grant until ")); err == nil {
				via = "grant until " + t.In(london).Format("15:04 on 2 January 2006")
			}
		}
		out = append(out, h.Name+" ("+via+")")
	}
	return strings.Join(out, ", ")
}

// reviewHeading is the line that says where the review stands.
func reviewHeading(d wire.ReviewDue) string {
	switch d.Status {
	case "overdue":
		if d.Last == nil {
			return "OVERDUE: the vault has never had its annual access review; it was due by " + ukDate(d.DueBy) + "."
		}
		return fmt.Sprintf("OVERDUE: the annual access review was due by %s (last signed off on %s by %s).", ukDate(d.DueBy), ukDate(d.Last.At), d.Last.By)
	case "first":
		return "The first annual access review is due by " + ukDate(d.DueBy) + "."
	}
	last := ""
	if d.Last != nil {
		last = fmt.Sprintf("Last signed off on %s by %s. ", ukDate(d.Last.At), d.Last.By)
	}
	return last + "The next review is due by " + ukDate(d.DueBy) + "."
}

func printReview(w io.Writer, r wire.AnnualReview) {
	fmt.Fprintf(w, "Annual access review, %s to %s\n%s\n", ukDate(r.From), ukDate(r.To), reviewHeading(r.Due))
	for _, it := range r.Items {
		state := strings.ToUpper(it.State)
		if it.State != "to confirm" && !it.ConfirmedAt.IsZero() {
			state += fmt.Sprintf(" (confirmed by %s on %s)", it.ConfirmedBy, ukDate(it.ConfirmedAt))
		}
		age := "last changed " + ukDate(it.Rotated)
		if it.RotatedIsCreation {
			age = "unchanged since it was stored on " + ukDate(it.Rotated)
		}
		age += fmt.Sprintf(" (%d days before the review)", int(r.To.Sub(it.Rotated).Hours()/24))
		fmt.Fprintf(w, "\n%s (%s): %s\n", it.Credential, it.Kind, state)
		fmt.Fprintf(w, "  Holders:            %s\n", holders(it.Holders))
		fmt.Fprintf(w, "  Last used:          %s\n", ukDate(it.LastUsed))
		fmt.Fprintf(w, "  Reads this year:    %d\n", it.Reads)
		fmt.Fprintf(w, "  Denials this year:  %d\n", it.Denials)
		fmt.Fprintf(w, "  Password:           %s\n", age)
		if it.Compromised {
			fmt.Fprintf(w, "  COMPROMISED: change this password now.\n")
		}
		if r.MayConfirm && it.State != "confirmed" {
			change := "ask the provider to change who holds it"
			if it.MayChange {
				change = fmt.Sprintf("strongroom cred put %q --assign NAME ...", it.Credential)
			}
			fmt.Fprintf(w, "  Right?              strongroom report access-review --confirm %q\n", it.Credential)
			fmt.Fprintf(w, "  Wrong?              %s, then confirm\n", change)
		}
	}
	if len(r.Overdue) > 0 {
		fmt.Fprintf(w, "\nAccounts overdue for completion (past their end date, not yet ended):\n")
		for _, o := range r.Overdue {
			holds := "holds nothing"
			if len(o.Holds) > 0 {
				holds = "still holds " + strings.Join(o.Holds, ", ")
			}
			who := o.Role
			if o.Agreement != "" {
				who = "contractor under agreement " + o.Agreement
				holds += "; run: strongroom user complete " + strconv.Quote(o.Name)
			}
			fmt.Fprintf(w, "  %s (%s): ended %s; %s\n", o.Name, who, ukDate(o.Expires), holds)
		}
	}
	switch {
	case !r.MayConfirm:
	case r.Unconfirmed > 0:
		fmt.Fprintf(w, "\n%d of %d logins still to confirm. When all are, sign off: strongroom report access-review --sign-off\n", r.Unconfirmed, len(r.Items))
	default:
		fmt.Fprintf(w, "\nEvery login is confirmed. Sign the review off: strongroom report access-review --sign-off\n")
	}
}
