// The messages page: whether the vault's e-mail, webhook and syslog get
// through, in words a clerk understands, and the warning on the home page
// of the provider and the clerk while one does not (news of an incident
// may then not be reaching the clerk).
//
// What the page never shows: an address of a destination. A webhook URL
// is a bearer secret to chat services (Slack and Teams put the token in
// its path), the SMTP user and server are the provider's settings, and
// neither helps a clerk; the provider has them in the server's flags.
// The failure sentence shown is the destination's fixed public one
// (notify.PublicError), which quotes no server reply.

package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/internal/notify"
	"strongroom/vault"
)

// deliveryView is one destination as the page shows it.
type deliveryView struct {
	ID, Label, Headline string
	Failing             bool
	Lines               []string
}

// deliveryLabels name the destinations in plain words.
var deliveryLabels = map[string]string{
	"mail":      "E-mail",
	"digest":    "The auditor’s weekly e-mail",
	"webhook":   "Messages to a chat channel or another system (webhook)",
	"syslog":    "The copy of the audit log for the security log server (syslog)",
	"reminders": "The IT provider’s daily reminders by e-mail",
}

// deliveryViews describes each destination at now; tell is what to do
// about a failure.
func deliveryViews(list []notify.Status, now time.Time, tell string) []deliveryView {
	out := make([]deliveryView, 0, len(list))
	for _, s := range list {
		out = append(out, describeDelivery(s, now, tell))
	}
	return out
}

func describeDelivery(s notify.Status, now time.Time, tell string) deliveryView {
	label, ok := deliveryLabels[s.Name]
	if !ok {
		label = "Messages (" + s.Name + ")" // the names are the server's own constants
	}
	d := deliveryView{ID: "delivery-" + s.Name, Label: label}
	waiting := ""
	if s.Pending > 0 {
		waiting = count(s.Pending, "event is", "events are") + " waiting to be sent."
	}
	switch {
	case s.Failing > 0:
		d.Failing = true
		d.Headline = label + " is not getting through"
		since := s.FailingSince
		if since.IsZero() {
			since = s.LastFail
		}
		line := label + " has failed " + count(uint64(s.Failing), "time", "times") + " in a row since " + ukTime(since, now)
		if s.Pending > 0 {
			line += "; the last " + count(s.Pending, "event is", "events are") + " waiting to be sent"
		}
		d.Lines = append(d.Lines, line+".")
		if s.LastError != "" {
			d.Lines = append(d.Lines, "What went wrong: "+sentence(s.LastError))
		}
		if !s.LastOK.IsZero() {
			d.Lines = append(d.Lines, "It last got through at "+ukTime(s.LastOK, now)+".")
		}
		d.Lines = append(d.Lines, "The vault keeps trying, and sends everything that is waiting, in order, once it gets through. "+tell)
	case s.Waiting:
		d.Headline = label + ": waiting until the vault is unsealed"
		d.Lines = append(d.Lines, "Nothing is lost: it sends what is waiting once the vault is unsealed.")
		if waiting != "" {
			d.Lines = append(d.Lines, waiting)
		}
	default:
		d.Headline = label + ": working"
		switch {
		case s.Delivered == 0:
			d.Lines = append(d.Lines, "Nothing has needed sending since the server started.")
		case !s.LastOK.IsZero():
			d.Lines = append(d.Lines, count(s.Delivered, "event", "events")+" sent since the server started, the latest at "+ukTime(s.LastOK, now)+".")
		}
		if waiting != "" {
			d.Lines = append(d.Lines, waiting)
		}
		if s.Failures > 0 {
			d.Lines = append(d.Lines, count(s.Failures, "attempt", "attempts")+" failed earlier and "+plural(s.Failures, "was", "were")+" tried again until it worked.")
		}
	}
	if s.Refused > 0 {
		d.Lines = append(d.Lines, count(s.Refused, "message was", "messages were")+
			" refused for good (for example, an e-mail address the mail server does not know): check the addresses on the People page.")
	}
	return d
}

// ukTime is a time as a clerk reads it: 09:14 today, or 09:14 on 1
// December 2026, in UK time.
func ukTime(t, now time.Time) string {
	t, now = t.In(london), now.In(london)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("15:04 on 2 January 2006")
}

func count(n uint64, one, many string) string {
	return strconv.FormatUint(n, 10) + " " + plural(n, one, many)
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// deliveryAudience is whether p sees the delivery state: the provider,
// who runs the destinations, and the clerk, whom incidents must reach.
func deliveryAudience(p *vault.Principal) bool {
	return p != nil && (p.Role == vault.RoleProvider || p.Role == vault.RoleClerk)
}

// deliveryTell is what the page asks p to do about a failure.
func deliveryTell(p *vault.Principal) string {
	if p != nil && p.Role == vault.RoleProvider {
		return "The server’s log says more (look for “delivery failed”); check the server’s settings for it and that the other end is running."
	}
	return "Tell your IT provider."
}

func (w *web) statuses() []notify.Status {
	if w.s.deliveries == nil {
		return nil
	}
	return w.s.deliveries()
}

// failingDeliveries are the destinations failing now, for the home page's
// warning; nil for someone who does not see them.
func (w *web) failingDeliveries(p *vault.Principal) []deliveryView {
	if !deliveryAudience(p) {
		return nil
	}
	var out []deliveryView
	for _, d := range deliveryViews(w.statuses(), time.Now(), deliveryTell(p)) {
		if d.Failing {
			out = append(out, d)
		}
	}
	return out
}

func (w *web) delivery(c echo.Context) error {
	p := webUser(c)
	if !deliveryAudience(p) {
		return w.refuse(c, http.StatusForbidden, "Only the IT provider and the clerk see whether the vault’s messages get through.")
	}
	views := deliveryViews(w.statuses(), time.Now(), deliveryTell(p))
	failing := 0
	for _, d := range views {
		if d.Failing {
			failing++
		}
	}
	return w.render(c, http.StatusOK, "delivery", &page{Title: "Messages from the vault",
		Data: map[string]any{"Views": views, "Failing": failing, "Provider": p.Role == vault.RoleProvider,
			"Checked": ukTime(time.Now(), time.Now())}})
}
