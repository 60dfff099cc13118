package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiskFull: the data directory on a small tmpfs fills up under
// writes, then is made read-only. Each refused request says so (507, exit 1), nothing already
// written is lost, an audited read that cannot be recorded returns no
// secret, and once space returns the vault carries on, chain whole.
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	work := t.TempDir()
	srv := startServer(t, filepath.Join(mnt, "data"))
	op := newCLI(t, srv, mnt, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct{ Admin oneTime }
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "A", "--holder", "B", "--shares", "2", "--threshold", "2",
		"--admin", "IT Provider", "--passphrase-file", pass, "--out", "env", "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	prov := newCLI(t, srv, mnt, "provider")
	prov.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))

	// Fill the disk with big notes until a write is refused.
	notes := write(t, filepath.Join(work, "notes"), strings.Repeat("n", 60000))
	pw := write(t, filepath.Join(work, "pw"), "river-candle-orbit")
	var stored []string
	refused := ""
	for i := 0; i < 500 && refused == ""; i++ {
		name := fmt.Sprintf("Filler %03d", i)
		// Shared: an admin read would first ask for a re-authentication,
		// itself a write the full disk refuses.
		out, errOut, code := prov.run("cred", "put", name, "--kind", "shared", "--password-file", pw, "--notes-file", notes, "--assign", "IT Provider")
		switch code {
		case 0:
			stored = append(stored, name)
		case 1:
			refused = errOut
		default:
			t.Fatalf("put %s: exit %d %s %s", name, code, out, errOut)
		}
	}
	if refused == "" || !strings.Contains(refused, "cannot write to its disk") {
		t.Fatalf("the disk never filled, or the refusal is unclear: %q (%d stored)", refused, len(stored))
	}
	// Reads go on while their entries fit in free pages; once one cannot
	// be recorded it returns nothing.
	readRefused := false
	for i := 0; i < 60 && !readRefused; i++ {
		out, errOut, code := prov.run("cred", "get", stored[0])
		if code == 0 {
			continue
		}
		if strings.Contains(out, "river-candle-orbit") || !strings.Contains(errOut, "cannot write to its disk") {
			t.Fatalf("read on a full disk: exit %d %q", code, errOut)
		}
		readRefused = true
	}
	t.Logf("an audited read was refused on the full disk: %v", readRefused)

	// Space returns: everything written before is there, writes work, the chain verifies.
	if out, err := exec.Command("mount", "-o", "remount,size=64m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	for _, name := range stored {
		if got := prov.must(0, "cred", "get", name); !strings.Contains(got, "river-candle-orbit") {
			t.Fatalf("%s lost: %s", name, got)
		}
	}
	prov.must(0, "cred", "put", "After the disk filled", "--kind", "admin", "--password-file", pw, "--assign", "IT Provider")
	if out := prov.must(0, "audit", "verify"); !strings.HasPrefix(out, "OK:") {
		t.Fatalf("verify: %s", out)
	}
	var codes struct{ Codes []string } // to sign in again after the restart
	json.Unmarshal([]byte(prov.must(0, "mfa", "recovery-codes", "--json")), &codes)
	// A read-only data directory (a file system cannot turn read-only
	// under an open database here): the server refuses to start and says
	// why; writable again, it starts, and the database opens and verifies.
	srv.stop()
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	out, err := exec.Command(binary, "server", "--data", filepath.Join(mnt, "data"), "--listen", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "read-only") {
		t.Fatalf("server on a read-only data dir: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "remount,rw", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount rw: %v %s", err, out)
	}
	srv2 := startServer(t, filepath.Join(mnt, "data"))
	op2 := newCLI(t, srv2, mnt, "operator")
	op2.must(0, "unseal", "--passphrase-file", pass)
	prov2 := newCLI(t, srv2, mnt, "provider")
	prov2.must(0, "login", "--user", "IT Provider", "--password-file", filepath.Join(work, "a.pw"), "--recovery-code", codes.Codes[0])
	prov2.must(0, "audit", "verify")
}
