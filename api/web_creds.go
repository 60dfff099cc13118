// Passwords: the list and search, one password's page, showing it (and its
// TOTP code), changing it, choosing who may use it, adding a new one and
// generating three random words. The clerk keeps the council's shared
// passwords here; the IT provider also keeps the admin passwords and
// assigns them; the chairman and members see what is assigned or granted
// to them. The auditor never sees a password.

package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unsafe"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

type userChoice struct {
	ID, Name string
	Role     vault.Role
	Checked  bool
}

// assignable lists who may be given a password. Only the provider may
// list accounts; anyone else can assign only themselves here.
func (w *web) assignable(c echo.Context, checked []string) []userChoice {
	if p := webUser(c); p.Role != vault.RoleProvider {
		return []userChoice{{ID: p.UserID, Name: p.Name, Role: p.Role, Checked: true}}
	}
	users, err := w.s.v.ListUsers(ctx(c), request(c), webUser(c))
	if err != nil {
		return nil
	}
	var out []userChoice
	for _, u := range users {
		if u.Disabled || u.Role == vault.RoleAuditor {
			continue
		}
		ch := false
		for _, n := range checked {
			ch = ch || strings.EqualFold(n, u.Name)
		}
		out = append(out, userChoice{ID: u.ID, Name: u.Name, Role: u.Role, Checked: ch})
	}
	return out
}

// webListLimit caps the passwords page; a search narrows it.
const webListLimit = 200

func (w *web) creds(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	shown, more, err := w.s.v.ListCredentials(ctx(c), webUser(c), vault.ListOptions{Query: q, Limit: webListLimit})
	if err != nil {
		return w.fail(c, err)
	}
	role := webUser(c).Role
	return w.render(c, http.StatusOK, "creds", &page{Title: "Passwords", Data: map[string]any{"Creds": shown, "Query": q,
		"More": more, "Limit": webListLimit, "CanCreate": role == vault.RoleProvider || role == vault.RoleClerk}})
}

func (w *web) findCred(c echo.Context) (*vault.CredentialInfo, error) {
	list, _, err := w.s.v.ListCredentials(ctx(c), webUser(c), vault.ListOptions{Name: credName(c)})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}

type credPage struct {
	Cred       *vault.CredentialInfo
	MayRead    bool
	MayManage  bool
	MayAssign  bool
	NeedReauth bool
	Users      []userChoice
	Secret     *revealed
	TOTP       *vault.TOTPCode
	// Handover says who handed this login over (handoverLine); MayConfirm
	// offers the clerk the button that confirms receiving it.
	Handover   string
	MayConfirm bool
}

type revealed struct{ Password, Notes string }

func (w *web) credPageData(c echo.Context) (*credPage, error) {
	cr, err := w.findCred(c)
	if err != nil || cr == nil {
		return nil, err
	}
	p := webUser(c)
	d := &credPage{Cred: cr, Handover: handoverLine(cr.Handover)}
	d.MayConfirm = p.Role == vault.RoleClerk && cr.Handover != nil && cr.Handover.ConfirmedAt.IsZero()
	for _, a := range cr.Assignees {
		d.MayRead = d.MayRead || strings.EqualFold(a, p.Name)
	}
	// A grant or break-glass may allow it too; the vault decides (and
	// records) when the password is asked for.
	d.MayRead = d.MayRead || cr.Access != ""
	// Only which button the page offers first: the vault decides whether
	// the password or code may be shown (reveal and totp act on its
	// ErrReauth), so a page that guesses wrong still ends at the right
	// answer.
	d.NeedReauth = cr.Kind == vault.KindAdmin && time.Since(p.ReauthAt) > vault.ReauthWindow
	// Changing who may use a password needs the list of accounts, which
	// is the provider's; the clerk changes shared passwords themselves.
	switch {
	case p.Role == vault.RoleProvider && cr.Kind != vault.KindPersonal:
		d.MayManage, d.MayAssign = true, true
		d.Users = w.assignable(c, cr.Assignees)
	case p.Role == vault.RoleClerk && cr.Kind == vault.KindShared:
		d.MayManage = true
	}
	return d, nil
}

func (w *web) cred(c echo.Context) error {
	d, err := w.credPageData(c)
	if err != nil {
		return w.fail(c, err)
	}
	if d == nil {
		// Opening a password one may not see is asked of the vault, as the
		// API's read is, so the attempt is recorded the same way; the
		// answer is the same whether or not it exists.
		sec, err := w.s.v.ReadCredential(ctx(c), request(c), webUser(c), credName(c), 0)
		if err == nil {
			sec.Destroy() // visible only by a grant that began this instant: ask again
		} else if !errors.Is(err, vault.ErrNotFound) && !errors.Is(err, vault.ErrForbidden) && !errors.Is(err, vault.ErrReauth) {
			return w.fail(c, err)
		}
		return w.refuse(c, http.StatusNotFound, "There is no password called “"+credName(c)+"” that you can see.")
	}
	return w.render(c, http.StatusOK, "cred", &page{Title: d.Cred.Name, Data: d})
}

