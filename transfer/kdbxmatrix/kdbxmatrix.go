// Package kdbxmatrix makes, for tests, the KeePass databases an import
// must read: KDBX 3.1 and 4 in every key derivation, cipher and key
// file form, written at test time by pykeepass and keepassxc-cli
// (make_kdbx_matrix.py says how), never copied from another project.
// Like net/http/httptest it is a test helper with its own package,
// because the transfer package's tests and the end-to-end tests both
// use it.
package kdbxmatrix

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

//go:embed make_kdbx_matrix.py
var script []byte

// Case is one database, as the script describes what it wrote.
type Case struct {
	Name     string
	File     string
	KeyFile  string  `json:"key_file"` // "" for none
	Password *string // nil for none; "" an empty one
	// EmptyPasswordHashed says an empty Password is KeePass 2's (and
	// keepassxc-cli's, given an empty line): SHA-256("") is part of the
	// key. Otherwise an empty Password is pykeepass's password='', which
	// leaves the password out, as KeePassXC's "no password" does.
	EmptyPasswordHashed bool   `json:"empty_password_hashed"`
	Version             int    // 3 (3.1) or 4
	KDF                 string // pykeepass's names: aeskdf, argon2 (Argon2d), argon2id
	Cipher              string // aes256, chacha20, twofish
	Entries             []Entry
}

// Entry is one entry as pykeepass wrote it. Skip is the reason an
// import lists it as not imported (a substring), "" if it comes in
// whole.
type Entry struct {
	Title, Username, Password, URL, Notes, OTP, Folder, Skip string
	Tags                                                     []string
	Fields                                                   map[string]string // custom strings
	History                                                  int               // earlier versions
}

// Imported says whether an import stores the entry: an attachment is
// listed as not imported, but its entry comes in.
func (e Entry) Imported() bool { return e.Skip == "" || e.Skip == "attachment not imported" }

// Path is the entry's place as keepassxc-cli ls -R -f lists it.
func (e Entry) Path() string {
	if e.Folder == "" {
		return e.Title
	}
	return e.Folder + "/" + e.Title
}

// Make writes the matrix into a temporary directory of t's.
func Make(t testing.TB) []Case {
	t.Helper()
	kxc := Tool(t, "keepassxc-cli", "keepassxc")
	py := PyKeePass(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "make_kdbx_matrix.py")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(py, path, dir, kxc)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make_kdbx_matrix.py: %v\n%s", err, stderr.String())
	}
	var cases []Case
	if err := json.Unmarshal(out, &cases); err != nil || len(cases) == 0 {
		t.Fatalf("make_kdbx_matrix.py's manifest: %v (%d cases)", err, len(cases))
	}
	return cases
}

// Tool returns the path of an outside tool from Debian's package pkg.
// In CI (CI set; .ci/run installs it) a missing one fails the test;
// elsewhere the test is skipped with the reason.
func Tool(t testing.TB, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		missing(t, tool, pkg)
	}
	return p
}

// PyKeePass returns a python3 that can import pykeepass (Debian's
// python3-pykeepass), failing in CI and skipping elsewhere without one.
func PyKeePass(t testing.TB) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import pykeepass").Run() == nil {
			return p
		}
	}
	missing(t, "pykeepass", "python3-pykeepass")
	return ""
}

func missing(t testing.TB, tool, pkg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing: .ci/run installs Debian's %s", tool, pkg)
	}
	t.Skipf("%s not installed (apt-get install %s)", tool, pkg)
}
