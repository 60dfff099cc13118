package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/audit"
	"strongroom/vault"
)

// routes registers the pages. Every route runs the web middleware; the
// rate limiters are the API's own.
func (w *web) routes(e *echo.Echo, login, unseal echo.MiddlewareFunc) {
	g := e.Group("/ui", w.middleware)
	g.GET("/static/:name", w.static)
	g.GET("", w.root)
	g.GET("/", w.root)
	g.GET("/setup", w.setupForm)
	g.POST("/setup", w.setup, unseal)
	g.POST("/setup/envelope", w.setupEnvelope)
	g.POST("/setup/finish", w.setupFinish)
	g.GET("/unseal", w.unsealForm)
	g.POST("/unseal", w.unseal, unseal)
	g.GET("/login", w.loginForm)
	g.POST("/login", w.login, login)
	g.POST("/logout", w.logout)
	g.GET("/password", w.user(w.passwordForm))
	g.POST("/password", w.user(w.password))
	g.GET("/home", w.user(w.home))
	g.GET("/creds", w.user(w.creds))
	g.GET("/creds/new", w.user(w.credNewForm))
	g.POST("/creds/new", w.user(w.credNew))
	g.GET("/creds/:name", w.user(w.cred))
	g.POST("/creds/:name/reveal", w.user(w.reveal))
	g.POST("/creds/:name/totp", w.user(w.totp))
	g.POST("/creds/:name/rotate", w.user(w.rotate))
	g.POST("/creds/:name/assign", w.user(w.assign))
	g.POST("/genpass", w.user(w.genpass))
	g.GET("/reauth", w.user(w.reauthForm))
	g.POST("/reauth", w.user(w.reauth), login)
	g.GET("/users", w.user(w.users))
	g.POST("/users", w.user(w.userAdd))
	g.POST("/users/:name/disable", w.user(w.userDisable))
	g.GET("/requests", w.user(w.requests))
	g.POST("/requests", w.user(w.requestCreate))
	g.POST("/requests/:id/approve", w.user(w.decide(true)))
	g.POST("/requests/:id/deny", w.user(w.decide(false)))
	g.GET("/escrow/check", w.escrowCheckForm)
	g.POST("/escrow/check", w.escrowCheck, unseal)
	g.GET("/emergency", w.user(w.emergency))
	g.POST("/emergency/breakglass", w.user(w.breakglass))
	g.POST("/emergency/passphrase", w.user(w.emergencyPassphrase))
	g.POST("/seal", w.user(w.seal))
	g.GET("/audit", w.user(w.audit))
	g.POST("/audit/verify", w.user(w.auditVerify))
	g.POST("/audit/checkpoint", w.user(w.auditCheckpoint))
	g.POST("/audit/export", w.user(w.auditExport))
	g.GET("/incidents", w.user(w.incidents))
	g.GET("/export", w.user(w.exportForm))
	g.POST("/export", w.user(w.export), login)
	g.RouteNotFound("/*", func(c echo.Context) error { return w.refuse(c, http.StatusNotFound, "There is no such page.") })
}

// user wraps a handler that needs a signed-in person.
func (w *web) user(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if done, err := w.state(c, true); done || err != nil {
			return err
		}
		return h(c)
	}
}

func ctx(c echo.Context) context.Context { return c.Request().Context() }

func (w *web) root(c echo.Context) error {
	if done, err := w.state(c, true); done || err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/ui/home")
}

func form(c echo.Context, names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = strings.TrimSpace(c.FormValue(n))
	}
	return m
}

func secretField(c echo.Context, name string) []byte { return []byte(c.FormValue(name)) }

// --- first run, unseal, sign in ---

func (w *web) setupForm(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	if st, _ := w.s.v.Status(ctx(c)); st.Initialized {
		return c.Redirect(http.StatusSeeOther, "/ui/")
	}
	return w.render(c, http.StatusOK, "setup", &page{Title: "Set up this vault", Form: map[string]string{"threshold": "2"}})
}