// reveal returns the password: JSON for the page's script, or the page
// itself with the password for a browser without JavaScript. Both are
// answers to a POST, so nothing lands in the address bar or history.
// Whether a re-authentication is needed first is the vault's answer
// (vault.ErrReauth), not a rule of this page.
func (w *web) reveal(c echo.Context) error {
	d, err := w.credPageData(c)
	if err != nil {
		return w.fail(c, err)
	}
	if d == nil {
		// Not one the person may see: the vault still decides, so the
		// attempt is recorded (a refusal is an incident).
		sec, err := w.s.v.ReadCredential(ctx(c), request(c), webUser(c), credName(c), 0)
		if err == nil {
			sec.Destroy()
			return w.refuse(c, http.StatusNotFound, "There is no such password.")
		}
		return w.credFail(c, credName(c), err)
	}
	sec, err := w.s.v.ReadCredential(ctx(c), request(c), webUser(c), d.Cred.Name, 0)
	if err != nil {
		return w.credFail(c, d.Cred.Name, err)
	}
	defer sec.Destroy()
	if wantsJSON(c) {
		fields, values := []string{"password"}, [][]byte{sec.Password()}
		if n := sec.Notes(); n != nil {
			fields, values = append(fields, "notes"), append(values, n)
		}
		body, err := secretJSON(struct{}{}, fields, values)
		if err != nil {
			return err
		}
		defer wipeBytes(body)
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	}
	// Views of the locked buffer, not copies: valid until sec.Destroy,
	// which runs after the page is rendered (see secretView).
	d.Secret = &revealed{Password: secretView(sec.Password()), Notes: secretView(sec.Notes())}
	return w.render(c, http.StatusOK, "cred", &page{Title: d.Cred.Name, Data: d})
}

// credFail answers a refused reveal or TOTP code: when the vault asks for
// a re-authentication first, the browser is sent to confirm it is you and
// brought back to the password's page; anything else as w.fail.
func (w *web) credFail(c echo.Context, name string, err error) error {
	if !errors.Is(err, vault.ErrReauth) {
		return w.fail(c, err)
	}
	next := "/ui/reauth?next=/ui/creds/" + url.PathEscape(name)
	if wantsJSON(c) {
		return c.JSON(http.StatusForbidden, map[string]string{"reauth": next,
			"error": "Confirm it is you first: give your password and a new authenticator code."})
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// secretView is b as a string without a copy, for html/template, which
// renders only strings. It is valid only while b is: the caller wipes or
// destroys b after the page is rendered, and nothing may keep the string
// past that (the page data is local to one request and html/template
// keeps no value after Execute). What remains of a secret rendered this
// way, and why: text/template prints each value through fmt, whose pooled
// buffer keeps a copy until it is reused, and html/template builds an
// escaped copy (garbage, unreferenced) when the secret holds a character
// HTML must escape (& < > " ' or NUL); the page itself is built in a
// buffer that render wipes, and net/http's connection buffer holds the
// bytes sent until it is reused.
func secretView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// credName is the :name parameter, unescaped as the API does it.
func credName(c echo.Context) string {
	n, err := pathName(c)
	if err != nil {
		return c.Param("name")
	}
	return n
}

func (w *web) totp(c echo.Context) error {
	d, err := w.credPageData(c)
	if err != nil {
		return w.fail(c, err)
	}
	if d == nil {
		if _, err := w.s.v.CredentialTOTP(ctx(c), request(c), webUser(c), credName(c)); err != nil {
			return w.credFail(c, credName(c), err)
		}
		return w.refuse(c, http.StatusNotFound, "There is no such password.")
	}
	code, err := w.s.v.CredentialTOTP(ctx(c), request(c), webUser(c), d.Cred.Name)
	if err != nil {
		return w.credFail(c, d.Cred.Name, err)
	}
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, code)
	}
	d.TOTP = &code
	return w.render(c, http.StatusOK, "cred", &page{Title: d.Cred.Name, Data: d})
}

