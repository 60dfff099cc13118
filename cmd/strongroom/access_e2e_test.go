package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAccessRequestsAndOffboarding: a contractor asks for the website admin
// login for two hours, the chairman approves, the contractor reads it; once
// the grant ends a read is refused and recorded (natural expiry is proved
// with a fake clock in vault's TestGrantTimeline; here it is revoked). The
// clerk leaves, and offboarding lists what to rotate.
func TestAccessRequestsAndOffboarding(t *testing.T) {
	work := t.TempDir()
	srv := startServer(t, filepath.Join(work, "data"))
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct{ Admin oneTime }
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "Chairman", "--shares", "1", "--threshold", "1", "--admin", "IT Provider",
		"--passphrase-file", pass, "--out", "env", "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	provider := newCLI(t, srv, work, "provider")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))
	enrolled := map[string]string{} // TOTP URIs by name
	login := func(name, role string, extra ...string) *cli {
		var o oneTime
		json.Unmarshal([]byte(provider.must(0, append([]string{"user", "add", name, "--role", role, "--json"}, extra...)...)), &o)
		enrolled[name] = o.TOTPURI
		c := newCLI(t, srv, work, name)
		c.must(0, "login", "--user", name, "--password-file", write(t, filepath.Join(work, name+".otp"), o.Password),
			"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, name+".pw"), "sparrow lantern quarry 7"))
		return c
	}
	chair := login("Chair", "chairman")
	clerk := login("Clerk", "clerk")
	contractor := login("Web Contractor", "member", "--expires", time.Now().Add(30*24*time.Hour).Format("2006-01-02"))
	provider.must(0, "cred", "put", "Website admin", "--kind", "admin", "--username", "admin",
		"--password-file", filepath.Join(work, "a.pw"), "--assign", "IT Provider")
	provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--password-file", filepath.Join(work, "a.pw"), "--assign", "Clerk")
	clerk.must(0, "cred", "get", "Facebook page")

	contractor.must(1, "cred", "get", "Website admin")
	id := strings.TrimSpace(contractor.must(0, "request", "create", "--cred", "Website admin", "--reason", "update the site's plugins", "--for", "2h"))
	contractor.must(1, "request", "approve", id)
	if out := chair.must(0, "request", "list"); !strings.Contains(out, id) || !strings.Contains(out, "pending") {
		t.Fatalf("chair's list: %s", out)
	}
	if out := chair.must(0, "request", "approve", id); !strings.Contains(out, "Approved") {
		t.Fatalf("approve: %s", out)
	}
	var got map[string]any
	// An admin secret: the contractor confirms it is them again (issue 15).
	json.Unmarshal([]byte(contractor.must(0, "cred", "get", "Website admin", "--json", "--password-file",
		filepath.Join(work, "Web Contractor.pw"), "--totp", codeAfter(t, enrolled["Web Contractor"]))), &got)
	if got["password"] != "ultramarine kettle drum" {
		t.Fatalf("contractor read: %v", got)
	}
	var rs []map[string]any
	json.Unmarshal([]byte(chair.must(0, "request", "list", "--json")), &rs)
	grant := rs[0]["grant_id"].(string)
	clerk.must(0, "grant", "revoke", grant)
	contractor.must(1, "cred", "get", "Website admin")
	contractor.must(2, "request", "create", "--cred", "Website admin", "--reason", "again", "--for", "9999h")

	// The register: who holds what, last used, last reviewed.
	clerk.must(0, "cred", "review", "Facebook page")
	contractor.must(1, "cred", "review", "Facebook page")
	var reg []map[string]any
	json.Unmarshal([]byte(chair.must(0, "report", "access-review", "--json")), &reg)
	if len(reg) != 2 || reg[0]["credential"] != "Facebook page" || reg[0]["reviewed_by"] != "Clerk" || reg[0]["review_due"] != false {
		t.Fatalf("register: %v", reg)
	}
	if out := chair.must(0, "report", "access-review"); !strings.Contains(out, "Clerk (assigned)") {
		t.Fatalf("register table: %s", out)
	}

	// The clerk leaves.
	var rep struct {
		Rotate []struct{ Credential, Why, Action string }
	}
	json.Unmarshal([]byte(provider.must(0, "user", "offboard", "Clerk", "--json")), &rep)
	if len(rep.Rotate) != 1 || rep.Rotate[0].Credential != "Facebook page" || rep.Rotate[0].Action != "rotate" {
		t.Fatalf("offboard: %+v", rep)
	}
	clerk.must(1, "cred", "get", "Facebook page")
	log := provider.must(0, "audit", "export", "--format", "csv")
	for _, want := range []string{"request.create", "request.approve", "grant.revoke", "user.offboard", "Web Contractor,member,cred.read,credential,Website admin,denied"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q", want)
		}
	}
}