func (w *web) setup(c echo.Context) error {
	f := form(c, "council", "admin", "holders", "threshold")
	pass, pass2 := secretField(c, "passphrase"), secretField(c, "passphrase2")
	defer wipeBytes(pass)
	defer wipeBytes(pass2)
	var errs []*fieldError
	var holders []string
	for _, h := range strings.Split(f["holders"], "\n") {
		if h = strings.TrimSpace(h); h != "" {
			holders = append(holders, h)
		}
	}
	k, kerr := strconv.Atoi(f["threshold"])
	switch {
	case f["council"] == "":
		errs = append(errs, &fieldError{"council", "Enter the council’s name"})
	}
	if f["admin"] == "" {
		errs = append(errs, &fieldError{"admin", "Enter a name for the IT provider account"})
	}
	if len(holders) < 2 {
		errs = append(errs, &fieldError{"holders", "Enter at least two envelope holders, one per line"})
	}
	if kerr != nil || k < 2 || k > len(holders) {
		errs = append(errs, &fieldError{"threshold", fmt.Sprintf("Enter a number from 2 to the number of holders (%d)", max(len(holders), 2))})
	}
	if len(pass) < 12 {
		errs = append(errs, &fieldError{"passphrase", "Enter a passphrase of at least 12 characters"})
	} else if string(pass) != string(pass2) {
		errs = append(errs, &fieldError{"passphrase2", "The two passphrases are different"})
	}
	if len(errs) > 0 {
		return w.render(c, http.StatusUnprocessableEntity, "setup", &page{Title: "Set up this vault", Errors: errs, Form: f})
	}
	res, err := w.s.v.Init(ctx(c), request(c), vault.InitRequest{Council: f["council"], Shares: len(holders), Threshold: k,
		Holders: holders, Admin: f["admin"], Passphrase: pass})
	if err != nil {
		if errors.Is(err, vault.ErrInvalid) {
			_, msg := classify(err)
			return w.render(c, http.StatusUnprocessableEntity, "setup", &page{Title: "Set up this vault",
				Errors: []*fieldError{{"council", sentence(msg)}}, Form: f})
		}
		return w.fail(c, err)
	}
	envs, err := envelopesOut(res.Envelopes)
	if err != nil {
		return w.fail(c, err)
	}
	qr, err := qrDataURI(res.Admin.TOTPURI)
	if err != nil {
		return w.fail(c, err)
	}
	done := setupDone{Envelopes: envs, Threshold: k, Shares: len(holders), QR: qr, Secret: totpSecret(res.Admin.TOTPURI),
		Admin: OneTimeLogin{Name: res.Admin.Name, Password: res.Admin.Password}, VerifierKey: res.VerifierKey}
	id := randomToken()
	w.mu.Lock()
	for k, p := range w.setups {
		if time.Now().After(p.expires) {
			delete(w.setups, k)
		}
	}
	w.setups[id] = &pendingSetup{out: done, taken: map[string]bool{}, expires: time.Now().Add(15 * time.Minute)}
	w.mu.Unlock()
	c.SetCookie(&http.Cookie{Name: "__Host-strongroom-setup", Value: id, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: 900})
	return w.render(c, http.StatusOK, "setup_done", &page{Title: "The vault is set up", Data: done})
}

func (w *web) pendingSetup(c echo.Context) *pendingSetup {
	ck, err := c.Cookie("__Host-strongroom-setup")
	if err != nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.setups[ck.Value]
	if p != nil && time.Now().After(p.expires) {
		delete(w.setups, ck.Value)
		return nil
	}
	return p
}

