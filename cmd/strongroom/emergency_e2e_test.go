package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmergencyEnvelope is the chairman's story: check the envelope, lose
// the passphrase, recover with two envelopes, break the glass to read the
// website host's admin login, re-key with a new chairman; the old envelope
// is refused as superseded and the log tells the whole story and verifies.
func TestEmergencyEnvelope(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	srv := startServer(t, data)
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "the passphrase that will be lost")
	var ini struct {
		Admin     oneTime `json:"admin"`
		Envelopes []string
		PDFs      []string `json:"pdfs"`
	}
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "Chairman", "--holder", "Vice-chair", "--holder", "Clerk",
		"--admin", "IT Provider", "--council", "Wrockwardine Parish Council", "--passphrase-file", pass, "--out", "envelopes", "--json")), &ini)
	if len(ini.Envelopes) != 3 || len(ini.PDFs) != 3 {
		t.Fatalf("init wrote %v and %v", ini.Envelopes, ini.PDFs)
	}
	for _, p := range append(ini.Envelopes, ini.PDFs...) {
		if fi, err := os.Stat(filepath.Join(work, p)); err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v", p, err)
		}
	}
	chairEnv := filepath.Join(work, ini.Envelopes[0])
	if out := op.must(0, "escrow", "check", "--share-file", chairEnv); !strings.Contains(out, "valid, current share 1 of holder Chairman") {
		t.Fatalf("check: %s", out)
	}
	// The QR code of the printed PDF, decoded, checks too.
	if _, err := exec.LookPath("zbarimg"); err == nil {
		png := filepath.Join(work, "chair")
		if out, err := exec.Command("pdftoppm", "-r", "150", "-png", "-singlefile", filepath.Join(work, ini.PDFs[0]), png).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %s", out)
		}
		qr, err := exec.Command("zbarimg", "--raw", "-q", png+".png").Output()
		if err != nil {
			t.Fatal(err)
		}
		op.must(0, "escrow", "check", "--share-file", write(t, filepath.Join(work, "qr.txt"), strings.TrimSpace(string(qr))))
	} else if os.Getenv("CI") != "" {
		t.Fatal("zbarimg missing under CI")
	}
	typo, _ := os.ReadFile(chairEnv)
	i := strings.Index(string(typo), "-----BEGIN STRONGROOM SHARE-----\n") + 34 + 30 + 6 + 2*6 // row 2 (" 5-8  …"), third group: group 7
	typo[i] = map[bool]byte{true: '1', false: '0'}[typo[i] == '0']
	if msg := op.must(1, "escrow", "check", "--share-file", write(t, filepath.Join(work, "typo.txt"), string(typo))); !strings.Contains(msg, "typo in group 7") {
		t.Fatalf("typo: %s", msg)
	}
	// Typed as printed, row labels and all, on one line: the same share.
	printed, _ := os.ReadFile(chairEnv)
	_, rows, _ := strings.Cut(string(printed), "-----BEGIN STRONGROOM SHARE-----\n")
	rows, _, _ = strings.Cut(rows, "-----END STRONGROOM SHARE-----")
	if !strings.HasPrefix(rows, " 1-4  ") || !strings.Contains(rows, "\n 5-8  ") || !strings.Contains(rows, "\n21-24 ") {
		t.Fatalf("the envelope's rows are not numbered as the PDF numbers them:\n%s", rows)
	}
	op.must(0, "escrow", "check", "--share-file", write(t, filepath.Join(work, "typed.txt"), strings.Join(strings.Fields(rows), " ")))

	op.must(0, "unseal", "--passphrase-file", pass)
	provider := newCLI(t, srv, work, "provider")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))
	var chairAcct oneTime
	json.Unmarshal([]byte(provider.must(0, "user", "add", "Councillor Smith", "--role", "chairman", "--json")), &chairAcct)
	hostPW := "host-admin-Pa55!"
	provider.must(0, "cred", "put", "Website host", "--kind", "admin", "--username", "admin",
		"--password-file", write(t, filepath.Join(work, "host.pw"), hostPW), "--assign", "IT Provider")
	chair := newCLI(t, srv, work, "chair")
	chair.must(0, "login", "--user", "Councillor Smith", "--password-file", write(t, filepath.Join(work, "c.otp"), chairAcct.Password),
		"--totp", code(t, chairAcct.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "c.pw"), "velvet tractor pebble"))
	chair.must(1, "breakglass", "--reason", "testing outside an emergency")
	// Recovery codes, to sign in again after the restart without waiting
	// for a TOTP code not used yet.
	var provCodes, chairCodes struct{ Codes []string }
	json.Unmarshal([]byte(provider.must(0, "mfa", "recovery-codes", "--json")), &provCodes)
	json.Unmarshal([]byte(chair.must(0, "mfa", "recovery-codes", "--json")), &chairCodes)
	if len(provCodes.Codes) == 0 || len(chairCodes.Codes) == 0 {
		t.Fatal("no recovery codes")
	}

	// The passphrase is lost. Restart; two envelopes open the vault in recovery.
	srv.stop()
	srv = startServer(t, data)
	op, provider, chair = newCLI(t, srv, work, "operator"), newCLI(t, srv, work, "provider"), newCLI(t, srv, work, "chair")
	op.must(0, "unseal", "--share-file", chairEnv)
	if out := op.must(0, "unseal", "--share-file", filepath.Join(work, ini.Envelopes[1])); !strings.Contains(out, "emergency recovery (Chairman, Vice-chair)") {
		t.Fatalf("recovery unseal: %s", out)
	}
	// The unseal ended every session: both sign in again.
	provider.must(1, "cred", "list")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", filepath.Join(work, "a.pw"), "--recovery-code", provCodes.Codes[0])
	chair.must(0, "login", "--user", "Councillor Smith", "--password-file", filepath.Join(work, "c.pw"), "--recovery-code", chairCodes.Codes[0])
	if out := op.must(0, "status"); !strings.Contains(out, "RECOVERY:") {
		t.Fatalf("status does not say why: %s", out)
	}
	if msg := provider.must(1, "cred", "put", "Another", "--kind", "admin", "--password-file", filepath.Join(work, "host.pw")); !strings.Contains(msg, "emergency recovery") {
		t.Fatalf("routine write in recovery: %s", msg)
	}
	newPass := write(t, filepath.Join(work, "newpass"), "a fresh passphrase for the vault")
	chair.must(0, "recover", "set-passphrase", "--passphrase-file", newPass)
	chair.must(1, "cred", "get", "Website host")
	chair.must(0, "breakglass", "--reason", "website down, IT provider unreachable")
	var got map[string]any
	// An admin secret: the chairman confirms it is them again (issue 15).
	json.Unmarshal([]byte(chair.must(0, "cred", "get", "Website host", "--json", "--password-file", filepath.Join(work, "c.pw"),
		"--totp", codeAfter(t, chairAcct.TOTPURI))), &got)
	if got["password"] != hostPW {
		t.Fatalf("break-glass read: %v", got)
	}

	// A new chairman is elected: re-key. The old chairman's envelope dies.
	var rk struct {
		Generation int
		Envelopes  []string
		PDFs       []string `json:"pdfs"`
	}
	json.Unmarshal([]byte(chair.must(0, "escrow", "rekey", "--out", "envelopes-2", "--holder", "New Chairman", "--holder", "Vice-chair",
		"--holder", "Clerk", "--passphrase-file", newPass, "--rewrap", "--json")), &rk)
	if rk.Generation != 2 || len(rk.Envelopes) != 3 || len(rk.PDFs) != 3 {
		t.Fatalf("rekey: %+v", rk)
	}
	if msg := op.must(1, "escrow", "check", "--share-file", chairEnv); !strings.Contains(msg, "superseded on") || !strings.Contains(msg, "generation 1") {
		t.Fatalf("old envelope: %s", msg)
	}
	if out := op.must(0, "escrow", "check", "--share-file", filepath.Join(work, rk.Envelopes[0])); !strings.Contains(out, "New Chairman") {
		t.Fatalf("new envelope: %s", out)
	}
	provider.must(0, "cred", "put", "Another", "--kind", "admin", "--password-file", filepath.Join(work, "host.pw"))
	chair.must(1, "cred", "get", "Website host") // break-glass ended with the re-key

	auditor := newCLI(t, srv, work, "provider")
	log := auditor.must(0, "audit", "export")
	for _, action := range []string{"escrow.check", "escrow.recover", "sys.passphrase", "breakglass.open", "breakglass.read", "escrow.rekey"} {
		if !strings.Contains(log, `"action":"`+action+`"`) {
			t.Fatalf("the log does not tell of %s", action)
		}
	}
	if strings.Contains(log, hostPW) {
		t.Fatal("a secret is in the log")
	}
	auditor.must(0, "audit", "verify", "--log", write(t, filepath.Join(work, "log.jsonl"), strings.TrimSpace(log)))
}
