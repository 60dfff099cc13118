package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"strongroom/vault/storage"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var binary string

// serverLogs keeps every server's stderr, to check none holds a secret.
var serverLogs []*bytes.Buffer

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strongroom-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "strongroom")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("build: " + string(out))
	}
	code := m.Run()
	fmt.Printf("planted-secret sweep: %d secrets planted, %d logs, error outputs and files searched\n", len(planted()), sweep.texts)
	os.RemoveAll(dir)
	os.Exit(code)
}

type server struct {
	cmd         *exec.Cmd
	addr        string
	fingerprint string
	metrics     string // the /metrics address, with --metrics-listen
	log         *bytes.Buffer
}

// startServer runs the real binary on a free loopback port and waits for it
// to say where it listens.
func startServer(t *testing.T, data string, flags ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"server", "--data", data, "--listen", "127.0.0.1:0", "--kdf-memory", "19456", "--kdf-time", "2"}, flags...)...)
	return startServerCmd(t, cmd, filepath.Dir(data))
}

// startServerCmd starts a server command, waits until it listens, and at
// the test's end stops it and sweeps its output and the files under
// sweep for planted secrets.
func startServerCmd(t *testing.T, cmd *exec.Cmd, sweep string) *server {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, log: &bytes.Buffer{}}
	cmd.Stderr = s.log
	serverLogs = append(serverLogs, s.log)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "strongroom: metrics on "); ok {
			s.metrics = a
		}
		if a, ok := strings.CutPrefix(sc.Text(), "strongroom: listening on "); ok {
			s.addr = strings.TrimSuffix(a, " (sealed)")
		}
		if fp, ok := strings.CutPrefix(sc.Text(), "strongroom: certificate fingerprint "); ok {
			s.fingerprint = fp
			break
		}
	}
	if s.addr == "" || s.fingerprint == "" {
		t.Fatalf("server did not start: %s", s.log)
	}
	done := make(chan struct{})
	var out bytes.Buffer
	go func() {
		defer close(done)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
		}
	}()
	t.Cleanup(func() {
		s.stop()
		<-done
		sweepCheck(t, "the server's stderr", s.log.Bytes())
		sweepCheck(t, "the server's stdout", out.Bytes())
		sweepDir(t, sweep)
	})
	return s
}

func (s *server) stop() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
}

// cli runs the binary as one person (one STRONGROOM_CONFIG).
type cli struct {
	t    *testing.T
	env  []string
	work string
}

