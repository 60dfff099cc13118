package api

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// The web interface: server-rendered pages under /ui from embedded
// templates and two static files, GOV.UK Design System patterns. This
// file holds what every page shares: the routes, the redirect to where the
// vault's state says to go first, rendering and error pages, form helpers.
// The guard on every request is in web_guard.go; each feature's pages are
// in their own web_*.go file.
//
// Security (SECURITY.md "Web interface"):
//   - CSP allows scripts, styles and fetches from this origin only (no
//     inline script or style) and images from data: (QR codes);
//   - the session is the vault session token in a __Host- cookie:
//     HttpOnly, Secure, SameSite=Strict, never in a URL;
//   - every POST needs the CSRF token (a random value in a __Host- cookie,
//     echoed in the form: double submit) and is refused when the browser
//     says it came from another site (Sec-Fetch-Site, Origin);
//   - secrets are shown only in answers to POSTs, with no-store;
//   - admin secrets and exports need re-authentication.

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

const (
	sessionCookie = "__Host-strongroom-session"
	csrfCookie    = "__Host-strongroom-csrf"
	webCSP        = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	// idleLogout signs a browser out after this long with no activity
	// (the server's own session idle limit still applies).
	idleLogout = 15 * time.Minute
)

type web struct {
	s     *server
	pages map[string]*template.Template

	mu     sync.Mutex
	setups map[string]*pendingSetup // by setup cookie value
}

func newWeb(s *server) (*web, error) {
	w := &web{s: s, pages: map[string]*template.Template{}, setups: map[string]*pendingSetup{}}
	names, err := fs.Glob(webFS, "web/templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if strings.HasSuffix(n, "/base.html") {
			continue
		}
		t, err := template.New("base.html").ParseFS(webFS, "web/templates/base.html", n)
		if err != nil {
			return nil, err
		}
		w.pages[strings.TrimSuffix(n[strings.LastIndex(n, "/")+1:], ".html")] = t
	}
	return w, nil
}

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
	g.POST("/creds/:name/handover-confirm", w.user(w.handoverConfirm))
	g.GET("/handover", w.user(w.handoverForm))
	g.POST("/handover", w.user(w.handover))
	g.POST("/genpass", w.user(w.genpass))
	g.POST("/passkey/login/begin", w.passkeyLoginBegin, login)
	g.POST("/passkey/passwordless/begin", w.passwordlessBegin, login)
	g.POST("/login/passkey", w.passwordlessLogin, login)
	g.GET("/passkeys", w.user(w.passkeys))
	g.POST("/passkeys", w.user(w.passkeyAdd))
	g.POST("/passkeys/begin", w.user(w.passkeyRegisterBegin))
	g.POST("/passkeys/remove", w.user(w.passkeyRemove))
	g.POST("/reauth/passkey/begin", w.user(w.passkeyReauthBegin))
	g.GET("/reauth", w.user(w.reauthForm))
	g.POST("/reauth", w.user(w.reauth), login)
	g.GET("/device", w.user(w.deviceForm))
	g.POST("/device", w.user(w.deviceCheck), login)
	g.POST("/device/decide", w.user(w.deviceDecide), login)
	g.GET("/users", w.user(w.users))
	g.POST("/users", w.user(w.userAdd))
	g.POST("/users/:name/disable", w.user(w.userDisable))
	g.POST("/users/:name/email", w.user(w.userEmail))
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
	g.GET("/delivery", w.user(w.delivery))
	g.GET("/report/password-health", w.user(w.passwordHealth))
	g.GET("/review", w.user(w.review))
	g.POST("/review/confirm", w.user(w.reviewConfirm))
	g.POST("/review/signoff", w.user(w.reviewSignoff))
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

