package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strongroom/internal/smtptest"
)

// TestMailSettingsEndToEnd: the real binary against a real SMTP server on
// loopback. `notify settings` shows every kind on but what the server's
// --mail-off switches off; `notify set` is the provider's alone, checked
// at the door, and recorded; a kind the council switches off is not sent
// while the others are. A request for an admin login reaches the chairman
// and not the clerk, who cannot decide it; the refusal reaches the
// requester; a scheduled backup that fails reaches the provider.
func TestMailSettingsEndToEnd(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	mail := smtptest.Start(t, "strongroom", "smtp pass phrase 42")
	notADir := write(t, filepath.Join(work, "backups-is-a-file"), "not a directory")
	srv := startServer(t, data, "--smtp-url", "smtp://strongroom@localhost:"+mail.Addr[strings.LastIndexByte(mail.Addr, ':')+1:],
		"--smtp-password-file", write(t, filepath.Join(work, "smtp.pw"), "smtp pass phrase 42"), "--smtp-from", "strongroom@parish.test",
		"--smtp-ca-file", mail.CAFile, "--mail-off", "digest", "--backup-dir", notADir, "--backup-every", "1m", "--log-format", "text")
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct{ Admin oneTime }
	json.Unmarshal([]byte(op.must(0, "init", "--council", "Little Wittering Parish Council", "--holder", "Chairman", "--shares", "1", "--threshold", "1",
		"--admin", "IT Provider", "--passphrase-file", pass, "--out", "env", "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	provider := newCLI(t, srv, work, "provider")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))
	provider.must(0, "user", "set-email", "IT Provider", "it@provider.test")
	login := func(name, role, email string) *cli {
		var o oneTime
		json.Unmarshal([]byte(provider.must(0, "user", "add", name, "--role", role, "--email", email, "--json")), &o)
		c := newCLI(t, srv, work, name)
		c.must(0, "login", "--user", name, "--password-file", write(t, filepath.Join(work, name+".otp"), o.Password),
			"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, name+".pw"), "sparrow lantern quarry 7"))
		return c
	}
	clerk := login("Clerk", "clerk", "clerk@parish.test")
	chair := login("Chair", "chairman", "chair@parish.test")
	member := login("Member", "member", "member@parish.test")

	out := provider.must(0, "notify", "settings")
	for _, want := range []string{"incidents    on", "digest       off (switched off by the server's --mail-off)", "contractors  on", "backup       on"} {
		if !strings.Contains(out, want) {
			t.Fatalf("notify settings lacks %q:\n%s", want, out)
		}
	}
	provider.must(2, "notify", "set", "weather", "off")
	provider.must(2, "notify", "set", "requests", "maybe")
	clerk.must(1, "notify", "set", "requests", "off")
	clerk.must(0, "notify", "settings")
	member.must(1, "notify", "settings") // a member does not learn what goes unmailed

	provider.must(0, "cred", "put", "Router", "--kind", "admin", "--password-file", filepath.Join(work, "a.pw"))
	provider.must(0, "cred", "put", "Bank", "--kind", "shared", "--password-file", filepath.Join(work, "a.pw"))
	provider.must(0, "cred", "put", "Payroll", "--kind", "shared", "--password-file", filepath.Join(work, "a.pw"))
	router := strings.TrimSpace(member.must(0, "request", "create", "--cred", "Router", "--reason", "reboot the router", "--for", "1h"))
	member.must(0, "request", "create", "--cred", "Bank", "--reason", "buy more stamps", "--for", "1h")
	waitMail(t, mail, "chair@parish.test", "asks for access to Router", 60*time.Second)
	waitMail(t, mail, "clerk@parish.test", "asks for access to Bank", 60*time.Second) // after the Router one, in order
	for _, m := range mail.Mail() {
		if m.To[0] == "clerk@parish.test" && strings.Contains(string(m.Data), "Router") {
			t.Fatalf("the clerk, who cannot decide it, was sent the request for the admin login:\n%s", m.Data)
		}
	}
	chair.must(0, "request", "deny", router)
	waitMail(t, mail, "member@parish.test", "your request for Router was refused", 60*time.Second)

	// The council switches request e-mail off: a request sends nothing,
	// an incident still goes out.
	if out := provider.must(0, "notify", "set", "requests", "off"); !strings.Contains(out, "requests     off (switched off by the council)") {
		t.Fatalf("notify set: %s", out)
	}
	type entry struct {
		Outcome string
		Target  struct{ Name string }
	}
	var entries []entry
	for _, line := range strings.Split(strings.TrimSpace(provider.must(0, "audit", "export", "--format", "jsonl", "--action", "sys.mail_setting")), "\n") {
		var e entry
		if json.Unmarshal([]byte(line), &e) == nil && e.Outcome != "" { // entries only
			entries = append(entries, e)
		}
	}
	if len(entries) != 2 || entries[0].Outcome != "denied" || entries[1].Target.Name != "requests" || entries[1].Outcome != "ok" {
		t.Fatalf("the refusal and the change are not recorded: %+v", entries)
	}
	member.must(0, "request", "create", "--cred", "Payroll", "--reason", "check the salaries", "--for", "1h")
	member.must(1, "cred", "get", "Payroll")
	waitMail(t, mail, "clerk@parish.test", "denied read", 60*time.Second)
	for _, m := range mail.Mail() {
		if strings.Contains(string(m.Data), "asks for access to Payroll") {
			t.Fatalf("a request was mailed with requests switched off:\n%s", m.Data)
		}
	}

	m := waitMail(t, mail, "it@provider.test", "a scheduled backup failed", 90*time.Second)
	if !strings.Contains(string(m.Data), "Little Wittering Parish Council") || strings.Contains(string(m.Data), notADir) {
		t.Fatalf("backup failure mail:\n%s", m.Data)
	}
}
