package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strongroom/internal/smtptest"
)

// TestHandoverEndToEnd: a councillor hands the council's X login over
// with the real binary; the clerk is e-mailed, sees it waiting, reads it
// and confirms it; nobody else can read it; a name in use is refused on
// its field; offboarding the councillor lists it to rotate; the log has
// both actions and never the password.
func TestHandoverEndToEnd(t *testing.T) {
	work := t.TempDir()
	mail := smtptest.Start(t, "strongroom", "smtp pass phrase 42")
	flags := []string{"--smtp-url", "smtp://strongroom@localhost:" + mail.Addr[strings.LastIndexByte(mail.Addr, ':')+1:],
		"--smtp-password-file", write(t, filepath.Join(work, "smtp.pw"), "smtp pass phrase 42"), "--smtp-from", "strongroom@parish.test",
		"--smtp-ca-file", mail.CAFile}
	srv := startServer(t, filepath.Join(work, "data"), flags...)
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct{ Admin oneTime }
	json.Unmarshal([]byte(op.must(0, "init", "--council", "Drayton Bassett Parish Council", "--holder", "Chairman", "--shares", "1",
		"--threshold", "1", "--admin", "IT Provider", "--passphrase-file", pass, "--out", "env", "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	provider := newCLI(t, srv, work, "provider")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))
	login := func(name, role string, extra ...string) *cli {
		var o oneTime
		json.Unmarshal([]byte(provider.must(0, append([]string{"user", "add", name, "--role", role, "--json"}, extra...)...)), &o)
		c := newCLI(t, srv, work, name)
		c.must(0, "login", "--user", name, "--password-file", write(t, filepath.Join(work, name+".otp"), o.Password),
			"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, name+".pw"), "sparrow lantern quarry 7"))
		return c
	}
	clerk := login("Clerk", "clerk", "--email", "clerk@parish.test")
	councillor := login("Councillor Jones", "member", "--email", "jones@parish.test")

	const secret = "Xcom-handed-over-7Qv!"
	xpw := write(t, filepath.Join(work, "x.pw"), secret)
	xtotp := write(t, filepath.Join(work, "x.totp"), "JBSWY3DPEHPK3PXP")
	out := councillor.must(0, "cred", "handover", "X (Twitter)", "--username", "@DraytonBassettPC", "--password-file", xpw,
		"--url", "https://x.com", "--totp-file", xtotp, "--reason", "I ran the account until May")
	if !strings.Contains(out, "Handed over X (Twitter) to the council: stored for Clerk, Councillor Jones") {
		t.Fatalf("handover: %s", out)
	}
	// The same name again is refused on its field and changes nothing.
	other := write(t, filepath.Join(work, "other.pw"), "another-password-9")
	if out := councillor.must(2, "cred", "handover", "x (twitter)", "--username", "me", "--password-file", other); !strings.Contains(out, "already in the vault") ||
		strings.Contains(out, "another-password-9") {
		t.Fatalf("duplicate: %s", out)
	}
	councillor.must(2, "cred", "handover", "Facebook", "--username", "me") // no password file
	councillor.must(2, "cred", "handover", "Facebook", "--password-file", other)

	var text string
	for end := time.Now().Add(60 * time.Second); text == "" && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		for _, m := range mail.Mail() {
			if tx := unQP(t, m.Data); m.To[0] == "clerk@parish.test" && strings.Contains(tx, "Councillor Jones has handed over the login for X (Twitter).") {
				text = tx
			}
		}
	}
	if !strings.Contains(text, srv.addr+"/ui/home") || strings.Contains(text, secret) || strings.Contains(text, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("the clerk's mail did not come, or lacks the link, or holds the secret (%d messages):\n%s", len(mail.Mail()), text)
	}
	for _, m := range mail.Mail() {
		if m.To[0] != "clerk@parish.test" {
			t.Fatalf("a hand-over was mailed to %s", m.To[0])
		}
	}
	if out := clerk.must(0, "cred", "list"); !strings.Contains(out, "handed over by Councillor Jones, not yet confirmed by the clerk") {
		t.Fatalf("clerk's list: %s", out)
	}
	var got struct {
		Password string `json:"password"`
		Kind     string `json:"kind"`
		TOTPURI  string `json:"totp_uri"`
	}
	if err := json.Unmarshal([]byte(clerk.must(0, "cred", "get", "X (Twitter)", "--json")), &got); err != nil || got.Password != secret ||
		got.Kind != "shared" || !strings.Contains(got.TOTPURI, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("clerk's read: %+v %v", got, err)
	}
	provider.must(1, "cred", "get", "X (Twitter)")
	councillor.must(1, "cred", "handover-confirm", "X (Twitter)") // only a clerk confirms
	if out := clerk.must(0, "cred", "handover-confirm", "X (Twitter)"); !strings.Contains(out, "Confirmed: you received X (Twitter) from Councillor Jones.") {
		t.Fatalf("confirm: %s", out)
	}
	clerk.must(2, "cred", "handover-confirm", "X (Twitter)") // once
	if out := clerk.must(0, "cred", "list"); strings.Contains(out, "not yet confirmed") {
		t.Fatalf("still waiting after confirmation: %s", out)
	}

	out = provider.must(0, "user", "offboard", "Councillor Jones")
	if !strings.Contains(out, "X (Twitter)") || !strings.Contains(out, "the leaver knew this password") {
		t.Fatalf("offboarding: %s", out)
	}
	clerk.must(0, "cred", "get", "X (Twitter)")
	log := provider.must(0, "audit", "export")
	if !strings.Contains(log, `"action":"cred.handover"`) || !strings.Contains(log, `"action":"cred.handover_confirm"`) || strings.Contains(log, secret) {
		t.Fatalf("audit log lacks the hand-over or holds the secret:\n%s", log)
	}
}
