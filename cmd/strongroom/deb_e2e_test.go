package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"golang.org/x/sys/unix"
)

// TestDebianPackage installs the package on this machine with dpkg, runs
// the server as the unit would (user strongroom, the unit's memory-lock
// limit and umask, --config from /etc/strongroom), upgrades to a newer
// build keeping the edited settings and the vault, and purges. It needs
// root and changes the machine, so it runs only with
// STRONGROOM_DEB_TEST=1 (CI sets it), and never where a strongroom
// package is installed already.
func TestDebianPackage(t *testing.T) {
	if os.Getenv("STRONGROOM_DEB_TEST") != "1" {
		t.Skip("STRONGROOM_DEB_TEST=1 runs it (as root, with dpkg; it installs and purges the package here)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("STRONGROOM_DEB_TEST needs root")
	}
	if exec.Command("dpkg", "-s", "strongroom").Run() == nil {
		t.Fatal("a strongroom package is installed here already: not touching it")
	}
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	deb := func(version string) string {
		t.Helper()
		run("make", "-C", "../..", "deb", "VERSION="+version, "DEB_ARCHES=amd64")
		return filepath.Join("../..", "dist", "strongroom_"+version+"_amd64.deb")
	}
	first, second := deb("0.2.0~test1"), deb("0.2.0~test2")
	t.Cleanup(func() {
		exec.Command("dpkg", "--purge", "strongroom").Run()
		os.RemoveAll("/var/lib/strongroom")
		exec.Command("deluser", "--system", "--quiet", "strongroom").Run()
		exec.Command("delgroup", "--system", "--quiet", "strongroom").Run()
	})

	run("dpkg", "-i", first)
	if out := run("/usr/bin/strongroom", "--version"); !strings.Contains(out, "0.2.0~test1") {
		t.Fatalf("installed version: %s", out)
	}
	u, err := user.Lookup("strongroom")
	if err != nil {
		t.Fatalf("no strongroom user: %v", err)
	}
	checkMode(t, "/var/lib/strongroom", 0o700|os.ModeDir, u)
	checkMode(t, "/etc/strongroom/strongroom.conf", 0o640, nil)
	for _, f := range []string{"/usr/share/man/man1/strongroom-server.1.gz", "/usr/share/bash-completion/completions/strongroom",
		"/usr/share/doc/strongroom/copyright", "/lib/systemd/system/strongroom.service"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("installed: %v", err)
		}
	}
	if out, err := exec.Command("systemd-analyze", "verify", "/lib/systemd/system/strongroom.service").CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	sec := run("systemd-analyze", "security", "--offline=true", "/lib/systemd/system/strongroom.service")
	m := regexp.MustCompile(`Overall exposure level for strongroom.service: ([0-9.]+)`).FindStringSubmatch(sec)
	if m == nil {
		t.Fatalf("systemd-analyze security said: %s", sec)
	}
	if x, _ := strconv.ParseFloat(m[1], 64); x > 2.0 {
		t.Errorf("exposure %s, want at most 2.0:\n%s", m[1], sec)
	}

	// The vault under the unit's settings: set up, one password stored.
	work := t.TempDir()
	os.Chmod(work, 0o755)
	srv := startUnit(t, u)
	op := unitCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct {
		Admin oneTime `json:"admin"`
	}
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "Chairman", "--shares", "1", "--threshold", "1", "--admin", "IT Provider", "--passphrase-file", pass,
		"--out", filepath.Join(work, "env"), "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	provider := unitCLI(t, srv, work, "provider")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))
	provider.must(0, "cred", "put", "Parish website", "--kind", "shared", "--username", "clerk", "--password-file",
		write(t, filepath.Join(work, "site.pw"), "lantern orchard pebble"))
	srv.stop()
	if fi, err := os.Stat("/var/lib/strongroom/strongroom.db"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the database: %v %v", fi, err)
	}

	// The provider edits the settings; the upgrade keeps them and the vault.
	conf, _ := os.ReadFile("/etc/strongroom/strongroom.conf")
	edited := string(conf) + "\n# edited by the provider\nbreakglass-window = 2h\n"
	os.WriteFile("/etc/strongroom/strongroom.conf", []byte(edited), 0o640)
	run("dpkg", "-i", "--force-confold", second)
	if out := run("/usr/bin/strongroom", "--version"); !strings.Contains(out, "0.2.0~test2") {
		t.Fatalf("upgraded version: %s", out)
	}
	if got, _ := os.ReadFile("/etc/strongroom/strongroom.conf"); string(got) != edited {
		t.Fatal("the upgrade replaced the provider's settings")
	}
	srv = startUnit(t, u)
	op = unitCLI(t, srv, work, "operator2")
	op.must(0, "unseal", "--passphrase-file", pass)
	provider = unitCLI(t, srv, work, "provider2")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", filepath.Join(work, "a.pw"),
		"--totp", codeAt(t, secretOf(t, ini.Admin.TOTPURI), time.Now().Add(30*time.Second))) // a step after the first sign-in's
	if out := provider.must(0, "cred", "list"); !strings.Contains(out, "Parish website") {
		t.Fatalf("after the upgrade: %s", out)
	}
	srv.stop()

	// Purge: the settings go, the vault stays for someone to delete on purpose.
	out := run("dpkg", "--purge", "strongroom")
	if !strings.Contains(out, "kept in /var/lib/strongroom") {
		t.Errorf("purge said: %s", out)
	}
	for _, gone := range []string{"/usr/bin/strongroom", "/etc/strongroom/strongroom.conf", "/lib/systemd/system/strongroom.service"} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("after purge %s: %v", gone, err)
		}
	}
	if _, err := os.Stat("/var/lib/strongroom/strongroom.db"); err != nil {
		t.Errorf("purge removed the vault: %v", err)
	}
}