// state sends the browser where the vault's state says it must go first:
// set-up, unseal, sign-in, or a new password. It returns true if it did.
func (w *web) state(c echo.Context, needUser bool) (bool, error) {
	st, err := w.s.v.Status(c.Request().Context())
	if err != nil {
		return true, err
	}
	path := c.Path()
	switch {
	case !st.Initialized && path != "/ui/setup":
		return true, c.Redirect(http.StatusSeeOther, "/ui/setup")
	case st.Initialized && st.Sealed && path != "/ui/unseal" && path != "/ui/escrow/check" && !strings.HasPrefix(path, "/ui/setup"):
		return true, c.Redirect(http.StatusSeeOther, "/ui/unseal")
	}
	if !needUser {
		return false, nil
	}
	p := webUser(c)
	if p == nil && c.Request().Header.Get("Accept") == "application/json" {
		// passkey.js beginning a ceremony: it shows this sentence.
		return true, c.JSON(http.StatusUnauthorized, map[string]string{"error": "You have been signed out. Reload the page and sign in again."})
	}
	if p == nil {
		return true, c.Redirect(http.StatusSeeOther, "/ui/login")
	}
	if p.MustChange && path != "/ui/password" {
		return true, c.Redirect(http.StatusSeeOther, "/ui/password")
	}
	return false, nil
}

func (w *web) root(c echo.Context) error {
	if done, err := w.state(c, true); done || err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/ui/home")
}

func (w *web) home(c echo.Context) error {
	p := webUser(c)
	return w.render(c, http.StatusOK, "home", &page{Title: "Home",
		Data: map[string]any{"Failing": w.failingDeliveries(p), "Tell": deliveryTell(p), "Overdue": w.overdueContractors(c, p),
			"Handovers": w.pendingHandovers(c), "Review": w.reviewNotice(c, p)}})
}

// page is what every template gets.
type page struct {
	Title       string
	CSRF        string
	User        *vault.Principal
	Status      vault.Status
	Menu        []menuItem
	Errors      []*fieldError
	Flash       string
	Form        map[string]string
	Data        any
	IdleSeconds int
}

type fieldError struct{ Field, Msg string }

// Err returns the error of a field, or nil.
func (p *page) Err(field string) *fieldError {
	for _, e := range p.Errors {
		if e.Field == field {
			return e
		}
	}
	return nil
}

type menuItem struct {
	Href, Label, Hint string
	Current           bool
}

func menuFor(p *vault.Principal, current string) []menuItem {
	if p == nil || p.MustChange {
		return nil
	}
	var m []menuItem
	add := func(href, label, hint string) {
		m = append(m, menuItem{Href: href, Label: label, Hint: hint, Current: href == current})
	}
	add("/ui/home", "Home", "")
	switch p.Role {
	case vault.RoleProvider:
		add("/ui/creds", "Passwords", "find, add, change and share passwords")
		add("/ui/users", "People", "add people, hand them their first sign-in, disable them")
		add("/ui/requests", "Requests", "time-limited access")
		add("/ui/audit", "Audit log", "who did what")
		add("/ui/report/password-health", "Password health", "reused, weak and old passwords")
		add("/ui/review", "Annual review", "confirm once a year who holds each admin and shared password")
		add("/ui/export", "Export", "take everything out as a KeePass file")
		add("/ui/emergency", "Emergency", "recovery and break-glass")
		add("/ui/delivery", "Messages", "are e-mail, webhook and syslog getting through?")
	case vault.RoleClerk:
		add("/ui/creds", "Passwords", "the council's shared logins and their codes")
		add("/ui/requests", "Requests", "approve or ask for time-limited access")
		add("/ui/review", "Annual review", "confirm once a year who holds each admin and shared password")
		add("/ui/delivery", "Messages", "is the vault's e-mail getting through?")
	case vault.RoleChairman:
		add("/ui/creds", "Passwords", "what you may use")
		add("/ui/requests", "Requests", "approve time-limited access")
		add("/ui/escrow/check", "Check an envelope", "is my envelope still valid?")
		add("/ui/emergency", "Emergency", "recovery and break-glass")
	case vault.RoleAuditor:
		add("/ui/audit", "Audit log", "filter, verify, download")
		add("/ui/incidents", "Incidents", "refusals, failures and emergencies")
		add("/ui/report/password-health", "Password health", "reused, weak and old passwords")
		add("/ui/review", "Annual review", "the year's access review, read only")
	default:
		add("/ui/creds", "Passwords", "what you may use")
		add("/ui/requests", "Requests", "ask for time-limited access")
	}
	add("/ui/handover", "Give the council a login", "hand over the login of an account you run for the council")
	add("/ui/passkeys", "Passkeys", "sign in with your phone, laptop or security key")
	return m
}

