package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// TestCredentialLifecycle: genpass; a stored login's TOTP code; a shared
// login marked compromised, rotated with a generated three-word password,
// and its history showing both versions.
func TestCredentialLifecycle(t *testing.T) {
	work := t.TempDir()
	srv := startServer(t, filepath.Join(work, "data"))
	op := newCLI(t, srv, work, "operator")

	var gp struct {
		Password    string  `json:"password"`
		EntropyBits float64 `json:"entropy_bits"`
	}
	json.Unmarshal([]byte(op.must(0, "genpass", "--json")), &gp)
	if strings.Count(gp.Password, "-") != 2 || math.Abs(gp.EntropyBits-38.8) > 0.05 {
		t.Fatalf("genpass: %+v", gp)
	}
	json.Unmarshal([]byte(op.must(0, "genpass", "--words", "4", "--digits", "2", "--json")), &gp)
	if math.Abs(gp.EntropyBits-58.3) > 0.05 {
		t.Fatalf("genpass 4 words 2 digits: %+v", gp)
	}
	op.must(2, "genpass", "--words", "2")

	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct{ Admin oneTime }
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "Chairman", "--shares", "1", "--threshold", "1", "--admin", "IT Provider",
		"--passphrase-file", pass, "--out", "env", "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	provider := newCLI(t, srv, work, "provider")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))
	var clerkAcct oneTime
	json.Unmarshal([]byte(provider.must(0, "user", "add", "Clerk", "--role", "clerk", "--json")), &clerkAcct)
	clerk := newCLI(t, srv, work, "clerk")
	clerk.must(0, "login", "--user", "Clerk", "--password-file", write(t, filepath.Join(work, "c.otp"), clerkAcct.Password),
		"--totp", code(t, clerkAcct.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "c.pw"), "sparrow lantern quarry 7"))
	clerk.must(1, "login", "--user", "Clerk", "--password-file", filepath.Join(work, "c.pw"), "--totp", "000000")
	provider.must(2, "passwd", "--old-password-file", filepath.Join(work, "a.pw"), "--new-password-file", write(t, filepath.Join(work, "weak"), "password1234"))

	const seed = "JBSWY3DPEHPK3PXPJBSWY3DP"
	provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--username", "council", "--password-file", filepath.Join(work, "a.pw"),
		"--totp-file", write(t, filepath.Join(work, "seed"), seed), "--assign", "Clerk")
	var tc struct {
		Code        string `json:"code"`
		SecondsLeft int    `json:"seconds_left"`
	}
	before := time.Now()
	json.Unmarshal([]byte(clerk.must(0, "cred", "totp", "Facebook page", "--json")), &tc)
	want, _ := totp.GenerateCode(seed, before)
	wantAfter, _ := totp.GenerateCode(seed, time.Now())
	if (tc.Code != want && tc.Code != wantAfter) || tc.SecondsLeft < 1 || tc.SecondsLeft > 30 {
		t.Fatalf("cred totp: %+v (want %s)", tc, want)
	}
	provider.must(1, "cred", "totp", "Facebook page") // the provider is not an assignee

	clerk.must(0, "cred", "compromised", "Facebook page", "--reason", "phishing email clicked")
	if out := clerk.must(0, "cred", "list"); !strings.Contains(out, "COMPROMISED") {
		t.Fatalf("list: %s", out)
	}
	var rot struct {
		Version  int    `json:"version"`
		Password string `json:"password"`
	}
	json.Unmarshal([]byte(clerk.must(0, "cred", "rotate", "Facebook page", "--generate", "--json")), &rot)
	if rot.Version != 2 || strings.Count(rot.Password, "-") != 2 {
		t.Fatalf("rotate: %+v", rot)
	}
	var got map[string]any
	json.Unmarshal([]byte(clerk.must(0, "cred", "get", "Facebook page", "--json")), &got)
	if got["password"] != rot.Password || got["compromised"] != nil {
		t.Fatalf("after rotate: %v", got)
	}
	var hist []map[string]any
	json.Unmarshal([]byte(clerk.must(0, "cred", "history", "Facebook page", "--json")), &hist)
	if len(hist) != 2 || hist[0]["version"] != 2.0 || hist[1]["version"] != 1.0 {
		t.Fatalf("history: %v", hist)
	}
	clerk.must(2, "cred", "rotate", "Facebook page")
	clerk.must(0, "cred", "restore", "Facebook page", "--version", "1")
	var inc []map[string]any
	json.Unmarshal([]byte(provider.must(0, "audit", "incidents", "--json")), &inc)
	seen := false
	for _, i := range inc {
		seen = seen || i["kind"] == "suspected compromise"
	}
	if !seen {
		t.Fatal("the compromise is not an incident")
	}
}
