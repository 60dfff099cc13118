package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"strongroom/audit"
	"strongroom/escrow"
)

// The planted-secret sweep (issue 8): every secret the end-to-end suite
// hands the CLI or is handed by it is planted here, and at the end of each
// test every server log (stderr and stdout), every CLI error line and every
// file the test left behind (databases, backups, audit exports,
// checkpoints, KeePass exports) is searched for all secrets planted so far.
// Only the files that hold secrets by design are passed over: the secret
// inputs themselves, the envelopes, session tokens and TLS keys.
//
// Planted: the contents of every --password-file, --new-password-file,
// --old-password-file, --passphrase-file, --totp-file, --share-file and
// --key-file given to the CLI; every "password", "totp_uri" (and its
// seed), "token" and "notes" in any JSON the CLI prints; session tokens
// and envelope shares found on disk.
//
// The same planted secrets are searched for in the memory of a running
// server, after the requests that carried them finished: memsweep_e2e_test.go
// (processMemory, sweepProcess, TestMemorySweep).
var sweep = struct {
	mu      sync.Mutex
	secrets map[string]bool
	inputs  map[string]bool // files that hold secrets by design
	texts   int             // logs, CLI error output and files searched
}{secrets: map[string]bool{}, inputs: map[string]bool{}}

// minPlanted: shorter values (TOTP codes, "p") would match by chance.
const minPlanted = 8

func plant(values ...string) {
	sweep.mu.Lock()
	defer sweep.mu.Unlock()
	for _, v := range values {
		if v = strings.TrimSpace(v); len(v) >= minPlanted {
			sweep.secrets[v] = true
		}
	}
}

func planted() []string {
	sweep.mu.Lock()
	defer sweep.mu.Unlock()
	out := make([]string, 0, len(sweep.secrets))
	for s := range sweep.secrets {
		out = append(out, s)
	}
	return out
}

var secretFileFlags = map[string]bool{"--password-file": true, "--new-password-file": true, "--old-password-file": true,
	"--passphrase-file": true, "--totp-file": true, "--share-file": true, "--key-file": true, "--notes-file": true}

// plantArgs plants what a CLI invocation is given as secrets, and marks
// its secret inputs (and import files) as holding secrets by design.
func plantArgs(dir string, args []string) {
	for i := 0; i+1 < len(args); i++ {
		if !secretFileFlags[args[i]] {
			continue
		}
		p := args[i+1]
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		sweep.mu.Lock()
		sweep.inputs[p] = true
		sweep.mu.Unlock()
		if raw, err := os.ReadFile(p); err == nil && args[i] != "--key-file" {
			plant(string(raw))
			plantShares(string(raw))
		}
	}
	if len(args) > 0 && args[0] == "import" {
		for _, a := range args[1:] {
			if fi, err := os.Stat(filepath.Join(dir, a)); err == nil && !fi.IsDir() || filepath.IsAbs(a) {
				sweep.mu.Lock()
				sweep.inputs[a] = true
				sweep.inputs[filepath.Join(dir, a)] = true
				sweep.mu.Unlock()
			}
		}
	}
}

// plantJSON plants the secret fields of any JSON the CLI printed.
func plantJSON(out string) {
	var v any
	if json.Unmarshal([]byte(out), &v) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if s, ok := val.(string); ok {
					switch k {
					case "password", "token", "notes", "new_password":
						plant(s)
					case "totp_uri":
						plant(s)
						if u, err := url.Parse(s); err == nil {
							plant(u.Query().Get("secret"))
						}
					}
				}
				walk(val)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

// sweepCheck searches text for every planted secret.
func sweepCheck(t *testing.T, what string, text []byte) {
	t.Helper()
	for _, f := range sweepFindings(what, text) {
		t.Error(f)
	}
}

func sweepFindings(what string, text []byte) (found []string) {
	sweep.mu.Lock()
	sweep.texts++
	sweep.mu.Unlock()
	for _, s := range planted() {
		if bytes.Contains(text, []byte(s)) {
			found = append(found, fmt.Sprintf("planted-secret sweep: %s contains a planted secret (%d bytes, starting %q)", what, len(s), s[:3]))
		}
	}
	return found
}

// plantShares plants the share lines of an envelope's text.
func plantShares(text string) {
	_, rest, ok := strings.Cut(text, escrow.BeginMarker)
	if !ok {
		return
	}
	body, _, _ := strings.Cut(rest, escrow.EndMarker)
	for _, l := range strings.Split(body, "\n") {
		plant(l)
	}
}

// sweepDir plants the tokens and envelope shares found under dir, then
// searches every other file there.
func sweepDir(t *testing.T, dir string) {
	t.Helper()
	for _, f := range sweepDirFindings(dir) {
		t.Error(f)
	}
}

func sweepDirFindings(dir string) (found []string) {
	envelope := map[string]bool{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if filepath.Base(path) == "token" {
			if raw, err := os.ReadFile(path); err == nil {
				plant(string(raw))
			}
		}
		if strings.HasSuffix(path, ".txt") {
			if raw, err := os.ReadFile(path); err == nil && bytes.Contains(raw, []byte(escrow.BeginMarker)) {
				envelope[path] = true
				plantShares(string(raw))
			}
		}
		return nil
	})
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		sweep.mu.Lock()
		input := sweep.inputs[path]
		sweep.mu.Unlock()
		base := filepath.Base(path)
		if input || envelope[path] || base == "token" || base == "key.pem" || strings.HasSuffix(base, ".pdf") {
			return nil // secrets by design
		}
		if raw, err := os.ReadFile(path); err == nil {
			found = append(found, sweepFindings(path, raw)...)
		}
		return nil
	})
	return found
}

