package main

import (
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"encoding/json"

	"github.com/chromedp/chromedp"
)

// TestAccessReviewWeb: the clerk, in the browser, finds the first annual
// review due on the home page, walks through it, is refused a sign-off
// while passwords are unconfirmed, confirms each (one again after the
// provider changes who holds it, and one whose page went stale is sent
// back to look again), signs off, and the home page no longer asks.
func TestAccessReviewWeb(t *testing.T) {
	axe := needBrowser(t)
	v := newProvisioned(t)
	var clerk oneTime
	json.Unmarshal([]byte(v.provider.must(0, "user", "add", "Clerk", "--role", "clerk", "--json")), &clerk)
	u, err := url.Parse(clerk.TOTPURI)
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(v.work, "a.pw")
	v.provider.must(0, "cred", "put", "Website admin", "--kind", "admin", "--username", "admin", "--password-file", pw, "--assign", "IT Provider")
	v.provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--password-file", pw, "--assign", "Clerk")
	shot := 0
	p := newPerson(t, v.srv, v.work, "clerk-review", axe, &shot)
	p.signIn("Clerk", clerk.Password, u.Query().Get("secret"), "sparrow lantern quarry 7")

	due := time.Now().AddDate(1, 0, 0).In(london).Format("2 January 2006")
	p.mustSee("#review-due", "The annual access review is due")
	p.mustSee(".notice", "The first annual access review is due by "+due)
	p.reflow("home with the review due")
	p.navigateBy(chromedp.Click(`.notice a[href="/ui/review"]`, chromedp.ByQuery))
	p.check("annual review")
	p.mustSee("main", "Facebook page", "Website admin", "To confirm", "Clerk (assigned)", "IT Provider (assigned)",
		"Never changed since it was stored on", "Change who holds Facebook page", "Only the provider can change who holds an admin password")
	p.reflow("annual review")

	// Sign-off refused while anything is unconfirmed, saying which.
	p.submit("#signoff", "sign-off refused")
	p.mustSee(".error-summary", "not confirmed", "Facebook page", "Website admin")

	// Confirm the first; the provider then changes who holds it, so the
	// page the clerk has open is stale: confirming from it is refused.
	p.submit(`form[action="/ui/review/confirm"] button`, "first confirmed")
	p.mustSee(".notice.success", "Confirmed: the people who hold Facebook page are right")
	v.provider.must(0, "cred", "put", "Facebook page", "--assign", "Clerk", "--assign", "IT Provider")
	p.submit(`form[action="/ui/review/confirm"] button`, "second confirmed") // Website admin: unchanged
	p.mustSee(".notice.success", "Website admin")
	p.mustSee("main", "Changed since confirmed")
	v.provider.must(0, "cred", "put", "Facebook page", "--assign", "Clerk")
	p.submit(`form[action="/ui/review/confirm"] button`, "stale confirmation")
	p.mustSee(".error-summary", "Who holds Facebook page changed after the page was shown")
	p.submit(`form[action="/ui/review/confirm"] button`, "confirmed again")
	p.mustSee(".notice.success", "Facebook page")
	p.mustSee("main", "Every password is confirmed")

	p.submit("#signoff", "signed off")
	p.mustSee(".notice.success", "The annual access review is signed off. The next is due by "+due)
	p.mustSee(".lead", "The last review was signed off on", "by Clerk")
	p.open("/ui/home", "home after the review")
	var gone bool
	p.run(chromedp.Evaluate(`document.getElementById("review-due") === null`, &gone))
	if !gone {
		t.Fatal("the home page still asks for the review after it was signed off")
	}
}
