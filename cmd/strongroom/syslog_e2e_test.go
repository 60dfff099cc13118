package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"strongroom/internal/notify"
	"strongroom/internal/testcert"
)

// rsyslog is Debian's rsyslogd run by a test: imtcp with the gtls driver
// (RFC 5425, TLS only) on 127.0.0.1, writing each message it receives as
// one RFC 5424 line to a file.
type rsyslog struct {
	t         *testing.T
	bin, conf string
	out       string // the received messages
	port      int
	cmd       *exec.Cmd
	log       bytes.Buffer
}

func startRsyslog(t *testing.T, certs *testcert.Set) *rsyslog {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("rsyslogd not installed (Debian packages rsyslog and rsyslog-gnutls)")
		}
		t.Fatal("rsyslogd missing under CI")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rsyslog{t: t, bin: bin, conf: filepath.Join(dir, "rsyslog.conf"), out: filepath.Join(dir, "received.log"),
		port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	conf := fmt.Sprintf(`global(workDirectory=%q
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q)
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="%d")
action(type="omfile" file=%q template="RSYSLOG_SyslogProtocol23Format")
`, dir, certs.CAFile, certs.CertFile, certs.KeyFile, r.port, r.out)
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-N1", "-f", r.conf).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd -N1: %v\n%s", err, out)
	}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// start runs rsyslogd in the foreground and waits until it listens.
func (r *rsyslog) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "-n", "-iNONE", "-f", r.conf)
	r.cmd.Stdout, r.cmd.Stderr = &r.log, &r.log
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))); err == nil {
			c.Close()
			return
		}
	}
	r.t.Fatalf("rsyslogd did not listen:\n%s", r.log.String())
}

// stop ends rsyslogd (SIGTERM: it writes out what it has).
func (r *rsyslog) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
	r.cmd = nil
}

// received parses the file: each line is an RFC 5424 message, and its
// strongroom SD element's fields by seq.
func (r *rsyslog) received() (map[uint64]map[string]string, []byte) {
	r.t.Helper()
	raw, _ := os.ReadFile(r.out)
	got := map[uint64]map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m, err := rfc5424.NewParser(rfc5424.WithBestEffort()).Parse(sc.Bytes())
		if m == nil {
			r.t.Fatalf("rsyslog wrote a line that is not RFC 5424 (%v): %q", err, sc.Text())
		}
		sm := m.(*rfc5424.SyslogMessage)
		if sm.StructuredData == nil || sm.Appname == nil || *sm.Appname != "strongroom" {
			continue // rsyslog's own messages
		}
		sd := (*sm.StructuredData)[notify.SyslogSDID]
		n, err := strconv.ParseUint(sd["seq"], 10, 64)
		if err != nil {
			r.t.Fatalf("a message without a seq: %q", sc.Text())
		}
		got[n] = sd
	}
	return got, raw
}

// waitSeq waits until every entry 1..n has arrived.
func (r *rsyslog) waitSeq(n uint64) map[uint64]map[string]string {
	r.t.Helper()
	var got map[uint64]map[string]string
	missing := uint64(0)
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		got, _ = r.received()
		missing = 0
		for i := uint64(1); i <= n && missing == 0; i++ {
			if got[i] == nil {
				missing = i
			}
		}
		if missing == 0 {
			return got
		}
	}
	raw, _ := os.ReadFile(r.out)
	r.t.Fatalf("rsyslog has %d of entries 1..%d, not %d\n%s\n%s", len(got), n, missing, r.log.String(), raw)
	return nil
}

// exported returns the audit log's entries as the export gives them.
func exported(t *testing.T, c *cli, work string) []map[string]any {
	t.Helper()
	file := filepath.Join(work, fmt.Sprintf("export-%d.jsonl", time.Now().UnixNano()))
	c.must(0, "audit", "export", "--out", file)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var e map[string]any
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		if _, ok := e["seq"]; ok { // not the checkpoint that ends it
			out = append(out, e)
		}
	}
	return out
}

// TestSyslogEndToEnd: the real binary sends every audit entry to a real
// rsyslog over TLS (RFC 5425, octet-counted frames, a private CA), one
// structured-data element each with the export's fields, escaped, and no
// secret; while rsyslog is stopped entries wait and failures show in
// status, and after it restarts every entry arrives.
func TestSyslogEndToEnd(t *testing.T) {
	certs := testcert.New(t)
	rs := startRsyslog(t, certs)
	v := newProvisioned(t, "--syslog-url", "tls://127.0.0.1:"+strconv.Itoa(rs.port), "--syslog-ca-file", certs.CAFile)
	work, provider := v.work, v.provider
	var o oneTime
	json.Unmarshal([]byte(provider.must(0, "user", "add", "Member", "--role", "member", "--json")), &o)
	member := newCLI(t, v.srv, work, "Member")
	member.must(0, "login", "--user", "Member", "--password-file", write(t, filepath.Join(work, "m.otp"), o.Password),
		"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "m.pw"), "sparrow lantern quarry 7"))
	provider.must(0, "cred", "put", `Bank "main" [x]\y`, "--kind", "shared", "--password-file", write(t, filepath.Join(work, "bank.pw"), "Tr0ub4dor&3 bank secret"))
	member.must(1, "cred", "get", `Bank "main" [x]\y`) // denied: an incident

	log := exported(t, provider, work)
	got := rs.waitSeq(uint64(len(log)))
	for _, e := range log {
		n := uint64(e["seq"].(float64))
		sd := got[n]
		actor, target := e["actor"].(map[string]any), e["target"].(map[string]any)
		for field, want := range map[string]any{"hash": e["hash"], "prev": e["prev"], "action": e["action"], "outcome": e["outcome"],
			"actor": actor["name"], "actor_role": actor["role"], "target": target["name"], "target_kind": target["kind"],
			"request_id": e["request_id"], "client_ip": e["client"].(map[string]any)["ip"], "reason": e["reason"]} {
			if w := want.(string); sd[field] != w && !(w == "" && sd[field] == "-") {
				t.Errorf("entry %d: %s is %q, the export has %q", n, field, sd[field], w)
			}
		}
	}
	denied := got[uint64(len(log)-1)]
	if denied["action"] != "cred.read" || denied["incident"] != "denied read" || denied["target"] != `Bank "main" [x]\y` {
		t.Fatalf("the denied read as rsyslog has it: %v", denied)
	}
	_, raw := rs.received()
	if !bytes.Contains(raw, []byte(`target="Bank \"main\" [x\]\\y"`)) {
		t.Errorf("the target is not escaped as RFC 5424 §6.3.3 says:\n%s", raw)
	}
	sweepCheck(t, "what rsyslog received", raw)
	for _, secret := range []string{"Tr0ub4dor", "correct horse", "ultramarine", "sparrow", v.admin.Password, o.Password} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("rsyslog received a secret")
		}
	}

	// rsyslog stops; entries are recorded and wait, and status says so.
	rs.stop()
	member.must(1, "cred", "get", `Bank "main" [x]\y`)
	member.must(1, "cred", "get", `Bank "main" [x]\y`)
	waitStatus(t, provider, func(d map[string]any) bool { return d["name"] == "syslog" && d["failures"].(float64) > 0 })
	if out := provider.must(0, "status"); !strings.Contains(out, "Delivery syslog:") || !strings.Contains(out, "syslog collector") {
		t.Fatalf("status: %s", out)
	}
	rs.start()
	log = exported(t, provider, work)
	rs.waitSeq(uint64(len(log)))
}