// setupEnvelope hands out one envelope file, once.
func (w *web) setupEnvelope(c echo.Context) error {
	p := w.pendingSetup(c)
	if p == nil {
		return w.refuse(c, http.StatusGone, "The envelopes are no longer here: they can be downloaded once, within 15 minutes of setting up.",
			"If one was lost, issue new envelopes with strongroom escrow rekey.")
	}
	idx, kind := c.FormValue("index"), c.FormValue("kind")
	key := idx + "/" + kind
	w.mu.Lock()
	var env *EnvelopeOut
	for i := range p.out.Envelopes {
		if strconv.Itoa(p.out.Envelopes[i].Index) == idx {
			env = &p.out.Envelopes[i]
		}
	}
	taken := p.taken[key]
	if env != nil && !taken && (kind == "pdf" || kind == "txt") {
		p.taken[key] = true
	}
	w.mu.Unlock()
	switch {
	case env == nil || (kind != "pdf" && kind != "txt"):
		return w.refuse(c, http.StatusNotFound, "There is no such envelope.")
	case taken:
		return w.refuse(c, http.StatusGone, "That file was already downloaded. Each envelope file can be downloaded once.")
	}
	name := fmt.Sprintf("envelope-%d-%s.%s", env.Index, fileSafe(env.Holder), kind)
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	if kind == "pdf" {
		return c.Blob(http.StatusOK, "application/pdf", env.PDF)
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(env.Text))
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

func (w *web) setupFinish(c echo.Context) error {
	if ck, err := c.Cookie("__Host-strongroom-setup"); err == nil {
		w.mu.Lock()
		if p := w.setups[ck.Value]; p != nil {
			for i := range p.out.Envelopes {
				wipeBytes(p.out.Envelopes[i].PDF)
			}
			delete(w.setups, ck.Value)
		}
		w.mu.Unlock()
	}
	c.SetCookie(&http.Cookie{Name: "__Host-strongroom-setup", Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, "/ui/unseal")
}

func (w *web) unsealForm(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	st, _ := w.s.v.Status(ctx(c))
	if !st.Sealed {
		return c.Redirect(http.StatusSeeOther, "/ui/login")
	}
	return w.render(c, http.StatusOK, "unseal", &page{Title: "Open the vault", Status: st})
}

func (w *web) unseal(c echo.Context) error {
	pass, share := secretField(c, "passphrase"), secretField(c, "share")
	defer wipeBytes(pass)
	defer wipeBytes(share)
	var err error
	field := "passphrase"
	switch {
	case len(pass) > 0:
		err = w.s.v.UnsealPassphrase(ctx(c), request(c), pass)
	case len(strings.TrimSpace(string(share))) > 0:
		field = "share"
		_, err = w.s.v.UnsealShare(ctx(c), request(c), string(share))
	default:
		return w.render(c, http.StatusUnprocessableEntity, "unseal", &page{Title: "Open the vault",
			Errors: []*fieldError{{"passphrase", "Enter the operator passphrase, or an envelope share below"}}})
	}
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.render(c, status, "unseal", &page{Title: "Open the vault", Errors: []*fieldError{{field, sentence(msg)}}})
	}
	if st, _ := w.s.v.Status(ctx(c)); st.Sealed {
		return c.Redirect(http.StatusSeeOther, "/ui/unseal")
	}
	return c.Redirect(http.StatusSeeOther, "/ui/login")
}

func (w *web) loginForm(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	if webUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/ui/home")
	}
	return w.render(c, http.StatusOK, "login", &page{Title: "Sign in"})
}

func (w *web) login(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	f := form(c, "name")
	pw := secretField(c, "password")
	defer wipeBytes(pw)
	code := strings.ReplaceAll(strings.TrimSpace(c.FormValue("totp")), " ", "")
	var errs []*fieldError
	if f["name"] == "" {
		errs = append(errs, &fieldError{"name", "Enter your account name"})
	}
	if len(pw) == 0 {
		errs = append(errs, &fieldError{"password", "Enter your password"})
	}
	if len(errs) > 0 {
		return w.render(c, http.StatusUnprocessableEntity, "login", &page{Title: "Sign in", Errors: errs, Form: f})
	}
	in := vault.LoginRequest{Name: f["name"], Password: pw, TOTP: code}
	if len(code) > 8 { // a recovery code, not a TOTP code
		in.TOTP, in.RecoveryCode = "", code
	}
	token, _, err := w.s.v.Login(ctx(c), request(c), in)
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		if errors.Is(err, vault.ErrBadLogin) {
			msg = "The account name, password or code is not right"
		}
		return w.render(c, status, "login", &page{Title: "Sign in", Errors: []*fieldError{{"name", sentence(msg)}}, Form: f})
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, "/ui/home")
}

