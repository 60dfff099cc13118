package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContractorAgreement: a contractor is added for the website under an
// agreement; their request inside its scope is approved and read, one
// outside it is refused (exit 1, the field and the agreement named) and
// recorded; "work completed" ends the account, its grant and its session
// at once and lists what to rotate. Bad usage exits 2 with one line.
func TestContractorAgreement(t *testing.T) {
	v := newProvisioned(t)
	work, provider := v.work, v.provider
	pw := filepath.Join(work, "a.pw")
	provider.must(0, "cred", "put", "Website admin", "--kind", "admin", "--username", "admin", "--password-file", pw, "--assign", "IT Provider")
	provider.must(0, "cred", "put", "Website FTP", "--kind", "shared", "--username", "ftp", "--password-file", pw, "--assign", "IT Provider")
	provider.must(0, "cred", "put", "Bank", "--kind", "admin", "--username", "council", "--password-file", pw, "--assign", "IT Provider")
	ends := time.Now().Add(30 * 24 * time.Hour).Format("2006-01-02")

	for _, bad := range [][]string{
		{"user", "add", "X", "--role", "member", "--contractor", "--scope", "Website admin", "--expires", ends},    // no agreement
		{"user", "add", "X", "--role", "member", "--contractor", "--agreement", "W-1", "--scope", "Website admin"}, // no end date
		{"user", "add", "X", "--role", "clerk", "--contractor", "--agreement", "W-1", "--scope", "Website admin", "--expires", ends},
		{"user", "add", "X", "--role", "member", "--contractor", "--agreement", "W-1", "--expires", ends},             // no scope
		{"user", "add", "X", "--role", "member", "--agreement", "W-1", "--scope", "Website admin", "--expires", ends}, // not a contractor
		{"user", "complete"},
	} {
		provider.must(2, bad...)
	}
	out := provider.must(2, "user", "add", "X", "--role", "member", "--contractor", "--agreement", "W-1", "--scope", "Website admin,Nope", "--expires", ends)
	if !strings.Contains(out, `no shared or admin credential named "Nope"`) {
		t.Fatalf("unknown scope: %s", out)
	}

	var o oneTime
	json.Unmarshal([]byte(provider.must(0, "user", "add", "Web Co", "--role", "member", "--contractor", "--agreement", "WEB-2026-04",
		"--scope", "Website admin,Website FTP", "--expires", ends, "--json")), &o)
	web := newCLI(t, v.srv, work, "web")
	web.must(0, "login", "--user", "Web Co", "--password-file", write(t, filepath.Join(work, "w.otp"), o.Password),
		"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "w.pw"), "sparrow lantern quarry 7"))
	if list := provider.must(0, "user", "list"); !strings.Contains(list, "agreement WEB-2026-04, scope: Website admin, Website FTP") || !strings.Contains(list, ends) {
		t.Fatalf("user list: %s", list)
	}
	var chairOTL oneTime
	json.Unmarshal([]byte(provider.must(0, "user", "add", "Chair", "--role", "chairman", "--json")), &chairOTL)
	chair := newCLI(t, v.srv, work, "chair")
	chair.must(0, "login", "--user", "Chair", "--password-file", write(t, filepath.Join(work, "ch.otp"), chairOTL.Password),
		"--totp", code(t, chairOTL.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "ch.pw"), "tangerine piano ledger"))

	id := strings.TrimSpace(web.must(0, "request", "create", "--cred", "Website admin", "--reason", "plugin update", "--for", "2h"))
	chair.must(0, "request", "approve", id)
	var got map[string]any
	json.Unmarshal([]byte(web.must(0, "cred", "get", "Website admin", "--json", "--password-file", filepath.Join(work, "w.pw"),
		"--totp", codeAfter(t, o.TOTPURI))), &got)
	if got["password"] != "ultramarine kettle drum" {
		t.Fatalf("in-scope read: %v", got)
	}
	for _, name := range []string{"Bank", "No such login"} {
		out := web.must(1, "request", "create", "--cred", name, "--reason", "look at the accounts", "--for", "2h")
		if !strings.Contains(out, `cred: "`+name+`" is outside the scope of agreement WEB-2026-04`) {
			t.Fatalf("out of scope %q: %s", name, out)
		}
	}
	if out := provider.must(2, "user", "complete", "Chair"); !strings.Contains(out, "user offboard") {
		t.Fatalf("complete a non-contractor: %s", out)
	}

	out = provider.must(0, "user", "complete", "Web Co")
	for _, want := range []string{"Web Co: work completed", "1 grants revoked", "ROTATE  Website admin", "grant until"} {
		if !strings.Contains(out, want) {
			t.Fatalf("complete lacks %q: %s", want, out)
		}
	}
	if msg := web.must(1, "whoami"); !strings.Contains(msg, "not logged in") {
		t.Fatalf("token after completion: %s", msg)
	}
	if list := provider.must(0, "user", "list"); !strings.Contains(list, "work completed") {
		t.Fatalf("user list after completion: %s", list)
	}
	provider.must(2, "user", "complete", "Web Co") // already completed
	log := provider.must(0, "audit", "export", "--format", "csv")
	for _, want := range []string{"Web Co,member,request.create,credential,Bank,denied", "user.complete"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q", want)
		}
	}
}
