package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strongroom/internal/smtptest"
)

// TestRemindersEndToEnd: the real binary's daily reminders, against a real
// SMTP server on loopback. A vault with a password reported compromised
// and a contractor whose access ends in three days restarts with e-mail
// set up and --reminders-at 00:00 (so today's are due now); once unsealed
// the provider gets one reminder of each, with names and links and no
// secret, and a restart the same day sends neither again.
func TestRemindersEndToEnd(t *testing.T) {
	v := newProvisioned(t)
	v.provider.must(0, "user", "set-email", "IT Provider", "it@provider.test")
	v.provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--password-file", filepath.Join(v.work, "a.pw"))
	v.provider.must(0, "cred", "compromised", "Facebook page", "--reason", "seen on a shared screen")
	ends := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	v.provider.must(0, "user", "add", "Kim Contractor", "--role", "member", "--expires", ends)
	v.srv.stop()

	mail := smtptest.Start(t, "strongroom", "smtp pass phrase 42")
	flags := []string{"--smtp-url", "smtp://strongroom@localhost:" + mail.Addr[strings.LastIndexByte(mail.Addr, ':')+1:],
		"--smtp-password-file", write(t, filepath.Join(v.work, "smtp.pw"), "smtp pass phrase 42"), "--smtp-from", "strongroom@parish.test",
		"--smtp-ca-file", mail.CAFile, "--reminders-at", "00:00"}
	restart := func() {
		v.srv = startServer(t, filepath.Join(v.work, "data"), flags...)
		v.op = newCLI(t, v.srv, v.work, "operator")
		v.op.must(0, "unseal", "--passphrase-file", v.pass)
	}
	restart()
	m := waitMail(t, mail, "it@provider.test", "reported compromised is not changed yet", 90*time.Second)
	if text := unQP(t, m.Data); !strings.Contains(text, "Facebook page: reported by IT Provider on ") || !strings.Contains(text, v.srv.addr+"/ui/report/password-health") ||
		strings.Contains(text, "ultramarine") {
		t.Fatalf("compromise reminder:\n%s", text)
	}
	m = waitMail(t, mail, "it@provider.test", "an account ends within a week", 30*time.Second)
	if text := unQP(t, m.Data); !strings.Contains(text, "Kim Contractor (member): access ends on ") {
		t.Fatalf("contractor reminder:\n%s", text)
	}
	sent := len(mail.Mail())
	v.srv.stop()
	restart()
	// Started sealed, the reminders look every 5 s until they can read
	// the vault: had the day not been saved, they would send it again
	// within 5 s of the unseal.
	time.Sleep(8 * time.Second)
	if n := len(mail.Mail()); n != sent {
		t.Fatalf("%d more messages after a restart on the same day", n-sent)
	}
	v.op.must(2, "server", "--data", filepath.Join(v.work, "other"), "--reminders-at", "8am")
}
