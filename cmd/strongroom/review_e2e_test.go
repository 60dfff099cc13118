package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAccessReviewCLI: the clerk runs the year's access review from the
// command line against the real server: the review lists the admin and
// shared logins with their holders and this year's reads; the chairman is
// refused and the auditor may only look; sign-off is refused while a
// login is unconfirmed, a change after a confirmation needs it again, and
// the signed-off review says when the next is due.
func TestAccessReviewCLI(t *testing.T) {
	v := newProvisioned(t)
	login := func(name, role string) *cli {
		var o oneTime
		json.Unmarshal([]byte(v.provider.must(0, "user", "add", name, "--role", role, "--json")), &o)
		c := newCLI(t, v.srv, v.work, name)
		c.must(0, "login", "--user", name, "--password-file", write(t, filepath.Join(v.work, name+".otp"), o.Password),
			"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(v.work, name+".pw"), "sparrow lantern quarry 7"))
		return c
	}
	clerk := login("Clerk", "clerk")
	chair := login("Chair", "chairman")
	auditor := login("Auditor", "auditor")
	pw := filepath.Join(v.work, "a.pw")
	v.provider.must(0, "cred", "put", "Website admin", "--kind", "admin", "--username", "admin", "--password-file", pw, "--assign", "IT Provider")
	v.provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--password-file", pw, "--assign", "Clerk")
	v.provider.must(0, "cred", "put", "Provider's own", "--kind", "personal", "--password-file", pw)
	clerk.must(0, "cred", "get", "Facebook page")

	out := clerk.must(0, "report", "access-review", "--year")
	for _, want := range []string{"The first annual access review is due by " + time.Now().AddDate(1, 0, 0).In(london).Format("2 January 2006"),
		"Facebook page (shared): TO CONFIRM", "Clerk (assigned)", "Reads this year:    1", "Website admin (admin): TO CONFIRM",
		"Password:           unchanged since it was stored on", `--confirm "Facebook page"`, "2 of 2 logins still to confirm"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the review lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Provider's own") {
		t.Fatalf("a personal login is in the review:\n%s", out)
	}
	var r struct {
		Items []struct {
			Credential, State, Mark string
			Reads                   int
		}
		Due struct{ Status string }
	}
	json.Unmarshal([]byte(clerk.must(0, "report", "access-review", "--year", "--json")), &r)
	if len(r.Items) != 2 || r.Items[0].Credential != "Facebook page" || r.Items[0].Reads != 1 || r.Items[0].Mark == "" || r.Due.Status != "first" {
		t.Fatalf("the review as JSON: %+v", r)
	}

	// The chairman may not see it; the auditor may, but not confirm.
	chair.must(1, "report", "access-review", "--year")
	if out := auditor.must(0, "report", "access-review", "--year"); strings.Contains(out, "--confirm") || !strings.Contains(out, "Facebook page") {
		t.Fatalf("the auditor's review:\n%s", out)
	}
	auditor.must(1, "report", "access-review", "--confirm", "Facebook page")
	clerk.must(2, "report", "access-review", "--year", "--days", "30")
	clerk.must(1, "report", "access-review", "--confirm", "Provider's own") // personal: not in the review

	// Sign-off refused while anything is unconfirmed, naming what.
	if out := clerk.must(2, "report", "access-review", "--sign-off"); !strings.Contains(out, "Website admin") || !strings.Contains(out, "not confirmed") {
		t.Fatalf("sign-off with nothing confirmed: %s", out)
	}
	if out := clerk.must(0, "report", "access-review", "--confirm", "Facebook page"); !strings.Contains(out, "Confirmed: the holders of Facebook page are right (Clerk (assigned))") {
		t.Fatalf("confirm: %s", out)
	}
	// A change after the confirmation needs it again.
	v.provider.must(0, "cred", "put", "Facebook page", "--assign", "Clerk", "--assign", "IT Provider")
	if out := clerk.must(0, "report", "access-review", "--year"); !strings.Contains(out, "Facebook page (shared): CHANGED SINCE CONFIRMED (confirmed by Clerk on") {
		t.Fatalf("after a change:\n%s", out)
	}
	clerk.must(2, "report", "access-review", "--sign-off")
	clerk.must(0, "report", "access-review", "--confirm", "Facebook page", "--confirm", "Website admin")
	next := time.Now().AddDate(1, 0, 0).In(london).Format("2 January 2006")
	if out := clerk.must(0, "report", "access-review", "--sign-off"); !strings.Contains(out, "signed off by Clerk") || !strings.Contains(out, "2 logins confirmed") ||
		!strings.Contains(out, "next review is due by "+next) {
		t.Fatalf("sign-off: %s", out)
	}
	if out := clerk.must(0, "report", "access-review", "--year"); !strings.Contains(out, "Last signed off on") || !strings.Contains(out, "The next review is due by "+next) ||
		!strings.Contains(out, "2 of 2 logins still to confirm") {
		t.Fatalf("after sign-off:\n%s", out)
	}

	// Every confirmation, the sign-off and the chairman's refusal are in
	// the log.
	var counts = map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(v.provider.must(0, "audit", "export")), "\n") {
		var e struct{ Action, Outcome string }
		json.Unmarshal([]byte(line), &e)
		counts[e.Action+"/"+e.Outcome]++
	}
	if counts["review.confirm/ok"] != 3 || counts["review.signoff/ok"] != 1 || counts["report.access_review/denied"] != 1 ||
		counts["review.confirm/denied"] != 1 {
		t.Fatalf("audit counts %v", counts)
	}
}