func (w *web) logout(c echo.Context) error {
	if p := webUser(c); p != nil {
		_ = w.s.v.Logout(ctx(c), request(c), p)
	}
	clearSession(c)
	c.Set(ctxUser, nil)
	msg := "You have signed out."
	if c.FormValue("reason") == "idle" {
		msg = "You were signed out because there was no activity for 15 minutes."
	}
	return w.render(c, http.StatusOK, "message", &page{Title: "Signed out",
		Data: map[string]any{"Lines": []string{msg}, "Link": menuItem{Href: "/ui/login", Label: "Sign in again"}}})
}

func (w *web) passwordForm(c echo.Context) error {
	return w.render(c, http.StatusOK, "password", &page{Title: "Choose a new password"})
}

func (w *web) password(c echo.Context) error {
	old, pw, pw2 := secretField(c, "old"), secretField(c, "new"), secretField(c, "new2")
	defer wipeBytes(old)
	defer wipeBytes(pw)
	defer wipeBytes(pw2)
	pg := &page{Title: "Choose a new password"}
	switch {
	case len(old) == 0:
		pg.Errors = append(pg.Errors, &fieldError{"old", "Enter your current password"})
	case len(pw) == 0:
		pg.Errors = append(pg.Errors, &fieldError{"new", "Enter a new password"})
	case string(pw) != string(pw2):
		pg.Errors = append(pg.Errors, &fieldError{"new2", "The two new passwords are different"})
	}
	if pg.Errors == nil {
		err := w.s.v.ChangePassword(ctx(c), request(c), webUser(c), old, pw)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/ui/home")
		}
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		field := "new"
		if errors.Is(err, vault.ErrBadLogin) || status == http.StatusUnauthorized {
			field, msg = "old", "Your current password is not right"
		}
		pg.Errors = []*fieldError{{field, sentence(msg)}}
		return w.render(c, http.StatusUnprocessableEntity, "password", pg)
	}
	return w.render(c, http.StatusUnprocessableEntity, "password", pg)
}

func (w *web) home(c echo.Context) error {
	return w.render(c, http.StatusOK, "home", &page{Title: "Home"})
}

// --- passwords ---

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
}

type revealed struct{ Password, Notes string }

func (w *web) credPageData(c echo.Context) (*credPage, error) {
	cr, err := w.findCred(c)
	if err != nil || cr == nil {
		return nil, err
	}
	p := webUser(c)
	d := &credPage{Cred: cr}
	for _, a := range cr.Assignees {
		d.MayRead = d.MayRead || strings.EqualFold(a, p.Name)
	}
	// A grant or break-glass may allow it too; the vault decides (and
	// records) when the password is asked for.
	d.MayRead = d.MayRead || cr.Access != ""
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
		return w.refuse(c, http.StatusNotFound, "There is no password called “"+credName(c)+"” that you can see.")
	}
	return w.render(c, http.StatusOK, "cred", &page{Title: d.Cred.Name, Data: d})
}

