package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"
)

// The browser tests drive Debian's headless Chromium against the real
// server on 127.0.0.1. On every page they visit they run axe-core (WCAG
// 2.1 A and AA, from the npm registry; `make axe` installs it), check the
// Content-Security-Policy header, and save a screenshot under
// artifacts/screenshots (git-ignored).

const chromiumPath = "/usr/bin/chromium"

var axePath = filepath.Join("..", "..", ".cache", "axe", "node_modules", "axe-core", "axe.min.js")

func needBrowser(t *testing.T) string {
	_, errC := os.Stat(chromiumPath)
	axe, errA := os.ReadFile(axePath)
	if errC != nil || errA != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser tests need %s and axe-core (%v, %v): .ci/run installs both", chromiumPath, errC, errA)
		}
		t.Skipf("no chromium or axe-core here (apt-get install chromium; make axe): %v %v", errC, errA)
	}
	return string(axe)
}

type person struct {
	t       *testing.T
	name    string
	ctx     context.Context
	cancel  func()
	base    string
	axe     string
	shots   string
	dl      string
	mu      sync.Mutex
	headers map[string]network.Headers // document URL -> response headers
	seen    map[string]bool
	n       *int
}

func newPerson(t *testing.T, srv *server, work, name, axe string, shotNo *int) *person {
	t.Helper()
	dir := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-component-update", true),
		// The server's certificate is self-signed; the tests pin nothing
		// else about it. Connections go to 127.0.0.1 only.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1000, 900),
		// On a loaded 2-core CI machine a browser can take longer than
		// chromedp's default 20 s to print its DevTools address.
		chromedp.WSURLReadTimeout(90 * time.Second),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	p := &person{t: t, name: name, ctx: bctx, base: srv.addr, axe: axe, n: shotNo,
		shots: filepath.Join("..", "..", "artifacts", "screenshots"), dl: filepath.Join(work, "downloads-"+name),
		headers: map[string]network.Headers{}, seen: map[string]bool{}}
	p.cancel = func() { bcancel(); acancel() }
	t.Cleanup(p.cancel)
	os.MkdirAll(p.shots, 0o755)
	os.MkdirAll(p.dl, 0o700)
	chromedp.ListenTarget(bctx, func(ev any) {
		if e, ok := ev.(*network.EventResponseReceived); ok && e.Type == network.ResourceTypeDocument {
			p.mu.Lock()
			p.headers[e.Response.URL] = e.Response.Headers
			p.mu.Unlock()
		}
	})
	// The first Run starts the browser and ties it to bctx (a Run with a
	// shorter-lived context would take the browser down with it).
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	p.run(network.Enable(),
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(p.dl),
		browser.GrantPermissions([]browser.PermissionType{browser.PermissionTypeClipboardReadWrite,
			browser.PermissionTypeClipboardSanitizedWrite}).WithOrigin(srv.addr))
	return p
}

func (p *person) run(actions ...chromedp.Action) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// open loads a path and checks the page it lands on.
func (p *person) open(path, label string) {
	p.t.Helper()
	p.run(chromedp.Navigate(p.base + path))
	p.check(label)
}

// submit clicks a button that loads a new page, waits for it, checks it.
func (p *person) submit(sel, label string) {
	p.t.Helper()
	p.navigateBy(chromedp.Click(sel, chromedp.ByQuery))
	p.check(label)
}

func (p *person) fill(fields ...string) {
	p.t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		if f := fields[i]; strings.Contains(f, "pass") || strings.Contains(f, "seed") || strings.Contains(f, "notes") {
			plant(fields[i+1]) // for the planted-secret sweep
		}
		p.run(chromedp.SetValue(fields[i], fields[i+1], chromedp.ByQuery))
	}
}

