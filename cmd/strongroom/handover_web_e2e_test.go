package main

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestHandoverWeb: a councillor, in a browser, gives
// the council the X login on "Give the council a login": the empty form's
// errors are linked to their fields, a name in use is refused on the name
// with what was typed kept (but the password), the page reflows at 320
// px, axe finds nothing on any state. The clerk sees it on their home page
// and confirms it with the button; the notice goes.
func TestHandoverWeb(t *testing.T) {
	axe := needBrowser(t)
	v := newProvisioned(t)
	add := func(name, role string) (pw, key string) {
		var o oneTime
		json.Unmarshal([]byte(v.provider.must(0, "user", "add", name, "--role", role, "--json")), &o)
		u, err := url.Parse(o.TOTPURI)
		if err != nil {
			t.Fatal(err)
		}
		return o.Password, u.Query().Get("secret")
	}
	clerkPW, clerkKey := add("Clerk", "clerk")
	memberPW, memberKey := add("Councillor Jones", "member")
	v.provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--username", "dbpc", "--password-file",
		write(t, filepath.Join(v.work, "fb.pw"), "facebook-pw-1"), "--assign", "Clerk")
	shot := 0

	m := newPerson(t, v.srv, v.work, "councillor", axe, &shot)
	m.signIn("Councillor Jones", memberPW, memberKey, "sparrow lantern quarry 7")
	m.mustSee("main", "Give the council a login")
	m.open("/ui/handover", "handover form")
	m.reflow("handover form")
	m.submit(`form[action="/ui/handover"] button[type=submit]`, "handover errors")
	for _, f := range []string{"name", "username", "password"} {
		var linked bool
		m.run(chromedp.Evaluate(`!!document.querySelector('.error-summary a[href="#`+f+`"]') && !!document.getElementById("`+f+`-error")`, &linked))
		if !linked {
			t.Fatalf("no error for %s linked to its field", f)
		}
	}
	const secret = "Xcom-browser-handover-4Kd!"
	m.fill("#name", "Facebook Page", "#username", "@DraytonBassettPC", "#password", secret, "#url", "https://x.com", "#reason", "I ran it until May")
	m.submit(`form[action="/ui/handover"] button[type=submit]`, "handover name taken")
	m.mustSee(".error-summary", "cannot be used")
	var kept struct{ Username, URL, Reason, Password string }
	m.run(chromedp.Value("#username", &kept.Username, chromedp.ByQuery), chromedp.Value("#url", &kept.URL, chromedp.ByQuery),
		chromedp.Value("#reason", &kept.Reason, chromedp.ByQuery), chromedp.Value("#password", &kept.Password, chromedp.ByQuery))
	if kept.Username != "@DraytonBassettPC" || kept.URL != "https://x.com" || kept.Reason != "I ran it until May" || kept.Password != "" {
		t.Fatalf("after the error the form holds %+v", kept)
	}
	m.fill("#name", "X (Twitter)", "#password", secret)
	m.submit(`form[action="/ui/handover"] button[type=submit]`, "handed over")
	m.mustSee("main", "The council now has the login for X (Twitter).", "It is kept for Clerk and Councillor Jones.")
	if strings.Contains(m.url(), "Xcom") {
		t.Fatalf("the password is in the address: %s", m.url())
	}
	m.open("/ui/creds/"+url.PathEscape("X (Twitter)"), "handed over login")
	m.mustSee("main", "By Councillor Jones", "The clerk has not yet confirmed receiving it.")

	c := newPerson(t, v.srv, v.work, "clerk", axe, &shot)
	c.signIn("Clerk", clerkPW, clerkKey, "sparrow lantern quarry 8")
	c.mustSee(".notice", "Logins handed over to the council", "X (Twitter), from Councillor Jones")
	c.reflow("clerk home with a hand-over")
	c.submit(`form[action$="/handover-confirm"] button`, "hand-over confirmed")
	c.mustSee("main", "Clerk confirmed receiving it")
	c.open("/ui/home", "clerk home after confirming")
	var notice bool
	c.run(chromedp.Evaluate(`!!document.getElementById("handover-notice")`, &notice))
	if notice {
		t.Fatal("the hand-over is still on the clerk's home page after confirming")
	}
	if out := v.provider.must(0, "audit", "export"); !strings.Contains(out, `"action":"cred.handover_confirm"`) || strings.Contains(out, secret) {
		t.Fatalf("audit: %s", out)
	}
}