func newCLI(t *testing.T, s *server, work, person string) *cli {
	return &cli{t: t, work: work, env: append(os.Environ(), "STRONGROOM_ADDR="+s.addr,
		"STRONGROOM_CA="+filepath.Join(work, "data", "tls", "cert.pem"),
		"STRONGROOM_CONFIG="+filepath.Join(work, "cfg-"+person), "STRONGROOM_TOKEN=")}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	plantArgs(c.work, args)
	defer func() {
		plantJSON(stdout)
		sweepCheck(c.t, "stderr of strongroom "+strings.Join(args, " "), []byte(stderr))
	}()
	cmd := exec.Command(binary, args...)
	cmd.Env, cmd.Dir = c.env, c.work
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// must runs and requires the given exit code.
func (c *cli) must(code int, args ...string) string {
	c.t.Helper()
	out, errOut, got := c.run(args...)
	if got != code {
		c.t.Fatalf("strongroom %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, out, errOut)
	}
	if code != 0 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		c.t.Fatalf("strongroom %s: stderr is not one line: %q", strings.Join(args, " "), errOut)
	}
	return out + errOut
}

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func code(t *testing.T, uri string) string {
	t.Helper()
	k, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	c, err := totp.GenerateCode(k.Secret(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type oneTime struct {
	Name, Role, Password string
	TOTPURI              string `json:"totp_uri"`
}

// TestTour is the README's five-minute tour, end to end.
func TestTour(t *testing.T) {
	firstLog := len(serverLogs) // this test's servers' logs are those from here on
	work := t.TempDir()
	data := filepath.Join(work, "data")
	srv := startServer(t, data)
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")

	var st map[string]any
	json.Unmarshal([]byte(op.must(0, "status", "--json")), &st)
	if st["initialized"] != false || st["sealed"] != true {
		t.Fatalf("fresh status %v", st)
	}
	op.must(2, "init", "--holder", "Chairman", "--admin", "IT Provider", "--passphrase-file", pass) // no --out
	var ini struct {
		VaultID     string  `json:"vault_id"`
		VerifierKey string  `json:"verifier_key"`
		Admin       oneTime `json:"admin"`
		Envelopes   []string
	}
	out := op.must(0, "init", "--shares", "3", "--threshold", "2", "--holder", "Chairman", "--holder", "Vice-chair",
		"--holder", "Clerk", "--admin", "IT Provider", "--council", "Drayton Bassett Parish Council",
		"--passphrase-file", pass, "--out", "envelopes", "--json")
	if err := json.Unmarshal([]byte(out), &ini); err != nil || len(ini.VaultID) != 32 || ini.VerifierKey == "" || len(ini.Envelopes) != 3 {
		t.Fatalf("init output %q: %v", out, err)
	}
	for _, e := range ini.Envelopes {
		fi, err := os.Stat(filepath.Join(work, e))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("envelope %s: %v %v", e, fi.Mode(), err)
		}
	}
	op.must(1, "init", "--holder", "A", "--shares", "1", "--threshold", "1", "--admin", "B", "--passphrase-file", pass, "--out", "again")
	json.Unmarshal([]byte(op.must(0, "status", "--json")), &st)
	if st["initialized"] != true || st["sealed"] != true || st["threshold"] != 2.0 || st["progress"] != 0.0 {
		t.Fatalf("status after init %v", st)
	}
	op.must(1, "unseal", "--passphrase-file", write(t, filepath.Join(work, "wrong"), "not the passphrase"))
	op.must(0, "unseal", "--passphrase-file", pass)

	// The IT provider's first login must replace the one-time password.
	provider := newCLI(t, srv, work, "provider")
	otp := write(t, filepath.Join(work, "admin.otp"), ini.Admin.Password)
	newPW := write(t, filepath.Join(work, "admin.pw"), "ultramarine kettle drum")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", otp, "--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", newPW)
	people := map[string]oneTime{}
	for _, p := range [][2]string{{"Clerk", "clerk"}, {"Member", "member"}, {"Auditor", "auditor"}} {
		var o oneTime
		json.Unmarshal([]byte(provider.must(0, "user", "add", p[0], "--role", p[1], "--json")), &o)
		if o.Password == "" || !strings.HasPrefix(o.TOTPURI, "otpauth://totp/") || o.Role != p[1] {
			t.Fatalf("user add %v", o)
		}
		people[p[0]] = o
	}
	// A role is parsed by the vault's one parser before anything is sent:
	// exit 2, one line naming the flag, and no account made.
	for _, bad := range [][]string{{"--role", "wizard"}, {"--role", "superuser"}, {"--role", ""}, {}} {
		msg := provider.must(2, append([]string{"user", "add", "Somebody"}, bad...)...)
		if !strings.Contains(msg, "role must be provider, clerk, chairman, auditor or member") || strings.Contains(msg, "superuser") {
			t.Fatalf("user add %v: %s", bad, msg)
		}
	}
	if list := provider.must(0, "user", "list"); strings.Contains(list, "Somebody") {
		t.Fatalf("an account was made with a bad role: %s", list)
	}
	if fi, err := os.Stat(filepath.Join(work, "cfg-provider", "token")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	// TLS trust by pinned fingerprint instead of --ca; a wrong pin is refused.
	provider.must(0, "user", "list", "--ca", "", "--fingerprint", srv.fingerprint)
	wrongPin := "sha256:" + strings.Repeat("ab", 32)
	if msg := provider.must(1, "user", "list", "--ca", "", "--fingerprint", wrongPin); !strings.Contains(msg, "pinned fingerprint") {
		t.Fatalf("wrong pin: %s", msg)
	}
	fbPW := "hunter2-Facebook-Page!"
	provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--username", "drayton.bassett.pc",
		"--password-file", write(t, filepath.Join(work, "fb.pw"), fbPW), "--url", "https://facebook.com", "--assign", "Clerk")
	provider.must(1, "cred", "get", "Facebook page") // the provider is not an assignee

	login := func(name string) *cli {
		c := newCLI(t, srv, work, name)
		o := people[name]
		c.must(0, "login", "--user", name, "--password-file", write(t, filepath.Join(work, name+".otp"), o.Password),
			"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, name+".pw"), "sparrow lantern quarry 7"))
		return c
	}
	clerk, member, auditor := login("Clerk"), login("Member"), login("Auditor")
	var clerkCodes, auditorCodes struct{ Codes []string } // to sign in again after the restarts below
	json.Unmarshal([]byte(clerk.must(0, "mfa", "recovery-codes", "--json")), &clerkCodes)
	json.Unmarshal([]byte(auditor.must(0, "mfa", "recovery-codes", "--json")), &auditorCodes)

	var got map[string]any
	json.Unmarshal([]byte(clerk.must(0, "cred", "get", "Facebook page", "--json")), &got)
	if got["password"] != fbPW || got["username"] != "drayton.bassett.pc" || got["version"] != 1.0 || got["name"] != "Facebook page" {
		t.Fatalf("clerk read %v", got)
	}
	// Not one the member may see: answered as a missing name (issue 15).
	if msg := member.must(1, "cred", "get", "Facebook page"); !strings.Contains(msg, `no credential named "Facebook page"`) || strings.Contains(msg, fbPW) {
		t.Fatalf("member refusal: %q", msg)
	}
	member.must(1, "audit", "export")
	clerk.must(2, "cred", "get")
	clerk.must(2, "cred", "get", "x", "--no-such-flag")

	log := auditor.must(0, "audit", "export")
	if !strings.Contains(log, `"name":"Member","role":"member"},"action":"cred.read","target":{"kind":"credential"`) ||
		!strings.Contains(log, `"outcome":"denied"`) || strings.Contains(log, fbPW) {
		t.Fatal("the member's refusal is not in the exported log, or a secret is")
	}
	logFile := write(t, filepath.Join(work, "log.jsonl"), strings.TrimSpace(log))
	if out := auditor.must(0, "audit", "verify", "--log", logFile); !strings.Contains(out, "entries checked") {
		t.Fatalf("offline verify: %s", out)
	}

	// Restart: sealed; one share does not open it, two do.
	srv.stop()
	srv = startServer(t, data)
	op = newCLI(t, srv, work, "operator")
	json.Unmarshal([]byte(op.must(0, "status", "--json")), &st)
	if st["sealed"] != true {
		t.Fatal("restart left the vault unsealed")
	}
	env := func(i int) string { return filepath.Join(work, ini.Envelopes[i]) }
	typo, _ := os.ReadFile(env(1))
	i := bytes.Index(typo, []byte("-----BEGIN STRONGROOM SHARE-----\n")) + 34 + 6 // after " 1-4  ": group 1's second character
	typo[i] = map[bool]byte{true: '1', false: '0'}[typo[i] == '0']
	if msg := op.must(2, "unseal", "--share-file", write(t, filepath.Join(work, "typo.txt"), string(typo))); !strings.Contains(msg, "typo in group 1") {
		t.Fatalf("typo: %s", msg)
	}
	if out := op.must(0, "unseal", "--share-file", env(0)); !strings.Contains(out, "1 of 2") {
		t.Fatalf("one share: %s", out)
	}
	json.Unmarshal([]byte(op.must(0, "status", "--json")), &st)
	if st["sealed"] != true || st["progress"] != 1.0 {
		t.Fatalf("after one share %v", st)
	}
	op.must(1, "unseal", "--share-file", env(0))
	if out := op.must(0, "unseal", "--share-file", env(2)); !strings.Contains(out, "Vault unsealed") {
		t.Fatalf("two shares: %s", out)
	}
	clerk = newCLI(t, srv, work, "Clerk")
	clerk.must(1, "cred", "get", "Facebook page") // the unseal ended every session
	clerk.must(0, "login", "--user", "Clerk", "--password-file", filepath.Join(work, "Clerk.pw"), "--recovery-code", clerkCodes.Codes[0])
	clerk.must(0, "cred", "get", "Facebook page")

	// Flip one byte of an audit record in the database: the vault refuses
	// to unseal it (the state seal pins the log's hash), says why, and
	// records the refusal; the state as it was still unseals.
	srv.stop()
	db := filepath.Join(data, "strongroom.db")
	good, _ := os.ReadFile(db)
	flipDenied(t, data) // in the live entry, as a bbolt tool would (a byte search may hit a freed page)
	srv = startServer(t, data)
	op = newCLI(t, srv, work, "operator")
	if msg := op.must(1, "unseal", "--passphrase-file", pass); !strings.Contains(msg, "changed outside the vault") || !strings.Contains(msg, `bucket "audit"`) {
		t.Fatalf("unseal of a changed log: %s", msg)
	}
	json.Unmarshal([]byte(op.must(0, "status", "--json")), &st)
	if st["sealed"] != true {
		t.Fatal("a refused unseal left the vault unsealed")
	}
	srv.stop()
	os.WriteFile(db, good, 0o600)
	srv = startServer(t, data)
	op = newCLI(t, srv, work, "operator")
	op.must(0, "unseal", "--passphrase-file", pass)

	// Nothing secret reached any server's log.
	srv.stop()
	for i, l := range serverLogs {
		for _, secret := range []string{fbPW, ini.Admin.Password, "ultramarine kettle drum", "correct horse battery staple", "srs_"} {
			if strings.Contains(l.String(), secret) {
				t.Fatalf("server log contains %q", secret)
			}
		}
		if i >= firstLog && !strings.Contains(l.String(), `"msg":"request"`) { // earlier tests' servers may have served nothing
			t.Fatal("server log is missing its request lines")
		}
	}
}

// provisioned is a new vault (envelopes for Chairman and Clerk, 2 of 2, in
// work/env), unsealed by passphrase, with its first provider signed in
// (new password in work/a.pw).
type provisioned struct {
	work, pass   string
	srv          *server
	op, provider *cli
	verifierKey  string
	vaultID      string
	admin        oneTime
}

func newProvisioned(t *testing.T, serverFlags ...string) *provisioned {
	t.Helper()
	v := &provisioned{work: t.TempDir()}
	v.srv = startServer(t, filepath.Join(v.work, "data"), serverFlags...)
	v.op = newCLI(t, v.srv, v.work, "operator")
	v.pass = write(t, filepath.Join(v.work, "pass"), "correct horse battery staple")
	var ini struct {
		VerifierKey string  `json:"verifier_key"`
		VaultID     string  `json:"vault_id"`
		Admin       oneTime `json:"admin"`
	}
	json.Unmarshal([]byte(v.op.must(0, "init", "--holder", "Chairman", "--holder", "Clerk", "--threshold", "2", "--shares", "2",
		"--admin", "IT Provider", "--passphrase-file", v.pass, "--out", "env", "--json")), &ini)
	v.verifierKey, v.vaultID, v.admin = ini.VerifierKey, ini.VaultID, ini.Admin
	v.op.must(0, "unseal", "--passphrase-file", v.pass)
	v.provider = newCLI(t, v.srv, v.work, "provider")
	v.provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(v.work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(v.work, "a.pw"), "ultramarine kettle drum"))
	return v
}

// flipDenied flips one byte of the first stored audit entry whose outcome
// is "denied", in the stopped server's database, through bbolt.
func flipDenied(t *testing.T, data string) {
	t.Helper()
	st, err := storage.OpenBolt(data, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var key, val []byte
	_ = st.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(storage.BucketAudit, nil, func(k, v []byte) (bool, error) {
			if at := bytes.Index(v, []byte(`"outcome":"denied"`)); at >= 0 {
				key, val = k, v
				val[at+12] ^= 0x01
				return false, nil
			}
			return true, nil
		})
	})
	if key == nil {
		t.Fatal("no denied entry to change")
	}
	if err := st.Update(context.Background(), func(tx storage.Tx) error { return tx.Put(storage.BucketAudit, key, val) }); err != nil {
		t.Fatal(err)
	}
}