// startUnit runs the installed server as strongroom.service does: as the
// strongroom user, with its umask and memory-lock limit, on the packaged
// settings (the listen address moved to a free loopback port).
func startUnit(t *testing.T, u *user.User) *server {
	t.Helper()
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd := exec.Command("/usr/bin/strongroom", "server", "--config", "/etc/strongroom/strongroom.conf", "--listen", "127.0.0.1:0",
		"--kdf-memory", "19456", "--kdf-time", "2")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/var/lib/strongroom", "LANG=C.UTF-8"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	// LimitMEMLOCK=64M, inherited: set here (as root) for the child.
	var was syscall.Rlimit
	if err := syscall.Getrlimit(unix.RLIMIT_MEMLOCK, &was); err != nil {
		t.Fatal(err)
	}
	limit := syscall.Rlimit{Cur: 64 << 20, Max: 64 << 20}
	if was.Max < limit.Max { // a container without CAP_SYS_RESOURCE: its lower limit, tighter than the unit's
		limit = syscall.Rlimit{Cur: was.Max, Max: was.Max}
		t.Logf("memory-lock limit %d KiB (this machine's most), below the unit's 64 MiB", was.Max>>10)
	}
	if err := syscall.Setrlimit(unix.RLIMIT_MEMLOCK, &limit); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(unix.RLIMIT_MEMLOCK, &was)
	return startServerCmd(t, cmd, "/var/lib/strongroom")
}

// unitCLI is a person's command line for the packaged server, whose
// certificate is in /var/lib/strongroom: trusted by its fingerprint.
func unitCLI(t *testing.T, s *server, work, person string) *cli {
	c := newCLI(t, s, work, person)
	c.env = append(c.env, "STRONGROOM_CA=", "STRONGROOM_FINGERPRINT="+s.fingerprint)
	return c
}

func secretOf(t *testing.T, uri string) string {
	t.Helper()
	k, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret()
}

func checkMode(t *testing.T, path string, want os.FileMode, owner *user.User) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
	if owner != nil {
		if st := fi.Sys().(*syscall.Stat_t); strconv.Itoa(int(st.Uid)) != owner.Uid {
			t.Errorf("%s: owner %d, want %s", path, st.Uid, owner.Uid)
		}
	}
}
