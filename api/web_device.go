package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// The person's side of a command-line sign-in (RFC 8628; the command
// line's side is device.go): signed in and re-authenticated, they type the
// code the command line shows, compare where the request came from, and
// approve or refuse it.
//
// The code is typed, never carried in a link (no ?code= and no
// verification_uri_complete): a link with the code filled in is what a
// phisher would send, and typing it means the person has the command
// line's screen in front of them.

const deviceTitle = "Sign in a command line"

// deviceNext is where re-authentication returns to.
const deviceNext = "/ui/device"

// deviceReauth sends a person who has not re-authenticated lately to do it
// first; done says it did.
func (w *web) deviceReauth(c echo.Context) (done bool, err error) {
	if w.s.v.Reauthed(webUser(c)) {
		return false, nil
	}
	return true, c.Redirect(http.StatusSeeOther, "/ui/reauth?next="+deviceNext)
}

// deviceForm is GET /ui/device: the box for the code.
func (w *web) deviceForm(c echo.Context) error {
	if done, err := w.deviceReauth(c); done || err != nil {
		return err
	}
	return w.render(c, http.StatusOK, "device", &page{Title: deviceTitle})
}

// deviceCheck is POST /ui/device: the code typed; the request it names is
// shown with Approve and Refuse.
func (w *web) deviceCheck(c echo.Context) error {
	if done, err := w.deviceReauth(c); done || err != nil {
		return err
	}
	code := c.FormValue("code")
	r, err := w.s.v.FindDevice(ctx(c), request(c), webUser(c), code)
	if err != nil {
		return w.deviceRefused(c, err, code)
	}
	now := time.Now()
	return w.render(c, http.StatusOK, "device_confirm", &page{Title: "Is this you signing in?", Data: map[string]any{
		"Code": r.UserCode, "Name": r.Name, "IP": r.IP, "UserAgent": r.UserAgent, "YourIP": c.RealIP(), "Elsewhere": r.IP != c.RealIP(),
		"Asked": ukTime(r.Asked, now), "Expires": ukTime(r.Expires, now)}})
}

// deviceDecide is POST /ui/device/decide: Approve or Refuse.
func (w *web) deviceDecide(c echo.Context) error {
	code := c.FormValue("code")
	var approve bool
	switch c.FormValue("decision") {
	case "approve":
		approve = true
	case "refuse":
	default:
		return w.refuse(c, http.StatusBadRequest, "Choose Approve or Refuse.")
	}
	err := w.s.v.DecideDevice(ctx(c), request(c), webUser(c), code, approve)
	if errors.Is(err, vault.ErrReauth) {
		return c.Redirect(http.StatusSeeOther, "/ui/reauth?next="+deviceNext)
	}
	if err != nil {
		return w.deviceRefused(c, err, code)
	}
	lines := []string{"You approved the sign-in. Go back to the command line: it is signed in as you within a few seconds."}
	title := "Sign-in approved"
	if !approve {
		title = "Sign-in refused"
		lines = []string{"The command line will not be signed in.",
			"If you did not start this sign-in yourself, tell your IT provider: someone may know your account name."}
	}
	return w.render(c, http.StatusOK, "message", &page{Title: title, Data: map[string]any{"Lines": lines,
		"Link": map[string]string{"Href": "/ui/home", "Label": "Back to the home page"}}})
}

// deviceRefused shows the code form again with what was wrong.
func (w *web) deviceRefused(c echo.Context, err error, code string) error {
	status, msg := classify(err)
	if status >= 500 || status == http.StatusUnauthorized {
		return w.fail(c, err)
	}
	if le := (*vault.LockedError)(nil); errors.As(err, &le) {
		setRetryAfter(c, le.Until)
		msg = "Too many codes that did not match: try again after " + ukTime(le.Until, time.Now())
	} else {
		status = http.StatusUnprocessableEntity
	}
	return w.render(c, status, "device", &page{Title: deviceTitle, Errors: []*fieldError{{"code", sentence(msg)}},
		Form: map[string]string{"code": code}})
}