// reveal returns the password: JSON for the page's script, or the page
// itself with the password for a browser without JavaScript. Both are
// answers to a POST, so nothing lands in the address bar or history.
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
		return w.fail(c, err)
	}
	if d.NeedReauth {
		next := "/ui/reauth?next=/ui/creds/" + url.PathEscape(d.Cred.Name)
		if wantsJSON(c) {
			return c.JSON(http.StatusForbidden, map[string]string{"reauth": next})
		}
		return c.Redirect(http.StatusSeeOther, next)
	}
	sec, err := w.s.v.ReadCredential(ctx(c), request(c), webUser(c), d.Cred.Name, 0)
	if err != nil {
		return w.fail(c, err)
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
	d.Secret = &revealed{Password: string(sec.Password())}
	if n := sec.Notes(); n != nil {
		d.Secret.Notes = string(n)
	}
	return w.render(c, http.StatusOK, "cred", &page{Title: d.Cred.Name, Data: d})
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
			return w.fail(c, err)
		}
		return w.refuse(c, http.StatusNotFound, "There is no such password.")
	}
	code, err := w.s.v.CredentialTOTP(ctx(c), request(c), webUser(c), d.Cred.Name)
	if err != nil {
		return w.fail(c, err)
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
	lines := []string{"The password of " + name + " was changed and the old one kept in its history."}
	if g != nil {
		defer wipeBytes(g.Password)
		lines = append(lines, "The new password is: "+string(g.Password), "It is shown once here; anyone assigned can show it again from the password’s page.")
	}
	return w.render(c, http.StatusOK, "message", &page{Title: "Password changed",
		Data: map[string]any{"Lines": lines, "Link": menuItem{Href: "/ui/creds/" + url.PathEscape(name), Label: "Back to " + name}}})
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

// --- re-authentication ---

// safeNext keeps a return address on our own pages, escaped for a
// Location header.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/ui/") || strings.ContainsAny(u.Path, "\\\r\n") {
		return "/ui/home"
	}
	return (&url.URL{Path: u.Path}).EscapedPath()
}

func (w *web) reauthForm(c echo.Context) error {
	return w.render(c, http.StatusOK, "reauth", &page{Title: "Confirm it is you", Data: map[string]string{
		"Next": safeNext(c.QueryParam("next")),
		"Why":  "Admin passwords are shown only after you give your password and a new authenticator code again. It lasts 5 minutes."}})
}

func (w *web) reauth(c echo.Context) error {
	pw := secretField(c, "password")
	next := safeNext(c.FormValue("next"))
	code := strings.ReplaceAll(strings.TrimSpace(c.FormValue("totp")), " ", "")
	err := w.s.v.Reauthenticate(ctx(c), request(c), webUser(c), vault.Reauth{Password: pw, TOTP: code})
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		if errors.Is(err, vault.ErrReauth) {
			msg = "The password or code is not right (a code can be used once: wait for the next one)"
		}
		return w.render(c, http.StatusUnprocessableEntity, "reauth", &page{Title: "Confirm it is you",
			Errors: []*fieldError{{"password", sentence(msg)}}, Data: map[string]string{"Next": next, "Why": "Try again."}})
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// --- people ---

var roleChoices = []struct{ Value, Label string }{
	{"clerk", "Clerk: uses the council’s shared accounts, approves access requests"},
	{"member", "Member or contractor: uses only what is assigned or granted"},
	{"chairman", "Chairman: holds an envelope, approves requests, emergency access"},
	{"auditor", "Auditor: reads the log, never a password"},
	{"provider", "IT provider: manages people and admin passwords"},
}

func (w *web) users(c echo.Context) error {
	return w.usersPage(c, http.StatusOK, nil, map[string]string{"role": "clerk"})
}

func (w *web) usersPage(c echo.Context, status int, errs []*fieldError, f map[string]string) error {
	users, err := w.s.v.ListUsers(ctx(c), request(c), webUser(c))
	if err != nil {
		return w.fail(c, err)
	}
	return w.render(c, status, "users", &page{Title: "People", Errors: errs, Form: f,
		Data: map[string]any{"Users": users, "Roles": roleChoices}})
}

func (w *web) userAdd(c echo.Context) error {
	f := form(c, "name", "role", "expires")
	var expires time.Time
	if f["expires"] != "" {
		d, err := time.ParseInLocation("2006-01-02", f["expires"], time.Local)
		if err != nil {
			return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{{"expires", "Enter the date as a real date"}}, f)
		}
		expires = d.Add(24*time.Hour - time.Second)
	}
	if f["name"] == "" {
		return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{{"name", "Enter the person’s name"}}, f)
	}
	otl, err := w.s.v.CreateUser(ctx(c), request(c), webUser(c), f["name"], vault.Role(f["role"]), expires)
	if err != nil {
		var ee *vault.ExistsError
		if errors.As(err, &ee) {
			return w.usersPage(c, http.StatusConflict, []*fieldError{{"name", sentence(publicMessage(err))}}, f)
		}
		if fe := inputError(err, "name"); fe != nil {
			return w.usersPage(c, http.StatusUnprocessableEntity, []*fieldError{fe}, f)
		}
		return w.fail(c, err)
	}
	qr, err := qrDataURI(otl.TOTPURI)
	if err != nil {
		return w.fail(c, err)
	}
	return w.render(c, http.StatusOK, "user_created", &page{Title: otl.Name + " can now sign in", Data: map[string]any{
		"Name": otl.Name, "Password": otl.Password, "QR": qr, "Secret": totpSecret(otl.TOTPURI)}})
}