func (w *web) rotate(c echo.Context) error {
	pw := secretField(c, "password")
	defer wipeBytes(pw)
	name := credName(c)
	var gen *vault.GenOptions
	if len(pw) == 0 {
		o := vault.DefaultGenOptions()
		gen = &o
	}
	_, g, err := w.s.v.RotateCredential(ctx(c), request(c), webUser(c), name, pw, gen)
	if err != nil {
		status, msg := classify(err)
		if status == http.StatusBadRequest {
			d, derr := w.credPageData(c)
			if derr == nil && d != nil {
				return w.render(c, status, "cred", &page{Title: d.Cred.Name, Data: d, Errors: []*fieldError{{"password", sentence(msg)}}})
			}
		}
		return w.fail(c, err)
	}
	data := map[string]any{"Lines": []string{"The password of " + name + " was changed and the old one kept in its history."},
		"Link": menuItem{Href: "/ui/creds/" + url.PathEscape(name), Label: "Back to " + name}}
	if g != nil {
		// A view of the generated bytes, wiped once the page is rendered
		// (secretView says what remains).
		defer wipeBytes(g.Password)
		data["Secret"] = secretView(g.Password)
		data["After"] = "It is shown once here; anyone assigned can show it again from the password’s page."
	}
	return w.render(c, http.StatusOK, "message", &page{Title: "Password changed", Data: data})
}

func (w *web) assign(c echo.Context) error {
	name := credName(c)
	f, _ := c.FormParams()
	assignees := f["assignees"]
	if assignees == nil {
		assignees = []string{}
	}
	if _, _, err := w.s.v.PutCredential(ctx(c), request(c), webUser(c), vault.CredentialInput{Name: name, Assignees: assignees}); err != nil {
		return w.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/ui/creds/"+url.PathEscape(name))
}

var kindChoices = []struct{ Value, Label string }{
	{"shared", "Shared: a council account the clerk and others use (social media, website)"},
	{"admin", "Admin: an IT or administrator account (IT provider only)"},
	{"personal", "Personal: yours alone"},
}

func (w *web) credNewForm(c echo.Context) error {
	return w.render(c, http.StatusOK, "cred_new", &page{Title: "Add a password", Form: map[string]string{"kind": "shared"},
		Data: map[string]any{"Kinds": kindChoices, "Users": w.assignable(c, []string{webUser(c).Name})}})
}

func (w *web) credNew(c echo.Context) error {
	f := form(c, "name", "kind", "username", "url", "tags")
	pw, totpIn, notes := secretField(c, "password"), c.FormValue("totp"), secretField(c, "notes")
	defer wipeBytes(pw)
	defer wipeBytes(notes)
	params, _ := c.FormParams()
	assignees := params["assignees"]
	var tags []string
	for _, t := range strings.Split(f["tags"], ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	pg := &page{Title: "Add a password", Form: f, Data: map[string]any{"Kinds": kindChoices, "Users": w.assignable(c, assignees)}}
	switch {
	case f["name"] == "":
		pg.Errors = append(pg.Errors, &fieldError{"name", "Enter a name"})
	case len(pw) == 0:
		pg.Errors = append(pg.Errors, &fieldError{"password", "Enter a password, or generate three random words"})
	}
	if pg.Errors != nil {
		return w.render(c, http.StatusUnprocessableEntity, "cred_new", pg)
	}
	if assignees == nil {
		assignees = []string{}
	}
	// This form only adds: a name in use is refused in the write's own
	// transaction (CreateOnly), never overwritten.
	_, _, err := w.s.v.PutCredential(ctx(c), request(c), webUser(c), vault.CredentialInput{Name: f["name"], Kind: f["kind"],
		URL: f["url"], Username: f["username"], Password: pw, TOTP: totpIn, Notes: notes, Tags: tags, Assignees: assignees,
		CreateOnly: true})
	var ee *vault.ExistsError
	switch {
	case errors.As(err, &ee):
		pg.Errors = []*fieldError{{"name", "A password called “" + ee.Name + "” already exists: choose another name, or change that one from its page"}}
		return w.render(c, http.StatusConflict, "cred_new", pg)
	case errors.Is(err, vault.ErrNotFound): // an assignee that is not a user
		pg.Errors = []*fieldError{{"assignees", sentence(publicMessage(err))}}
		return w.render(c, http.StatusUnprocessableEntity, "cred_new", pg)
	case err != nil:
		if fe := inputError(err, "name"); fe != nil {
			pg.Errors = []*fieldError{fe}
			return w.render(c, http.StatusUnprocessableEntity, "cred_new", pg)
		}
		return w.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/ui/creds/"+url.PathEscape(f["name"]))
}

func (w *web) genpass(c echo.Context) error {
	g, err := vault.GeneratePassword(vault.DefaultGenOptions())
	if err != nil {
		return w.fail(c, err)
	}
	defer wipeBytes(g.Password)
	body, err := secretJSON(struct {
		EntropyBits float64 `json:"entropy_bits"`
	}{g.EntropyBits}, []string{"password"}, [][]byte{g.Password})
	if err != nil {
		return err
	}
	defer wipeBytes(body)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}