func ctx(c echo.Context) context.Context { return c.Request().Context() }

func form(c echo.Context, names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = strings.TrimSpace(c.FormValue(n))
	}
	return m
}

func secretField(c echo.Context, name string) []byte { return []byte(c.FormValue(name)) }

// codeField is an authenticator or recovery code as typed: spaces dropped.
func codeField(c echo.Context, name string) string {
	return strings.ReplaceAll(strings.TrimSpace(c.FormValue(name)), " ", "")
}

// render writes a page.
func (w *web) render(c echo.Context, status int, name string, pg *page) error {
	t, ok := w.pages[name]
	if !ok {
		return errors.New("web: no template " + name)
	}
	pg.CSRF, _ = c.Get(ctxCSRF).(string)
	pg.User = webUser(c)
	pg.IdleSeconds = int(idleLogout.Seconds())
	if pg.Status == (vault.Status{}) {
		pg.Status, _ = w.s.v.Status(c.Request().Context())
	}
	if pg.Menu == nil {
		pg.Menu = menuFor(pg.User, c.Path())
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		w.s.log.Error("web page failed", "page", name, "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
		return c.HTML(http.StatusInternalServerError, `<!DOCTYPE html><html lang="en-GB"><title>Something went wrong – Strongroom</title>`+
			`<main><h1>Something went wrong</h1><p>The server log has the details under request id `+
			template.HTMLEscapeString(c.Response().Header().Get(echo.HeaderXRequestID))+`.</p></main></html>`)
	}
	defer wipeBytes(buf.Bytes())
	return c.HTMLBlob(status, buf.Bytes())
}

// refuse renders a plain message page with a status.
func (w *web) refuse(c echo.Context, status int, lines ...string) error {
	title := "Not allowed"
	switch {
	case status == http.StatusNotFound:
		title = "Not found"
	case status >= 500:
		title = "Something went wrong"
	case status == http.StatusTooManyRequests:
		title = "Too many attempts"
	}
	if wantsJSON(c) {
		return c.JSON(status, errorBody{Error: strings.Join(lines, " ")})
	}
	return w.render(c, status, "message", &page{Title: title, Data: map[string]any{"Lines": lines}})
}

// fail turns a vault error into a page: the same classification as the
// API, shown in plain English.
func (w *web) fail(c echo.Context, err error) error {
	status, msg := classify(err)
	if status >= 500 {
		w.s.log.Error("web request failed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Path(), "err", err)
	}
	if status == http.StatusUnauthorized {
		clearSession(c)
		if !wantsJSON(c) {
			return c.Redirect(http.StatusSeeOther, "/ui/login")
		}
	}
	return w.refuse(c, status, sentence(msg))
}

func wantsJSON(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "application/json")
}

// inputError is the form error for an invalid input, on the field the
// vault named (def where it named none); nil if err is no input error.
func inputError(err error, def string) *fieldError {
	var ie *vault.InputError
	if !errors.As(err, &ie) {
		return nil
	}
	field := ie.Field
	if field == "" {
		field = def
	}
	return &fieldError{field, sentence(ie.Msg)}
}

// sentence capitalises a message and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ")") {
		s += "."
	}
	return s
}

// qrDataURI renders text as a QR code PNG in a data: URI (CSP allows
// data: images), so a TOTP secret never becomes a fetchable URL.
func qrDataURI(text string) (template.URL, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	code, err = barcode.Scale(code, 220, 220)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// totpSecret is the key shown under a QR code for typing in by hand.
func totpSecret(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	s := u.Query().Get("secret")
	var groups []string
	for len(s) > 4 {
		groups, s = append(groups, s[:4]), s[4:]
	}
	return strings.Join(append(groups, s), " ")
}

func (w *web) static(c echo.Context) error {
	name := c.Param("name")
	if name != "app.css" && name != "app.js" && name != "passkey.js" {
		return w.refuse(c, http.StatusNotFound, "There is no such page.")
	}
	b, err := webFS.ReadFile("web/static/" + name)
	if err != nil {
		return err
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	return c.Blob(http.StatusOK, ct, b)
}
