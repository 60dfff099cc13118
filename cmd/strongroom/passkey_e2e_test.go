package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// passkeyVault is a provisioned vault whose public address is
// https://localhost:PORT (browsers refuse WebAuthn on an IP address;
// Chromium resolves localhost to 127.0.0.1 itself), with a clerk.
func passkeyVault(t *testing.T, flags ...string) (v *provisioned, port string, clerk oneTime, clerkKey string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	v = newProvisioned(t, append([]string{"--listen", "127.0.0.1:" + port, "--public-url", "https://localhost:" + port}, flags...)...)
	json.Unmarshal([]byte(v.provider.must(0, "user", "add", "Clerk", "--role", "clerk", "--json")), &clerk)
	u, err := url.Parse(clerk.TOTPURI)
	if err != nil {
		t.Fatal(err)
	}
	return v, port, clerk, u.Query().Get("secret")
}

// authenticator adds a virtual CTAP2 authenticator to p's browser: a
// platform one (a phone's or laptop's) or a USB security key.
func (p *person) authenticator(transport webauthn.AuthenticatorTransport) webauthn.AuthenticatorID {
	p.t.Helper()
	var id webauthn.AuthenticatorID
	p.run(webauthn.Enable(), chromedp.ActionFunc(func(ctx context.Context) (err error) {
		id, err = webauthn.AddVirtualAuthenticator(&webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Ctap2version: webauthn.Ctap2versionCtap21, Transport: transport, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true}).Do(ctx)
		return err
	}))
	return id
}

// passkeySignIn signs in with password and passkey from the sign-in page.
func (p *person) passkeySignIn(name, password, label string) {
	p.t.Helper()
	p.open("/ui/login", "sign in "+label)
	p.run(chromedp.WaitVisible(`[data-passkey-go]`, chromedp.ByQuery))
	p.fill("#name", name, "#password", password)
	p.navigateBy(chromedp.Click(`[data-passkey-go]`, chromedp.ByQuery))
	p.check(label)
}

// reflow checks the page at 320 CSS pixels wide (WCAG 2.2 1.4.10): no
// scrolling sideways.
func (p *person) reflow(label string) {
	p.t.Helper()
	var over bool
	p.run(chromedp.EmulateViewport(320, 640), chromedp.Sleep(100*time.Millisecond),
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &over),
		chromedp.EmulateViewport(1000, 900))
	if over {
		p.t.Errorf("%s: the page scrolls sideways at 320 pixels wide", label)
	}
}

func (p *person) signOut() {
	p.t.Helper()
	p.submit(`#logout-form button`, "signed out")
}