func (w *web) userDisable(c echo.Context) error {
	if err := w.s.v.DisableUser(ctx(c), request(c), webUser(c), credName(c)); err != nil {
		return w.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/ui/users")
}

// --- requests ---

func (w *web) requests(c echo.Context) error {
	return w.requestsPage(c, http.StatusOK, nil, map[string]string{"cred": c.QueryParam("cred"), "for": "2h"})
}

func (w *web) requestsPage(c echo.Context, status int, errs []*fieldError, f map[string]string) error {
	reqs, err := w.s.v.ListRequests(ctx(c), webUser(c))
	if err != nil {
		return w.fail(c, err)
	}
	role := webUser(c).Role
	return w.render(c, status, "requests", &page{Title: "Access requests", Errors: errs, Form: f,
		Data: map[string]any{"Requests": reqs, "Approver": role == vault.RoleClerk || role == vault.RoleChairman}})
}

func (w *web) requestCreate(c echo.Context) error {
	f := form(c, "cred", "reason", "for")
	d, err := time.ParseDuration(f["for"])
	var errs []*fieldError
	if f["cred"] == "" {
		errs = append(errs, &fieldError{"cred", "Enter the name of the password"})
	}
	if f["reason"] == "" {
		errs = append(errs, &fieldError{"reason", "Say why you need it"})
	}
	if err != nil || d <= 0 {
		errs = append(errs, &fieldError{"for", "Enter how long, for example 2h or 30m"})
	}
	if errs != nil {
		return w.requestsPage(c, http.StatusUnprocessableEntity, errs, f)
	}
	if _, err := w.s.v.CreateRequest(ctx(c), request(c), webUser(c), f["cred"], f["reason"], d); err != nil {
		if fe := inputError(err, "cred"); fe != nil {
			return w.requestsPage(c, http.StatusUnprocessableEntity, []*fieldError{fe}, f)
		}
		if status, msg := classify(err); status == http.StatusNotFound || status == http.StatusForbidden {
			return w.requestsPage(c, status, []*fieldError{{"cred", sentence(msg)}}, f)
		}
		return w.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/ui/requests")
}

func (w *web) decide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, _, err := w.s.v.DecideRequest(ctx(c), request(c), webUser(c), c.Param("id"), approve); err != nil {
			return w.fail(c, err)
		}
		return c.Redirect(http.StatusSeeOther, "/ui/requests")
	}
}

// --- envelopes and emergencies ---

func (w *web) escrowCheckForm(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	return w.render(c, http.StatusOK, "escrow_check", &page{Title: "Check an envelope"})
}

