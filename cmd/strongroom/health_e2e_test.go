package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestPasswordHealthReport runs the report through the real binary and
// server: the provider's --json and tables, the auditor's read, the
// clerk's refusal (exit 1, recorded as denied), a bad --older-than (exit 2,
// one line naming the flag), and no planted password in anything printed.
func TestPasswordHealthReport(t *testing.T) {
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
	auditor := login("Auditor", "auditor")
	shared := write(t, filepath.Join(v.work, "shared.pw"), "Plover-Quince-Mandolin-4242")
	weak := write(t, filepath.Join(v.work, "weak.pw"), "parish2024")
	own := write(t, filepath.Join(v.work, "own.pw"), "Kestrel-Obelisk-Saffron-913")
	v.provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--url", "https://www.facebook.com/parish",
		"--password-file", shared, "--assign", "Clerk")
	v.provider.must(0, "cred", "put", "Newsletter", "--kind", "shared", "--url", "mailchimp.com", "--password-file", shared, "--assign", "Clerk")
	v.provider.must(0, "cred", "put", "Noticeboard PC", "--kind", "admin", "--password-file", weak, "--assign", "IT Provider")
	clerk.must(0, "cred", "put", "My own", "--kind", "personal", "--password-file", own)

	out := v.provider.must(0, "report", "password-health", "--json")
	var rep struct {
		Checked         int `json:"checked"`
		PersonalLeftOut int `json:"personal_left_out"`
		OlderThanDays   int `json:"older_than_days"`
		Reused          []struct {
			Credentials []struct{ Credential string }
		}
		Weak        []struct{ Credential, Action string }
		MissingTOTP []struct {
			Credential, Site string
			Links            struct{ Credential, Rotate string }
		} `json:"missing_totp"`
		NoURL []struct{ Credential string } `json:"no_url"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 3 || rep.PersonalLeftOut != 1 || rep.OlderThanDays != 365 || len(rep.Reused) != 1 || len(rep.Reused[0].Credentials) != 2 ||
		rep.Reused[0].Credentials[0].Credential != "Facebook page" || len(rep.Weak) != 1 || rep.Weak[0].Credential != "Noticeboard PC" ||
		rep.Weak[0].Action != "rotate" || len(rep.MissingTOTP) != 2 || rep.MissingTOTP[0].Site != "Facebook" ||
		rep.MissingTOTP[0].Links.Rotate != "/ui/creds/Facebook%20page#change" || len(rep.NoURL) != 1 {
		t.Fatalf("report: %s", out)
	}
	table := v.provider.must(0, "report", "password-health", "--older-than", "30d")
	for _, want := range []string{"3 admin and shared credentials checked", "1. Facebook page, Newsletter", "Noticeboard PC", "strength",
		"Unchanged for more than 30 days: 0", "strongroom cred rotate NAME"} {
		if !strings.Contains(table, want) {
			t.Fatalf("table lacks %q:\n%s", want, table)
		}
	}
	auditor.must(0, "report", "password-health", "--older-than", "8760h", "--json")
	if msg := v.provider.must(2, "report", "password-health", "--older-than", "soon"); !strings.Contains(msg, "--older-than") {
		t.Fatalf("bad age: %s", msg)
	}
	if msg := v.provider.must(2, "report", "password-health", "--older-than", "4000d"); !strings.Contains(msg, "older_than") {
		t.Fatalf("age out of range: %s", msg)
	}
	clerk.must(1, "report", "password-health")
	for _, text := range []string{out, table} {
		for _, pw := range []string{"Plover-Quince-Mandolin-4242", "parish2024", "Kestrel-Obelisk-Saffron-913"} {
			if strings.Contains(text, pw) {
				t.Fatalf("the report prints a password: %s", text)
			}
		}
	}
	log := v.provider.must(0, "audit", "export", "--format", "csv")
	for _, want := range []string{"IT Provider,provider,report.password_health,report,password health,ok", "Auditor,auditor,report.password_health",
		"Clerk,clerk,report.password_health,report,password health,denied"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "Plover") || strings.Contains(log, "parish2024") {
		t.Fatal("the log holds a password")
	}
}