// TestWebPasskeys: a clerk registers a passkey, signs out, signs in with
// password and passkey, re-authenticates with it to reveal an admin
// password, and removes it; a passkey is refused from a cloned
// authenticator (its counter goes back) and from another web address.
func TestWebPasskeys(t *testing.T) {
	axe := needBrowser(t)
	v, port, clerk, key := passkeyVault(t)
	v.provider.must(0, "cred", "put", "Router", "--kind", "admin", "--username", "admin", "--password-file",
		write(t, filepath.Join(v.work, "router.pw"), "copper lantern meadow"), "--assign", "Clerk")
	shot := 0
	p := newPerson(t, v.srv, v.work, "clerk-passkey", axe, &shot)
	p.base = "https://localhost:" + port
	phone := p.authenticator(webauthn.AuthenticatorTransportInternal)
	const pw = "sparrow lantern quarry 7"
	p.signIn("Clerk", clerk.Password, key, pw)

	// Register, naming it.
	p.open("/ui/passkeys", "passkeys none yet")
	p.mustSee("main", "You have no passkey yet")
	// With no name, the vault says so before the phone makes a passkey
	// (one made and then refused would stay on the phone, useless).
	p.run(chromedp.Click(`form[data-passkey=register] button[type=submit]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("[data-passkey-status]").textContent.indexOf("1 to 60 characters") >= 0`, nil,
			chromedp.WithPollingTimeout(20*time.Second)))
	if n := p.credentials(phone); n != 0 {
		t.Fatalf("a passkey was made for a name the vault refuses: the phone holds %d", n)
	}
	p.run(chromedp.SetValue("#passkey_name", "Clerk's iPhone", chromedp.ByQuery)) // a name, not a secret: the audit log holds it
	p.submit(`form[data-passkey=register] button[type=submit]`, "passkey added")
	p.mustSee("main", "Your passkey is registered", "Clerk's iPhone", "Not yet")
	p.reflow("passkeys page")

	// Sign out; sign in with password and passkey.
	p.signOut()
	p.passkeySignIn("Clerk", pw, "home after passkey")
	p.mustSee("h1", "Hello, Clerk")

	// Re-authenticate with it to reveal an admin password.
	p.open("/ui/creds/Router", "admin password")
	p.submit(`main a.button`, "confirm it is you with passkey")
	p.reflow("confirm it is you with passkey")
	p.run(chromedp.WaitVisible(`[data-passkey-go]`, chromedp.ByQuery))
	p.navigateBy(chromedp.Click(`[data-passkey-go]`, chromedp.ByQuery))
	p.check("admin password after passkey")
	p.run(chromedp.Click(`[data-reveal]`, chromedp.ByQuery), chromedp.WaitVisible("#secret-password", chromedp.ByQuery))
	if got := p.text("#secret-password"); got != "copper lantern meadow" {
		t.Fatalf("admin reveal after passkey re-authentication: %q", got)
	}

	// A cloned authenticator: the credential as it is now, copied to a
	// second authenticator, after the first has been used again.
	creds := p.credentialsOf(phone)
	if len(creds) != 1 {
		t.Fatalf("the phone holds %d credentials", len(creds))
	}
	p.signOut()
	p.passkeySignIn("Clerk", pw, "home again")
	p.signOut()
	p.run(webauthn.RemoveVirtualAuthenticator(phone))
	clone := p.authenticator(webauthn.AuthenticatorTransportInternal)
	p.run(webauthn.AddCredential(clone, creds[0]))
	p.passkeySignIn("Clerk", pw, "sign in with a cloned passkey")
	p.mustSee(".error-summary", "The account name, password or passkey is not right")

	// Another web address: the same vault reached through another port
	// (the relying-party ID, localhost, is the same, so the browser signs;
	// the origin is not the vault's, so the vault refuses).
	other := p.base
	p.base = "https://localhost:" + tcpProxy(t, "127.0.0.1:"+port)
	p.passkeySignIn("Clerk", pw, "sign in from another address")
	p.mustSee(".error-summary", "different web address")
	p.base = other

	// The copy's counter is past the stored one again, so it signs in;
	// removing the passkey asks to confirm it is you first.
	p.passkeySignIn("Clerk", pw, "home to remove")
	p.open("/ui/passkeys", "passkeys one")
	p.submit(`form[action="/ui/passkeys/remove"] button`, "confirm it is you to remove")
	p.run(chromedp.WaitVisible(`[data-passkey-go]`, chromedp.ByQuery))
	p.navigateBy(chromedp.Click(`[data-passkey-go]`, chromedp.ByQuery))
	p.check("passkeys after re-authentication")
	p.submit(`form[action="/ui/passkeys/remove"] button`, "passkey removed")
	p.mustSee("main", "The passkey is removed", "You have no passkey yet")
	p.signOut()
	p.passkeySignIn("Clerk", pw, "sign in with a removed passkey")
	p.mustSee(".error-summary", "The account name, password or passkey is not right")

	// Without JavaScript the page says passkeys need it, and the code
	// from the authenticator app still signs in.
	signInWithoutScript(t, "https://localhost:"+port, filepath.Join(v.work, "data", "tls", "cert.pem"), "Clerk", pw,
		codeAt(t, key, time.Now().Add(30*time.Second)))

	// A browser too old for WebAuthn's JSON methods is told why passkeys
	// are not offered, and keeps the code.
	p.run(chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`delete PublicKeyCredential.parseRequestOptionsFromJSON`).Do(ctx)
		return err
	}))
	p.open("/ui/login", "sign-in in an old browser")
	p.mustSee("main", "This browser is too old to use passkeys here")
	var shown bool
	p.run(chromedp.Evaluate(`[...document.querySelectorAll("[data-passkey-go]")].some(b => b.offsetParent !== null)`, &shown))
	if shown {
		t.Error("a passkey button offered by a browser that cannot use it")
	}

	log := v.provider.must(0, "audit", "export")
	for _, want := range []string{`"action":"user.passkey_add"`, `"action":"user.passkey_remove"`, `"action":"auth.passkey_cloned"`,
		`passkey \"Clerk's iPhone\"`, `another web address (origin)`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// tcpProxy forwards connections from a new port on 127.0.0.1 to target,
// and returns the port.
func tcpProxy(t *testing.T, target string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				d, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer d.Close()
				go io.Copy(d, c)
				io.Copy(c, d)
			}()
		}
	}()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestWebPasswordless: with server --passwordless and --require-passkey