func (w *web) escrowCheck(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	share := secretField(c, "share")
	defer wipeBytes(share)
	if strings.TrimSpace(string(share)) == "" {
		return w.render(c, http.StatusUnprocessableEntity, "escrow_check", &page{Title: "Check an envelope",
			Errors: []*fieldError{{"share", "Enter the envelope share"}}})
	}
	res, err := w.s.v.CheckShare(ctx(c), request(c), string(share))
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.render(c, http.StatusUnprocessableEntity, "escrow_check", &page{Title: "Check an envelope",
			Errors: []*fieldError{{"share", sentence(msg)}}})
	}
	return w.render(c, http.StatusOK, "escrow_check", &page{Title: "Check an envelope", Data: map[string]string{
		"Result": fmt.Sprintf("This is share %d of %d, held by %s, of the current set (generation %d). Any %d open the vault.",
			res.Index, res.Shares, res.Holder, res.Generation, res.Threshold)}})
}

func (w *web) emergency(c echo.Context) error {
	return w.render(c, http.StatusOK, "emergency", &page{Title: "Emergency"})
}

func (w *web) breakglass(c echo.Context) error {
	f := form(c, "reason")
	if f["reason"] == "" {
		return w.render(c, http.StatusUnprocessableEntity, "emergency", &page{Title: "Emergency", Form: f,
			Errors: []*fieldError{{"reason", "Say why you need the admin passwords"}}})
	}
	until, err := w.s.v.OpenBreakGlass(ctx(c), request(c), webUser(c), f["reason"])
	if err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.render(c, status, "emergency", &page{Title: "Emergency", Form: f, Errors: []*fieldError{{"reason", sentence(msg)}}})
	}
	return w.render(c, http.StatusOK, "emergency", &page{Title: "Emergency",
		Data: map[string]string{"Until": until.Local().Format("15:04 on 2 January 2006")}})
}

func (w *web) seal(c echo.Context) error {
	if err := w.s.v.Seal(ctx(c), request(c), webUser(c)); err != nil {
		return w.fail(c, err)
	}
	clearSession(c)
	return c.Redirect(http.StatusSeeOther, "/ui/unseal")
}

func (w *web) emergencyPassphrase(c echo.Context) error {
	pass := secretField(c, "passphrase")
	defer wipeBytes(pass)
	if err := w.s.v.SetPassphrase(ctx(c), request(c), webUser(c), pass); err != nil {
		status, msg := classify(err)
		if status >= 500 {
			return w.fail(c, err)
		}
		return w.render(c, status, "emergency", &page{Title: "Emergency", Errors: []*fieldError{{"passphrase", sentence(msg)}}})
	}
	return w.render(c, http.StatusOK, "emergency", &page{Title: "Emergency", Flash: "The new operator passphrase is set."})
}

// --- audit ---

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

// --- export ---

func (w *web) exportForm(c echo.Context) error {
	if webUser(c).Role != vault.RoleProvider {
		return w.refuse(c, http.StatusForbidden, "Only the IT provider may export.")
	}
	return w.render(c, http.StatusOK, "export", &page{Title: "Export to KeePass"})
}

func (w *web) export(c echo.Context) error {
	pass, pw := secretField(c, "passphrase"), secretField(c, "password")
	code := strings.ReplaceAll(strings.TrimSpace(c.FormValue("totp")), " ", "")
	out, rep, err := w.s.v.ExportKDBX(ctx(c), request(c), webUser(c), vault.Reauth{Password: pw, TOTP: code}, pass)
	if err != nil {
		status, msg := classify(err)
		if status >= 500 || status == http.StatusForbidden {
			return w.fail(c, err)
		}
		field := "passphrase"
		if errors.Is(err, vault.ErrReauth) {
			field, msg = "password", "The password or code is not right (a code can be used once: wait for the next one)"
		}
		return w.render(c, http.StatusUnprocessableEntity, "export", &page{Title: "Export to KeePass", Errors: []*fieldError{{field, sentence(msg)}}})
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="strongroom-export.kdbx"`)
	c.Response().Header().Set("X-Strongroom-Exported", strconv.Itoa(rep.Exported))
	return c.Blob(http.StatusOK, "application/octet-stream", out)
}