func (p *person) text(sel string) string {
	p.t.Helper()
	var s string
	p.run(chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

func (p *person) url() string {
	var u string
	p.run(chromedp.Location(&u))
	return u
}

// navigateBy runs an action that loads a new page and waits for it.
func (p *person) navigateBy(a chromedp.Action) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, a); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	p.run(chromedp.WaitReady("body", chromedp.ByQuery))
}

// check: the page's response carried the CSP, axe finds no WCAG 2.1 AA
// violation, and a screenshot is saved.
func (p *person) check(label string) {
	p.t.Helper()
	u := p.url()
	p.mu.Lock()
	h, ok := p.headers[u]
	p.mu.Unlock()
	if !ok {
		p.t.Fatalf("%s: no document response recorded for %s", label, u)
	}
	csp, _ := h["content-security-policy"].(string)
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		p.t.Fatalf("%s (%s): CSP header %q", label, u, csp)
	}
	var violations string
	p.run(chromedp.Evaluate(`typeof axe === "undefined"`, nil))
	var missing bool
	p.run(chromedp.Evaluate(`typeof axe === "undefined"`, &missing))
	if missing {
		p.run(chromedp.Evaluate(p.axe, nil))
	}
	p.run(chromedp.Evaluate(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`,
		&violations, func(e *runtime.EvaluateParams) *runtime.EvaluateParams { return e.WithAwaitPromise(true) }))
	if violations != "[]" {
		p.t.Errorf("%s (%s): axe violations: %s", label, u, violations)
	}
	*p.n++
	var png []byte
	p.run(chromedp.FullScreenshot(&png, 100))
	name := fmt.Sprintf("%02d-%s-%s.png", *p.n, p.name, regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(label), "-"))
	if err := os.WriteFile(filepath.Join(p.shots, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *person) mustSee(sel string, want ...string) {
	p.t.Helper()
	got := p.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			p.t.Fatalf("%s: %s says %q; want %q", p.name, sel, got, w)
		}
	}
}

func codeAt(t *testing.T, secret string, at time.Time) string {
	c, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFile waits for a download to land.
func waitFile(t *testing.T, dir, suffix string) string {
	t.Helper()
	for i := 0; i < 100; i++ {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), suffix) {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s download in %s", suffix, dir)
	return ""
}

// signIn signs a person in with a one-time password and TOTP key, and
// sets their own password.
func (p *person) signIn(name, oneTime, key, newPW string) {
	p.t.Helper()
	p.open("/ui/login", "sign in")
	p.fill("#name", name, "#password", oneTime, "#totp", codeAt(p.t, key, time.Now()))
	p.submit(`main button[type=submit]`, "new password")
	p.fill("#old", oneTime, "#new", newPW, "#new2", newPW)
	p.submit(`main button[type=submit]`, "home")
	p.mustSee("h1", "Hello, "+name)
}

func TestWebInterface(t *testing.T) {
	axe := needBrowser(t)
	work := t.TempDir()
	srv := startServer(t, filepath.Join(work, "data"))
	shot := 0
	op := newPerson(t, srv, work, "operator", axe, &shot)

	// First run: the form, its error state, then the envelopes.
	op.open("/ui/", "setup")
	op.submit(`main button[type=submit]`, "setup errors")
	op.mustSee(".error-summary", "Enter the council’s name", "Enter at least two envelope holders")
	op.fill("#council", "Test Parish Council", "#admin", "IT Provider", "#holders", "Chairman\nVice-chair\nClerk",
		"#threshold", "2", "#passphrase", "correct horse battery staple", "#passphrase2", "correct horse battery staple")
	op.submit(`main button[type=submit]`, "setup done")
	adminPW := op.text("#otp-password")
	adminKey := strings.TrimPrefix(op.text("dd .hint"), "Key: ")
	for i, holder := range []string{"Chairman", "Vice-chair", "Clerk"} {
		op.run(chromedp.Click(fmt.Sprintf(`tbody tr:nth-child(%d) form:nth-of-type(1) button`, i+1), chromedp.ByQuery))
		f := waitFile(t, op.dl, fmt.Sprintf("%d-%s.pdf", i+1, holder))
		if b, _ := os.ReadFile(f); !strings.HasPrefix(string(b), "%PDF-") {
			t.Fatalf("envelope %d is not a PDF", i+1)
		}
		if i < 2 {
			op.run(chromedp.Click(fmt.Sprintf(`tbody tr:nth-child(%d) form:nth-of-type(2) button`, i+1), chromedp.ByQuery))
			waitFile(t, op.dl, fmt.Sprintf("%d-%s.txt", i+1, holder))
		}
	}
	// Each file once.
	var again float64
	op.run(chromedp.Evaluate(`fetch("/ui/setup/envelope", {method: "POST", body: new URLSearchParams({index: "1", kind: "pdf",
		csrf: document.querySelector('meta[name=csrf]').content})}).then(r => r.status)`, &again,
		func(e *runtime.EvaluateParams) *runtime.EvaluateParams { return e.WithAwaitPromise(true) }))
	if again != http.StatusGone {
		t.Fatalf("second download of an envelope: %v", again)
	}
	op.submit(`form[action="/ui/setup/finish"] button`, "unseal")

	// Unseal: a wrong passphrase is named, the right one opens.
	op.fill("#passphrase", "wrong horse battery staple")
	op.submit(`form:nth-of-type(1) button`, "unseal wrong passphrase")
	op.mustSee(".error-summary", "passphrase")
	op.fill("#passphrase", "correct horse battery staple")
	op.submit(`form:nth-of-type(1) button`, "sign in after unseal")
	if !strings.HasSuffix(op.url(), "/ui/login") {
		t.Fatalf("after unseal: %s", op.url())
	}

	// The IT provider: first sign-in, people, passwords.
	prov := op
	prov.name = "provider"
	prov.fill("#name", "IT Provider", "#password", "wrong", "#totp", "000000")
	prov.submit(`main button[type=submit]`, "sign in refused")
	prov.mustSee(".error-summary", "not right")
	prov.signIn("IT Provider", adminPW, adminKey, "ultramarine kettle drum")
	people := map[string][2]string{}
	for _, pr := range [][2]string{{"Clerk", "clerk"}, {"Member", "member"}, {"Chairman", "chairman"}, {"Auditor", "auditor"}} {
		prov.open("/ui/users", "people")
		prov.fill("#name", pr[0])
		prov.run(chromedp.Click("#role-"+pr[1], chromedp.ByQuery))
		prov.submit(`form[action="/ui/users"] button`, "person added")
		prov.mustSee("h1", pr[0]+" can now sign in")
		people[pr[0]] = [2]string{prov.text(".secret"), strings.TrimPrefix(prov.text("dd .hint"), "Key: ")}
	}
	prov.open("/ui/users", "people")
	prov.submit(`form[action="/ui/users"] button`, "people error")
	prov.mustSee(".error-summary", "Enter the person’s name")

	// A shared password, generated as three words, with a TOTP seed.
	prov.open("/ui/creds/new", "add password")
	prov.fill("#name", "Facebook page", "#username", "parish.social", "#url", "https://facebook.com",
		"#totp", "JBSWY3DPEHPK3PXPJBSWY3DP", "#tags", "social")
	prov.run(chromedp.Click(`[data-genpass]`, chromedp.ByQuery), chromedp.WaitVisible(`#genpass-status`, chromedp.ByQuery))
	var generated string
	prov.run(chromedp.Poll(`document.getElementById("password").value.split("-").length === 3`, nil),
		chromedp.Value("#password", &generated, chromedp.ByQuery))
	plant(generated)
	prov.run(chromedp.Click(`#assign-`+userID(t, prov, "Clerk"), chromedp.ByQuery))
	prov.submit(`form[action="/ui/creds/new"] button[type=submit]`, "password page")
	prov.mustSee("h1", "Facebook page")
	// Adding a second one of the same name is refused, not an overwrite
	// (the clerk's reveal below proves the password is unchanged).
	prov.open("/ui/creds/new", "add password again")
	prov.fill("#name", "facebook page", "#password", "overwrite-attempt")
	prov.submit(`form[action="/ui/creds/new"] button[type=submit]`, "add password name in use")
	prov.mustSee(".error-summary", "already exists")

	// An admin password: shown only after re-authentication.
	prov.open("/ui/creds/new", "add admin password")
	prov.fill("#name", "Website host", "#username", "admin", "#password", "river-candle-orbit")
	prov.run(chromedp.Click("#kind-admin", chromedp.ByQuery))
	prov.submit(`form[action="/ui/creds/new"] button[type=submit]`, "admin password page")
	prov.submit(`main a.button`, "confirm it is you")
	prov.fill("#password", "ultramarine kettle drum", "#totp", codeAt(t, adminKey, time.Now().Add(30*time.Second)))
	prov.submit(`form[action="/ui/reauth"] button`, "admin password page after reauth")
	prov.run(chromedp.Click(`[data-reveal]`, chromedp.ByQuery), chromedp.WaitVisible("#secret-password", chromedp.ByQuery))
	if got := prov.text("#secret-password"); got != "river-candle-orbit" {
		t.Fatalf("admin reveal: %q", got)
	}
	prov.check("admin password revealed")

	// The password health report: the admin password has no web address
	// to judge a TOTP by; each finding links to the password and to its
	// change form; a bad age is named on the field.
	prov.open("/ui/report/password-health", "password health")
	prov.mustSee("#no-url + table", "Website host", "No web address is recorded")
	var rotateLink string
	prov.run(chromedp.AttributeValue(`#no-url + table a[href$="#change"]`, "href", &rotateLink, nil, chromedp.ByQuery))
	if rotateLink != "/ui/creds/Website%20host#change" {
		t.Fatalf("the change link is %q", rotateLink)
	}
	prov.open("/ui/report/password-health?older_than=soon", "password health age error")
	prov.mustSee(".error-summary", "Enter the number of days")
	// Without JavaScript the age form and the links still work: the page
	// read as plain HTML, by an HTTP client with the browser's session.
	noScript(t, prov, filepath.Join(work, "data", "tls", "cert.pem"))

	// The clerk: search, view, reveal, copy, live TOTP, by keyboard for sign-in.
	clerk := newPerson(t, srv, work, "clerk", axe, &shot)
	clerk.open("/ui/login", "clerk sign in")
	clerk.run(chromedp.Evaluate(`document.activeElement && document.activeElement.blur()`, nil))
	typed := func(want string, keys string) {
		clerk.run(chromedp.KeyEvent(kb.Tab))
		var id string
		clerk.run(chromedp.Evaluate(`document.activeElement.id || document.activeElement.className`, &id))
		if id != want {
			t.Fatalf("keyboard: focus on %q, want %q", id, want)
		}
		if keys != "" {
			clerk.run(chromedp.KeyEvent(keys))
		}
	}
	typed("skip-link", "")
	clerk.run(chromedp.KeyEvent(kb.Tab)) // the service name link
	typed("name", "Clerk")
	typed("password", people["Clerk"][0])
	typed("totp", codeAt(t, people["Clerk"][1], time.Now()))
	clerk.navigateBy(chromedp.KeyEvent(kb.Enter))
	clerk.check("clerk new password")
	clerk.fill("#old", people["Clerk"][0], "#new", "sparrow lantern quarry", "#new2", "sparrow lantern quarry")
	clerk.submit(`main button[type=submit]`, "clerk home")
	clerk.open("/ui/creds?q=face", "clerk search")
	clerk.mustSee("table", "Facebook page", "parish.social")
	clerk.submit(`tbody a`, "clerk password page")
	clerk.run(chromedp.Focus(`[data-reveal]`, chromedp.ByQuery), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("#secret-password", chromedp.ByQuery))
	if got := clerk.text("#secret-password"); got != generated {
		t.Fatalf("clerk reveal %q, want %q", got, generated)
	}
	clerk.run(chromedp.Click(`[data-copy="secret-password"]`, chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("secret-status").textContent.includes("Copied")`, nil))
	var clip string
	clerk.run(chromedp.Evaluate(`navigator.clipboard.readText().catch(e => "ERR: " + e)`, &clip,
		func(e *runtime.EvaluateParams) *runtime.EvaluateParams { return e.WithAwaitPromise(true) }))
	switch {
	case strings.HasPrefix(clip, "ERR: "):
		t.Logf("headless Chromium would not read the clipboard back (%s); the page said it copied", clip)
	case clip != generated:
		t.Fatalf("clipboard holds %q", clip)
	}
	clerk.run(chromedp.Click(`[data-totp]`, chromedp.ByQuery), chromedp.WaitVisible("#totp-code", chromedp.ByQuery))
	if got := clerk.text("#totp-code"); got != codeAt(t, "JBSWY3DPEHPK3PXPJBSWY3DP", time.Now()) &&
		got != codeAt(t, "JBSWY3DPEHPK3PXPJBSWY3DP", time.Now().Add(-30*time.Second)) {
		t.Fatalf("TOTP %q", got)
	}
	clerk.check("clerk password revealed with code")
	// No address the browser loaded held a secret.
	clerk.mu.Lock()
	for u := range clerk.headers {
		if strings.Contains(u, generated) || strings.Contains(u, "sparrow") {
			t.Fatalf("a secret in a URL: %s", u)
		}
	}
	clerk.mu.Unlock()

	// A member who is not assigned: not shown, and a crafted reveal is refused and recorded.
	member := newPerson(t, srv, work, "member", axe, &shot)
	member.signIn("Member", people["Member"][0], people["Member"][1], "pebble orchard violet")
	member.open("/ui/creds", "member passwords")
	member.mustSee("main", "No passwords")
	member.open("/ui/creds/Facebook%20page", "member not found")
	var status float64
	member.run(chromedp.Evaluate(`fetch("/ui/creds/Facebook%20page/reveal", {method: "POST", headers: {"Accept": "application/json"},
		body: new URLSearchParams({csrf: document.querySelector('meta[name=csrf]').content})}).then(r => r.status)`, &status,
		func(e *runtime.EvaluateParams) *runtime.EvaluateParams { return e.WithAwaitPromise(true) }))
	if status != http.StatusNotFound { // one the member may not see: answered as missing (issue 15)
		t.Fatalf("member's reveal: %v", status)
	}
	member.open("/ui/requests?cred=Facebook%20page", "member requests")
	member.fill("#reason", "Posting the fete photos", "#for", "2h")
	member.submit(`form[action="/ui/requests"] button`, "member request made")
	member.mustSee("table", "Facebook page", "pending")

	// The chairman: approves, checks an envelope.
	chair := newPerson(t, srv, work, "chairman", axe, &shot)
	chair.signIn("Chairman", people["Chairman"][0], people["Chairman"][1], "harbour crocus lantern")
	chair.open("/ui/requests", "chairman requests")
	chair.submit(`tbody form[action$="/approve"] button`, "chairman approved")
	chair.mustSee("table", "approved by Chairman")
	envelope, _ := os.ReadFile(waitFile(t, op.dl, "1-Chairman.txt"))
	chair.open("/ui/escrow/check", "check envelope")
	chair.fill("#share", "not a share")
	chair.submit(`form[action="/ui/escrow/check"] button`, "check envelope error")
	chair.run(chromedp.SetValue("#share", string(envelope), chromedp.ByQuery))
	chair.submit(`form[action="/ui/escrow/check"] button`, "check envelope valid")
	chair.mustSee(".notice", "held by Chairman")

	// The member now reads it under the grant.
	member.open("/ui/creds", "member passwords with grant")
	member.submit(`tbody a`, "member password page with grant")
	member.run(chromedp.Click(`[data-reveal]`, chromedp.ByQuery), chromedp.WaitVisible("#secret-password", chromedp.ByQuery))
	if got := member.text("#secret-password"); got != generated {
		t.Fatalf("member under grant: %q", got)
	}

	// The auditor: log, filters, verify, downloads, incidents.
	aud := newPerson(t, srv, work, "auditor", axe, &shot)
	aud.signIn("Auditor", people["Auditor"][0], people["Auditor"][1], "meadow quartz falcon")
	aud.open("/ui/audit", "audit log")
	aud.open("/ui/audit?outcome=denied", "audit log denied")
	aud.mustSee("table", "Member", "cred.read", "denied")
	var noise bool
	aud.run(chromedp.Evaluate(`document.querySelector("table").textContent.includes("user.list")`, &noise))
	if noise {
		t.Fatal("viewing pages produced refusals (user.list) that are not anyone's attempt")
	}
	aud.submit(`form[action="/ui/audit/verify"] button`, "audit verified")
	aud.mustSee(".notice", "The log verifies")
	aud.run(chromedp.Click(`form[action="/ui/audit/checkpoint"] button`, chromedp.ByQuery))
	if b, _ := os.ReadFile(waitFile(t, aud.dl, "checkpoint.txt")); !strings.HasPrefix(string(b), "strongroom/") {
		t.Fatalf("checkpoint: %q", b)
	}
	aud.run(chromedp.Click(`form[action="/ui/audit/export"] input[value=jsonl] ~ button`, chromedp.ByQuery))
	if b, _ := os.ReadFile(waitFile(t, aud.dl, ".jsonl")); !strings.Contains(string(b), `{"checkpoint":`) {
		t.Fatalf("export has no closing line: %.200s", b)
	}
	aud.open("/ui/incidents", "incidents")
	aud.mustSee("table", "Member", "Facebook page")
	aud.open("/ui/creds", "auditor cannot see passwords")
	aud.open("/ui/report/password-health", "auditor password health")
	aud.mustSee("#no-url + table", "Website host")
	var changeLinks int
	aud.run(chromedp.Evaluate(`document.querySelectorAll('a[href$="#change"]').length`, &changeLinks))
	if changeLinks != 0 {
		t.Fatalf("the auditor is offered %d change links", changeLinks)
	}

	// Cross-site: a form on another origin posting to the vault is refused.
	evil := evilSite(t, srv.addr)
	prov.run(chromedp.Navigate(evil), chromedp.Poll(`location.href.includes("/ui/users")`, nil),
		chromedp.Poll(`document.readyState === "complete"`, nil))
	prov.mustSee("main", "another website")
	prov.open("/ui/users", "people after cross-site post")
	var evilThere bool
	prov.run(chromedp.Evaluate(`document.body.textContent.includes("Evil Admin")`, &evilThere))
	if evilThere {
		t.Fatal("the cross-site post created an account")
	}

	// Emergency: sealed, opened with two envelopes (recovery), break-glass.
	prov.open("/ui/emergency", "provider emergency")
	prov.submit(`form[action="/ui/seal"] button`, "sealed")
	chair.open("/ui/", "unseal after seal")
	for i, holder := range []string{"Chairman", "Vice-chair"} {
		env, _ := os.ReadFile(waitFile(t, op.dl, fmt.Sprintf("%d-%s.txt", i+1, holder)))
		chair.run(chromedp.SetValue("#share", string(env), chromedp.ByQuery))
		chair.submit(`form:nth-of-type(2) button`, "unseal with envelope "+holder)
	}
	chair.mustSee("main", "Sign in")
	chair.fill("#name", "Chairman", "#password", "harbour crocus lantern", "#totp", codeAt(t, people["Chairman"][1], time.Now().Add(30*time.Second)))
	chair.submit(`main button[type=submit]`, "chairman home in recovery")
	chair.mustSee("[role=alert]", "Emergency recovery")
	chair.open("/ui/emergency", "emergency")
	chair.fill("#reason", "Website down; IT provider unreachable")
	chair.submit(`form[action="/ui/emergency/breakglass"] button`, "break-glass open")
	chair.mustSee(`.notice[role=status]`, "open until")
	chair.open("/ui/creds", "chairman passwords in break-glass")
	chair.mustSee("table", "Website host")

	// Idle: the page signs itself out (the limit shortened here from 15
	// minutes to 2 seconds), and the session is gone.
	// The unseal ended every session: the auditor signs in again.
	aud.open("/ui/login", "auditor signs in again")
	aud.fill("#name", "Auditor", "#password", "meadow quartz falcon", "#totp", codeAt(t, people["Auditor"][1], time.Now().Add(30*time.Second)))
	aud.submit(`main button[type=submit]`, "auditor home after the unseal")
	aud.open("/ui/audit", "auditor before idle")
	aud.navigateBy(chromedp.Evaluate(`document.querySelector('meta[name="idle-logout"]').setAttribute("content", "2")`, nil))
	aud.check("signed out for idleness")
	aud.mustSee("main", "no activity for 15 minutes")
	aud.open("/ui/audit", "after idle sign-out")
	if !strings.HasSuffix(aud.url(), "/ui/login") {
		t.Fatalf("after the idle sign-out the session still works: %s", aud.url())
	}
}

// userID reads a person's id from the assignee checkbox of the add form.
func userID(t *testing.T, p *person, name string) string {
	var id string
	p.run(chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll("input[name=assignees]")].find(i => i.value === %q).id.replace("assign-", "")`, name), &id))
	return id
}

// evilSite serves, on another loopback port, a page whose form posts to
// the vault as soon as it loads.
func evilSite(t *testing.T, vault string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><title>Win a prize</title><form method="post" action="%s/ui/users">
<input name="name" value="Evil Admin"><input name="role" value="provider"><input name="csrf" value="guess"></form>
<script>document.forms[0].submit()</script></html>`, vault)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

// noScript follows the password health page as a browser without
// JavaScript would, with p's session: the age form (a GET form whose
// field is older_than) and the first finding's change link, which must
// land on the password's page at its change form.
func noScript(t *testing.T, p *person, ca string) {
	t.Helper()
	var cookies []*network.Cookie
	p.run(chromedp.ActionFunc(func(ctx context.Context) (err error) {
		cookies, err = network.GetCookies().WithURLs([]string{p.base + "/ui/"}).Do(ctx)
		return err
	}))
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	get := func(path string) string {
		t.Helper()
		r, _ := http.NewRequest("GET", p.base+path, nil)
		for _, c := range cookies {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		resp, err := hc.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s without JavaScript: %d %.300s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	page := get("/ui/report/password-health")
	form := regexp.MustCompile(`<form method="get" action="(/ui/report/password-health)"[^>]*>[\s\S]*?name="(older_than)"`).FindStringSubmatch(page)
	if form == nil {
		t.Fatalf("no GET form with an older_than field:\n%s", page)
	}
	page = get(form[1] + "?" + form[2] + "=30")
	if !strings.Contains(page, `<h2 id="stale">Not changed for more than 30 days</h2>`) {
		t.Fatalf("the age form's answer:\n%s", page)
	}
	link := regexp.MustCompile(`href="(/ui/creds/[^"#]+)#change"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatalf("no change link:\n%s", page)
	}
	if cred := get(strings.ReplaceAll(link[1], "&amp;", "&")); !strings.Contains(cred, `<h2 id="change">`) || !strings.Contains(cred, `action="`+link[1]+`/rotate"`) {
		t.Fatalf("the change link's page has no change form:\n%s", cred)
	}
}