// clerk, a clerk who has registered a passkey signs in with it alone; the
// authenticator app code is then refused for them, with a plain reason.
func TestWebPasswordless(t *testing.T) {
	axe := needBrowser(t)
	v, port, clerk, key := passkeyVault(t, "--passwordless", "--require-passkey", "clerk")
	shot := 0
	p := newPerson(t, v.srv, v.work, "clerk-passwordless", axe, &shot)
	p.base = "https://localhost:" + port
	p.authenticator(webauthn.AuthenticatorTransportUsb)
	const pw = "sparrow lantern quarry 7"
	p.signIn("Clerk", clerk.Password, key, pw)
	p.open("/ui/passkeys", "passkeys")
	p.run(chromedp.SetValue("#passkey_name", "Blue security key", chromedp.ByQuery))
	p.submit(`form[data-passkey=register] button[type=submit]`, "security key added")
	p.mustSee("main", "Blue security key", "Security key or device-bound passkey")
	p.signOut()

	p.open("/ui/login", "sign in passwordless")
	p.reflow("sign-in page with passkeys")
	p.run(chromedp.WaitVisible(`form[data-passkey=passwordless] [data-passkey-go]`, chromedp.ByQuery))
	p.navigateBy(chromedp.Click(`form[data-passkey=passwordless] [data-passkey-go]`, chromedp.ByQuery))
	p.check("home after passwordless")
	p.mustSee("h1", "Hello, Clerk")
	p.signOut()

	p.open("/ui/login", "sign in with a code")
	p.fill("#name", "Clerk", "#password", pw, "#totp", codeAt(t, key, time.Now().Add(30*time.Second)))
	p.submit(`form[action="/ui/login"] button[type=submit]`, "code refused")
	p.mustSee(".error-summary", "Your role must sign in with a passkey")
	if log := v.provider.must(0, "audit", "export"); !strings.Contains(log, `passwordless: passkey \"Blue security key\"`) ||
		!strings.Contains(log, "TOTP not accepted: a passkey is required for the clerk role") {
		t.Error("the audit log lacks the passwordless sign-in or the refused code")
	}
}

