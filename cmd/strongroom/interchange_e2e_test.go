package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"strongroom/transfer/kdbxmatrix"
)

// keepassxc returns the path of keepassxc-cli.
func keepassxc(t *testing.T) string { return needTool(t, "keepassxc-cli", "keepassxc") }

// needTool returns the path of an outside tool from Debian's package
// pkg. CI installs it (.ci/run) and a missing one fails there;
// elsewhere the test is skipped with the reason.
func needTool(t *testing.T, tool, pkg string) string { return kdbxmatrix.Tool(t, tool, pkg) }

// kx runs keepassxc-cli with the database password (and any further
// prompt answers) on standard input.
func kx(t *testing.T, bin string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("keepassxc-cli %s: %v\n%s%s", strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String()
}

// TestKeePassImportExport is issue 7's check as a new user would do it: a
// database built with KeePassXC's own CLI (groups, TOTP, notes, a key
// file) is imported; the vault's export is opened with keepassxc-cli and
// shows the same entries; Bitwarden and spreadsheet files import; a bad
// file changes nothing.
func TestKeePassImportExport(t *testing.T) {
	kxc := keepassxc(t)
	testdata, err := filepath.Abs("../../transfer/testdata")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	srv := startServer(t, filepath.Join(work, "data"))
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct {
		Admin oneTime
	}
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "Chairman", "--holder", "Clerk", "--shares", "2", "--threshold", "2",
		"--admin", "IT Provider", "--passphrase-file", pass, "--out", "env", "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	provider := newCLI(t, srv, work, "provider")
	pwFile := write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", pwFile)

	// A KeePassXC database made by keepassxc-cli from the council's XML,
	// with a password and a key file it generates.
	db, key := filepath.Join(work, "council.kdbx"), filepath.Join(work, "council.keyx")
	kx(t, kxc, "kx-fixture-pass\nkx-fixture-pass\n", "import", "-q", "-p", "--set-key-file", key,
		filepath.Join(testdata, "keepassxc_council_customdata.xml"), db)
	kxPass := write(t, filepath.Join(work, "kx.pw"), "kx-fixture-pass")

	// Bad input: wrong password, missing key file, wrong format name.
	before := provider.must(0, "cred", "list")
	if msg := provider.must(2, "import", "--format", "kdbx", db, "--password-file", pass, "--key-file", key); !strings.Contains(msg, "wrong password or key file") {
		t.Fatalf("wrong password: %s", msg)
	}
	provider.must(2, "import", "--format", "kdbx", db, "--password-file", kxPass)
	provider.must(2, "import", "--format", "keepass", db)
	if after := provider.must(0, "cred", "list"); after != before {
		t.Fatalf("a refused import changed the vault:\n%s", after)
	}

	out := provider.must(0, "import", "--format", "kdbx", db, "--password-file", kxPass, "--key-file", key, "--kind", "shared")
	for _, want := range []string{"Imported 3 credentials", "Website host", "Facebook page", "tags imported, Social (entry 2, TOTP; the TOTP seed is 120 bits, below RFC 4226's 128-bit minimum; kept",
		"YouTube", "tags imported, Social/Video", `"Old router": in the recycle bin`} {
		if !strings.Contains(out, want) {
			t.Fatalf("import output lacks %q:\n%s", want, out)
		}
	}
	if got := provider.must(0, "cred", "get", "Facebook page"); !strings.Contains(got, "tulip-marble-glacier") {
		t.Fatalf("get: %s", got)
	}
	var tc struct{ Code string }
	json.Unmarshal([]byte(provider.must(0, "cred", "totp", "Facebook page", "--json")), &tc)
	if want, _ := totp.GenerateCode("JBSWY3DPEHPK3PXPJBSWY3DP", time.Now()); tc.Code != want {
		// A step boundary may fall between the two: try the next one.
		if next, _ := totp.GenerateCode("JBSWY3DPEHPK3PXPJBSWY3DP", time.Now().Add(-30*time.Second)); tc.Code != next {
			t.Fatalf("TOTP %q, want %q", tc.Code, want)
		}
	}
	if notes := provider.must(0, "cred", "get", "Website host", "--json"); !strings.Contains(notes, `Support PIN: 4471`) {
		t.Fatalf("custom field not kept in notes: %s", notes)
	}

	// Bitwarden and a spreadsheet.
	out = provider.must(0, "import", "--format", "bitwarden-json", filepath.Join(testdata, "good_bitwarden.json"), "--tag", "bitwarden")
	if !strings.Contains(out, "Imported 3 credentials") || !strings.Contains(out, "Facebook page (Social)") ||
		!strings.Contains(out, `"Alarm code": a secure note, not a login`) {
		t.Fatalf("bitwarden: %s", out)
	}
	out = provider.must(0, "import", "--format", "csv", filepath.Join(testdata, "good_generic.csv"), "--kind", "admin", "--dry-run")
	if !strings.Contains(out, "Would import (dry run, nothing stored) 2 credentials") {
		t.Fatalf("csv dry run: %s", out)
	}
	provider.must(2, "import", "--format", "csv", filepath.Join(testdata, "good_generic.csv"), "--map", "colour=Name")

	// Export, opened by KeePassXC's own CLI.
	export := filepath.Join(work, "export.kdbx")
	exPass := write(t, filepath.Join(work, "ex.pw"), "quartz meadow lantern")
	// The wrong password with the current code (a code that reaches the
	// check is spent, whatever the password), then the next code.
	cur, _ := totp.GenerateCode(mustSecret(t, ini.Admin.TOTPURI), time.Now())
	provider.must(1, "export", "--format", "kdbx", "--out", export, "--passphrase-file", exPass, "--password-file", kxPass, "--totp", cur)
	next, _ := totp.GenerateCode(mustSecret(t, ini.Admin.TOTPURI), time.Now().Add(30*time.Second))
	out = provider.must(0, "export", "--format", "kdbx", "--out", export, "--passphrase-file", exPass, "--password-file", pwFile, "--totp", next)
	if !strings.Contains(out, "Exported 6 credentials") {
		t.Fatalf("export: %s", out)
	}
	if fi, _ := os.Stat(export); fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode %v", fi.Mode())
	}
	ls := kx(t, kxc, "quartz meadow lantern\n", "ls", "-R", "-f", "-q", export)
	for _, want := range []string{"shared/Website host", "shared/Facebook page", "shared/YouTube", "shared/Facebook page (Social)", "shared/Bank"} {
		if !strings.Contains(ls, want+"\n") {
			t.Fatalf("keepassxc-cli ls lacks %q:\n%s", want, ls)
		}
	}
	// Every exported entry shows in KeePassXC as the vault holds it.
	entries := 0
	for _, line := range strings.Split(strings.TrimSpace(ls), "\n") {
		if strings.HasSuffix(line, "/") || !strings.HasPrefix(line, "shared/") {
			continue
		}
		entries++
		name := strings.TrimPrefix(line, "shared/")
		var sec struct {
			Username, Password, Notes string
			URL                       string `json:"url"`
		}
		json.Unmarshal([]byte(provider.must(0, "cred", "get", name, "--json")), &sec)
		got := kx(t, kxc, "quartz meadow lantern\n", "show", "-q", "-s", "-a", "UserName", "-a", "Password", "-a", "URL", export, line)
		if want := sec.Username + "\n" + sec.Password + "\n" + sec.URL + "\n"; got != want {
			t.Errorf("%s: keepassxc-cli shows %q, the vault holds %q", name, got, want)
		}
	}
	if entries != 6 {
		t.Fatalf("keepassxc-cli lists %d entries, want 6:\n%s", entries, ls)
	}
	show := kx(t, kxc, "quartz meadow lantern\n", "show", "-q", "-s", "-a", "UserName", "-a", "Password", "-a", "otp", export, "shared/YouTube")
	if !strings.Contains(show, "parishtube\nanchor-velvet-summit\notpauth://totp/") || !strings.Contains(show, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") {
		t.Fatalf("keepassxc-cli show: %q", show)
	}
	code := strings.TrimSpace(kx(t, kxc, "quartz meadow lantern\n", "show", "-q", "-t", export, "shared/Facebook page"))
	var ours struct{ Code string }
	json.Unmarshal([]byte(provider.must(0, "cred", "totp", "Facebook page", "--json")), &ours)
	if code != ours.Code {
		t.Logf("TOTP from keepassxc %q, ours %q (a step boundary may have passed)", code, ours.Code)
		if len(code) != 6 {
			t.Fatal("keepassxc-cli gave no TOTP code")
		}
	}
	// The log holds every step.
	var log strings.Builder
	log.WriteString(provider.must(0, "audit", "export"))
	for _, want := range []string{`"action":"cred.import"`, `"outcome":"error"`, `file refused: kdbx: wrong password or key file`,
		`imported from kdbx, entry 1`, `"action":"export.kdbx"`, `re-authentication: wrong password`, `"action":"cred.export"`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("audit export lacks %s", want)
		}
	}
	srv.stop() // its log is complete, and no longer written to
	for _, secret := range []string{"tulip-marble-glacier", "kx-fixture-pass", "quartz meadow lantern"} {
		if strings.Contains(log.String(), secret) || strings.Contains(srv.log.String(), secret) {
			t.Errorf("secret %q in the audit log or server log", secret)
		}
	}
}
