package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"strongroom/transfer/kdbxmatrix"
)

// pykeepass returns a python3 that can import pykeepass (Debian's
// python3-pykeepass, which .ci/run installs).
func pykeepass(t *testing.T) string { return kdbxmatrix.PyKeePass(t) }

// py runs a python script with args.
func py(t *testing.T, bin, script string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"-c", script}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}

// A database made by pykeepass (KDBX 4, its own defaults) with password
// history, an attachment and a TOTP: the history lands as earlier
// versions in order with the file's dates, the attachment is listed as
// not imported, the TOTP works.
func TestPyKeePassHistoryImport(t *testing.T) {
	keepassxc(t) // pykeepass's default KDF is Argon2d: keepassxc-cli reads it
	pyBin := pykeepass(t)
	v := newProvisioned(t)
	files := t.TempDir()
	db := filepath.Join(files, "pk.kdbx")
	py(t, pyBin, `
import sys
from datetime import datetime, timezone
from pykeepass import create_database
kp = create_database(sys.argv[1], password='pk-fixture-pass')
g = kp.add_group(kp.root_group, 'Finance')
e = kp.add_entry(g, 'Bank', 'treasurer', 'first-bank-pw')
e.mtime = datetime(2022, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
e.save_history()
e.password = 'second-bank-pw'
e.mtime = datetime(2023, 6, 7, 8, 9, 10, tzinfo=timezone.utc)
e.save_history()
e.password = 'third-bank-pw'
e.otp = 'otpauth://totp/Bank:treasurer?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=8&issuer=Bank'
e.add_attachment(kp.add_binary(b'statement'), 'statement.pdf')
kp.save()
`, db)
	pw := write(t, filepath.Join(files, "pk.pw"), "pk-fixture-pass")
	out := v.provider.must(0, "import", "--format", "kdbx", db, "--password-file", pw, "--json")
	var rep struct {
		Imported []struct {
			Name    string
			History int
			HasTOTP bool `json:"has_totp"`
		}
		Skipped []struct{ Title, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Imported) != 1 || rep.Imported[0].History != 2 || !rep.Imported[0].HasTOTP {
		t.Fatalf("import: %v %s", err, out)
	}
	if len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "attachment not imported") {
		t.Fatalf("skipped: %s", out)
	}
	var hist []struct {
		Version int
		Created string
		Current bool
	}
	json.Unmarshal([]byte(v.provider.must(0, "cred", "history", "Bank", "--json")), &hist)
	if len(hist) != 3 || !hist[0].Current || !strings.HasPrefix(hist[2].Created, "2022-01-02") || !strings.HasPrefix(hist[1].Created, "2023-06-07") {
		t.Fatalf("history: %+v", hist)
	}
	for ver, want := range map[string]string{"1": "first-bank-pw", "2": "second-bank-pw", "3": "third-bank-pw"} {
		if got := v.provider.must(0, "cred", "get", "Bank", "--version", ver); !strings.Contains(got, want) {
			t.Errorf("version %s: %s", ver, got)
		}
	}
	var tc struct{ Code string }
	json.Unmarshal([]byte(v.provider.must(0, "cred", "totp", "Bank", "--json")), &tc)
	if len(tc.Code) != 8 {
		t.Fatalf("TOTP code %q", tc.Code)
	}
}

// Argon2d files (pykeepass's and KeePassXC's default) that keepassxc-cli
// cannot open are refused in plain words and recorded as the vault's own
// refusals are; an empty password (an empty password file) and an XML
// key file with a byte-order mark open.
func TestArgon2dRefusalsAndEmptyPassword(t *testing.T) {
	keepassxc(t)
	pyBin := pykeepass(t)
	v := newProvisioned(t)
	files := t.TempDir()
	db, key := filepath.Join(files, "kf.kdbx"), filepath.Join(files, "kf.keyx")
	py(t, pyBin, `
import sys
from pykeepass import create_database
import hashlib, os
# An XML v2.0 key file as KeePassXC writes it, saved with a byte-order mark.
k = os.urandom(32)
data = ' '.join(k.hex().upper()[i:i+8] for i in range(0, 64, 8))
check = hashlib.sha256(k).hexdigest()[:8].upper()
open(sys.argv[2], 'wb').write(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<KeyFile><Meta><Version>2.0</Version></Meta>'
  + ('<Key><Data Hash="%s">%s</Data></Key></KeyFile>\n' % (check, data)).encode())
kp = create_database(sys.argv[1], password='', keyfile=sys.argv[2])
kp.add_entry(kp.root_group, 'Parish hall', 'caretaker', 'hall-key-pw')
kp.save()
`, db, key)
	empty := filepath.Join(files, "empty.pw")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := write(t, filepath.Join(files, "wrong.pw"), "not-the-password")
	if msg := v.provider.must(2, "import", "--format", "kdbx", db, "--password-file", wrong); !strings.Contains(msg, "wrong password, or the file also needs its key file") {
		t.Fatalf("no key file: %s", msg)
	}
	if msg := v.provider.must(2, "import", "--format", "kdbx", db, "--password-file", wrong, "--key-file", key); !strings.Contains(msg, "wrong password or key file") {
		t.Fatalf("wrong password: %s", msg)
	}
	out := v.provider.must(0, "import", "--format", "kdbx", db, "--password-file", empty, "--key-file", key)
	if !strings.Contains(out, "Imported 1 credentials") {
		t.Fatalf("empty password and BOM key file: %s", out)
	}
	log := v.provider.must(0, "audit", "export")
	for _, want := range []string{`file refused: kdbx: wrong password, or the file also needs its key file`, `file refused: kdbx: wrong password or key file`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}