// TestServerPasskeyFlags: bad --require-passkey and --passwordless are
// refused with exit code 2 and one line.
func TestServerPasskeyFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--require-passkey", "provider,wizard", "--public-url", "https://vault.parish.test"},
		{"--require-passkey", "provider,", "--public-url", "https://vault.parish.test"},
		{"--require-passkey", "chairman"},
		{"--passwordless", "--public-url", "https://192.0.2.1:8443"},
	} {
		cmd := exec.Command(binary, append([]string{"server", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
			t.Errorf("%v: %v, %q", args, err, out)
		}
	}
}

// TestWebPasskeyExport: the provider exports to KeePass confirming with a
// passkey in place of password and code.
func TestWebPasskeyExport(t *testing.T) {
	axe := needBrowser(t)
	v, port, _, _ := passkeyVault(t)
	shot := 0
	p := newPerson(t, v.srv, v.work, "provider-passkey", axe, &shot)
	p.base = "https://localhost:" + port
	p.authenticator(webauthn.AuthenticatorTransportInternal)
	u, err := url.Parse(v.admin.TOTPURI)
	if err != nil {
		t.Fatal(err)
	}
	p.open("/ui/login", "provider sign in")
	p.fill("#name", "IT Provider", "#password", "ultramarine kettle drum", "#totp", codeAt(t, u.Query().Get("secret"), time.Now().Add(30*time.Second)))
	p.submit(`form[action="/ui/login"] button[type=submit]`, "provider home")
	p.open("/ui/passkeys", "provider passkeys")
	p.run(chromedp.SetValue("#passkey_name", "Provider laptop", chromedp.ByQuery))
	p.submit(`form[data-passkey=register] button[type=submit]`, "provider passkey added")
	p.open("/ui/export", "export with passkey")
	p.fill("#passphrase", "harbour violet engine 42")
	p.run(chromedp.WaitVisible(`[data-passkey=export] [data-passkey-go]`, chromedp.ByQuery),
		chromedp.Click(`[data-passkey=export] [data-passkey-go]`, chromedp.ByQuery))
	waitFile(t, p.dl, ".kdbx")
	if log := v.provider.must(0, "audit", "export"); !strings.Contains(log, `"action":"export.kdbx"`) {
		t.Error("the export is not in the audit log")
	}

	// The command line lists it and removes it after a re-authentication
	// (with a code of a step the web sign-in did not use).
	var list struct {
		Passkeys []struct{ ID, Name string }
	}
	json.Unmarshal([]byte(v.provider.must(0, "passkey", "list", "--json")), &list)
	if len(list.Passkeys) != 1 || list.Passkeys[0].Name != "Provider laptop" {
		t.Fatalf("passkey list: %+v", list)
	}
	if msg := v.provider.must(2, "passkey", "remove", list.Passkeys[0].ID); !strings.Contains(msg, "re-authentication") {
		t.Fatalf("removal without re-authentication: %q", msg)
	}
	time.Sleep(time.Until(time.Now().Truncate(30 * time.Second).Add(30 * time.Second)))
	v.provider.must(0, "passkey", "remove", list.Passkeys[0].ID, "--password-file", filepath.Join(v.work, "a.pw"), "--totp", codeAfter(t, v.admin.TOTPURI))
	if out := v.provider.must(0, "passkey", "list"); !strings.Contains(out, "You have no passkey") {
		t.Fatalf("after removal: %q", out)
	}
}

// signInWithoutScript signs in as a browser without JavaScript would: the
// sign-in page's form, posted with password and authenticator code.
func signInWithoutScript(t *testing.T, base, ca, name, password, code string) {
	t.Helper()
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(base + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "<noscript><p>Passkeys need JavaScript in your browser. Without it, sign in with the code from your authenticator app.</p></noscript>") {
		t.Fatalf("the sign-in page does not say passkeys need JavaScript:\n%s", page)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF field on the sign-in page")
	}
	resp, err = hc.PostForm(base+"/ui/login", url.Values{"csrf": {string(m[1])}, "name": {name}, "password": {password},
		"totp": {code}, "passkey": {""}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/home" {
		t.Fatalf("sign-in without JavaScript: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// credentialsOf is what the virtual authenticator holds.
func (p *person) credentialsOf(a webauthn.AuthenticatorID) []*webauthn.Credential {
	p.t.Helper()
	var creds []*webauthn.Credential
	p.run(chromedp.ActionFunc(func(ctx context.Context) (err error) {
		creds, err = webauthn.GetCredentials(a).Do(ctx)
		return err
	}))
	return creds
}

func (p *person) credentials(a webauthn.AuthenticatorID) int { return len(p.credentialsOf(a)) }