// The sweep finds a planted secret in a file left behind, and passes over
// the files that hold secrets by design.
func TestSweepFindsPlantedSecrets(t *testing.T) {
	dir := t.TempDir()
	secret := "planted: amber falcon seventeen"
	plant(secret)
	os.MkdirAll(filepath.Join(dir, "cfg-x"), 0o700)
	write(t, filepath.Join(dir, "cfg-x", "token"), "srs_tokenvalue_for_the_sweep_test")
	if f := sweepDirFindings(dir); len(f) != 0 {
		t.Fatalf("a token file is a secret by design: %v", f)
	}
	write(t, filepath.Join(dir, "audit.jsonl"), `{"reason":"x `+secret+`"}`)
	write(t, filepath.Join(dir, "log.txt"), "session srs_tokenvalue_for_the_sweep_test")
	if f := sweepDirFindings(dir); len(f) != 2 {
		t.Fatalf("findings %v", f)
	}
	if f := sweepFindings("stderr", []byte("nothing here")); len(f) != 0 {
		t.Fatal(f)
	}
}

// TestSweepRefusedImports plants a password in files every import format
// refuses (no header row, a wrong header, binary garbage, the password in
// every column or value) and requires the refusal to quote none of it: not
// in the CLI's error, not in the server's log, not in any cred.import
// entry (whose reason once quoted a header-less CSV's first row), and not
// in any file left behind (the sweep of startServer's clean-up). A 10 MB
// garbage import is refused with an entry no longer than audit.MaxLine,
// and the log still verifies offline.
func TestSweepRefusedImports(t *testing.T) {
	v := newProvisioned(t)
	work, op, provider := v.work, v.op, v.provider
	ini := struct {
		VerifierKey string
		Admin       oneTime
	}{v.verifierKey, v.admin}
	kdbxPass := write(t, filepath.Join(work, "kdbx.pw"), "a different kdbx pass")

	pw := "Quokka-Saffron-4417-Planted!"
	plant(pw)
	row := pw + "," + pw + "," + pw + "\n"
	garbage := "\x00\x01\x02" + pw + "\xff\xfe\x7f" + pw + "\x1b[0m" + pw
	kdbxSig := "\x03\xd9\xa2\x9a\x67\xfb\x4b\xb5\x01\x00\x04\x00"
	files := []struct{ name, format, data string }{
		{"csv-no-header", "csv", row + row},
		{"csv-wrong-header", "csv", "Site,Colour," + pw + "\na,b,c\n"},
		{"csv-every-column", "csv", row},
		{"csv-binary", "csv", garbage},
		{"csv-bad-quote", "csv", "title,password\n" + pw + "\"" + pw + "," + pw + "\n"},
		{"bwcsv-no-header", "bitwarden-csv", row + row},
		{"bwcsv-wrong-header", "bitwarden-csv", "type,name," + pw + "\nlogin,a,b\n"},
		{"bwcsv-binary", "bitwarden-csv", garbage},
		{"bwjson-every-value", "bitwarden-json", `{"items":[{"type":"` + pw + `","name":"` + pw + `","login":"` + pw + `"}]}`},
		{"bwjson-no-items", "bitwarden-json", `{"` + pw + `":"` + pw + `"}`},
		{"bwjson-binary", "bitwarden-json", garbage},
		{"bwjson-bare", "bitwarden-json", pw},
		{"kpxml-every-element", "keepass-xml", "<" + pw[:6] + "><" + pw[:6] + ">" + pw + "</" + pw[:6] + "></" + pw[:6] + ">"},
		{"kpxml-broken", "keepass-xml", "<KeePassFile><Root><Group><Entry><String><Key>Password</Key><Value>" + pw},
		{"kpxml-binary", "keepass-xml", garbage},
		{"kdbx-binary", "kdbx", garbage},
		{"kdbx-header", "kdbx", kdbxSig + "\x02\x1c\x00\x00\x00" + pw},
	}
	for _, f := range files {
		p := filepath.Join(work, f.name)
		if err := os.WriteFile(p, []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"import", "--format", f.format, p}
		if f.format == "kdbx" {
			args = append(args, "--password-file", kdbxPass)
		}
		if f.format == "csv" {
			args = append(args, "--map", "title="+pw) // the mapping may name a header-less file's first cell
		}
		msg := provider.must(2, args...)
		if strings.Contains(msg, pw[:8]) || !strings.Contains(msg, f.format) {
			t.Errorf("%s: %s", f.name, msg)
		}
	}

	// 10 MB of garbage text, the password throughout, as one header row.
	big := filepath.Join(work, "big.csv")
	if err := os.WriteFile(big, bytes.Repeat([]byte("\x01"+pw+"\x02,"), 10<<20/(len(pw)+3)), 0o600); err != nil {
		t.Fatal(err)
	}
	provider.must(2, "import", "--format", "csv", big)

	logFile := filepath.Join(work, "log.jsonl")
	provider.must(0, "audit", "export", "--out", logFile)
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if len(line) > audit.MaxLine {
			t.Errorf("a %d-byte audit line (audit.MaxLine is %d)", len(line), audit.MaxLine)
		}
		if bytes.Contains(line, []byte(`"action":"cred.import"`)) && bytes.Contains(line, []byte(`"reason":"file refused: `)) {
			refused++
		}
	}
	if refused != len(files)+1 {
		t.Errorf("%d refused-import entries, want %d", refused, len(files)+1)
	}
	sweepCheck(t, "the audit export", raw)
	if out := op.must(0, "audit", "verify", "--log", logFile, "--key", ini.VerifierKey); !strings.HasPrefix(out, "OK: ") {
		t.Fatalf("verify: %s", out)
	}
}
