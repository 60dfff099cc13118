package main

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strongroom/internal/smtptest"
)

// TestWebDeliveryPage: in Chromium, with axe on every page, the clerk's
// home page warns while the SMTP server on loopback is down and an
// incident cannot reach her, and the Messages page says e-mail is not
// getting through; once the server is back, it says e-mail is working.
func TestWebDeliveryPage(t *testing.T) {
	axe := needBrowser(t)
	dir := t.TempDir()
	mail := smtptest.Start(t, "strongroom", "smtp pass phrase 42")
	mail.Stop() // down from the start
	v := newProvisioned(t, "--smtp-url", "smtp://strongroom@localhost:"+mail.Addr[strings.LastIndexByte(mail.Addr, ':')+1:],
		"--smtp-password-file", write(t, filepath.Join(dir, "smtp.pw"), "smtp pass phrase 42"), "--smtp-from", "strongroom@parish.test",
		"--smtp-ca-file", mail.CAFile)
	var clerk oneTime
	json.Unmarshal([]byte(v.provider.must(0, "user", "add", "Clerk", "--role", "clerk", "--email", "clerk@parish.test", "--json")), &clerk)
	u, err := url.Parse(clerk.TOTPURI)
	if err != nil {
		t.Fatal(err)
	}
	// An incident for the clerk: a sign-in as someone who does not exist.
	newCLI(t, v.srv, v.work, "stranger").must(1, "login", "--user", "Nobody", "--password-file", write(t, filepath.Join(dir, "guess"), "a guess at it"), "--totp", "123456")
	waitStatus(t, v.provider, func(d map[string]any) bool { return d["name"] == "mail" && d["failing"].(float64) > 0 })

	shot := 0
	p := newPerson(t, v.srv, v.work, "clerk-delivery", axe, &shot)
	p.signIn("Clerk", clerk.Password, u.Query().Get("secret"), "sparrow lantern quarry 7")
	p.mustSee("#delivery-warning", "not getting through")
	p.mustSee("main", "E-mail has failed", "news of a security incident may not reach you", "Tell your IT provider")
	p.open("/ui/delivery", "messages failing")
	p.mustSee("main", "E-mail is not getting through", "What went wrong: Could not connect to, or sign in to, the SMTP server.")

	mail.Restart(t)
	waitMail(t, mail, "clerk@parish.test", "Nobody", time.Minute)
	waitStatus(t, v.provider, func(d map[string]any) bool {
		return d["name"] == "mail" && d["failing"].(float64) == 0 && d["delivered"].(float64) > 0
	})
	p.open("/ui/delivery", "messages working")
	p.mustSee("main", "E-mail: working", "Every kind of message is getting through")
	p.open("/ui/home", "home, no warning")
	if strings.Contains(p.text("main"), "not getting through") {
		t.Fatal("the home page still warns")
	}
	for _, leak := range []string{"localhost", mail.Addr, "strongroom@"} {
		if strings.Contains(p.text("main"), leak) {
			t.Fatalf("a page shows %q", leak)
		}
	}
}
