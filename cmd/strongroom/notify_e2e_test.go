package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"strongroom/internal/smtptest"
)

// TestMailEndToEnd: the real binary against a real SMTP server on
// loopback (STARTTLS, AUTH). A member's denied read reaches the clerk's
// inbox; a request reaches the chairman with a link that works; while the
// SMTP server is down the failures show in status, and nothing is lost
// across that outage and a restart of Strongroom mid-queue.
func TestMailEndToEnd(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	mail := smtptest.Start(t, "strongroom", "smtp pass phrase 42")
	smtpPass := write(t, filepath.Join(work, "smtp.pw"), "smtp pass phrase 42")
	flags := []string{"--smtp-url", "smtp://strongroom@localhost:" + mail.Addr[strings.LastIndexByte(mail.Addr, ':')+1:],
		"--smtp-password-file", smtpPass, "--smtp-from", "strongroom@parish.test", "--smtp-ca-file", mail.CAFile,
		"--metrics-listen", "127.0.0.1:0", "--log-format", "text"}
	srv := startServer(t, data, flags...)
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct{ Admin oneTime }
	json.Unmarshal([]byte(op.must(0, "init", "--council", "Little Wittering Parish Council", "--holder", "Chairman", "--shares", "1", "--threshold", "1",
		"--admin", "IT Provider", "--passphrase-file", pass, "--out", "env", "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	provider := newCLI(t, srv, work, "provider")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))
	login := func(name, role string, extra ...string) *cli {
		var o oneTime
		json.Unmarshal([]byte(provider.must(0, append([]string{"user", "add", name, "--role", role, "--json"}, extra...)...)), &o)
		c := newCLI(t, srv, work, name)
		c.must(0, "login", "--user", name, "--password-file", write(t, filepath.Join(work, name+".otp"), o.Password),
			"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, name+".pw"), "sparrow lantern quarry 7"))
		return c
	}
	provider.must(2, "user", "add", "Bad", "--role", "clerk", "--email", "not an address")
	provider.must(2, "user", "set-email", "IT Provider", "a@b")
	clerk := login("Clerk", "clerk", "--email", "clerk@parish.test")
	chair := login("Chair", "chairman")
	provider.must(0, "user", "set-email", "Chair", "chair@parish.test")
	member := login("Member", "member", "--email", "member@parish.test")
	provider.must(0, "cred", "put", "Bank", "--kind", "shared", "--password-file", filepath.Join(work, "a.pw"), "--assign", "Clerk")
	provider.must(0, "cred", "put", "Payroll", "--kind", "shared", "--password-file", filepath.Join(work, "a.pw"), "--assign", "Clerk")
	clerk.must(0, "cred", "get", "Bank")

	member.must(1, "cred", "get", "Bank") // denied: an incident
	m := waitMail(t, mail, "clerk@parish.test", "denied read", 60*time.Second)
	if !m.TLS || m.AuthUser != "strongroom" || !strings.Contains(string(m.Data), "Member (member)") ||
		!strings.Contains(string(m.Data), srv.addr+"/ui/incidents") {
		t.Fatalf("incident mail: tls %v auth %q\n%s", m.TLS, m.AuthUser, m.Data)
	}

	// The requester is told of each decision.
	id := strings.TrimSpace(member.must(0, "request", "create", "--cred", "Bank", "--reason", "buy more stamps", "--for", "1h"))
	chair.must(2, "request", "deny", id, "--reason", "two\nlines") // a reason is one line; nothing is decided
	chair.must(0, "request", "deny", id, "--reason", "stamps come from the petty cash")
	m = waitMail(t, mail, "member@parish.test", "your request for Bank was refused", 60*time.Second)
	if text := unQP(t, m.Data); !strings.Contains(text, "Chair has refused your request for access to Bank. Their reason: “stamps come from the petty cash”.") ||
		!strings.Contains(text, srv.addr+"/ui/requests") {
		t.Fatalf("refusal mail:\n%s", text)
	}
	id = strings.TrimSpace(member.must(0, "request", "create", "--cred", "Bank", "--reason", "pay the grass cutter", "--for", "1h"))
	m = waitMail(t, mail, "chair@parish.test", "asks for access to Bank", 60*time.Second)
	link := regexp.MustCompile(`https://[^\s"<]+/ui/requests`).FindString(string(m.Data))
	if link == "" {
		t.Fatalf("no link in the request mail:\n%s", m.Data)
	}
	if res, err := httpsClient(t, work).Get(link); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the link %s does not work: %v %v", link, res, err)
	}
	chair.must(0, "request", "approve", id)
	m = waitMail(t, mail, "member@parish.test", "your request for Bank was approved", 60*time.Second)
	if !strings.Contains(string(m.Data), "Chair has approved your request") || strings.Contains(string(m.Data), "ultramarine") {
		t.Fatalf("approval mail:\n%s", m.Data)
	}

	// The SMTP server goes down; incidents keep being recorded, and the
	// failures show in status.
	mail.Stop()
	before := len(mail.Mail())
	member.must(1, "cred", "get", "Payroll") // the member has a grant for Bank now
	member.must(1, "cred", "get", "Payroll")
	waitStatus(t, provider, func(d map[string]any) bool { return d["name"] == "mail" && d["failures"].(float64) > 0 })
	if out := provider.must(0, "status"); !strings.Contains(out, "Delivery mail:") || !strings.Contains(out, "could not connect") {
		t.Fatalf("status: %s", out)
	}
	for _, c := range []*cli{op, member} { // not signed in, or not the Messages page's audience
		if out := c.must(0, "status", "--json"); strings.Contains(out, `"delivery"`) {
			t.Fatalf("status told the delivery state to one not signed in as a provider or clerk: %s", out)
		}
	}
	// Strongroom restarts mid-queue, sealed; then the SMTP server returns.
	srv.stop()
	srv = startServer(t, data, flags...)
	op = newCLI(t, srv, work, "operator")
	mail.Restart(t)
	op.must(0, "unseal", "--passphrase-file", pass)
	m = waitMail(t, mail, "clerk@parish.test", "2 security incidents", 60*time.Second)
	if len(mail.Mail()) <= before {
		t.Fatal("nothing delivered after the outage")
	}
	promtoolCheck(t, srv)
}

// waitMail waits for a message to to whose text holds want.
func waitMail(t *testing.T, s *smtptest.Server, to, want string, timeout time.Duration) smtptest.Mail {
	t.Helper()
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		for _, m := range s.Mail() {
			if m.To[0] == to && strings.Contains(string(m.Data), want) {
				return m
			}
		}
	}
	t.Fatalf("no mail to %s with %q arrived (%d messages)", to, want, len(s.Mail()))
	return smtptest.Mail{}
}

func waitStatus(t *testing.T, c *cli, ok func(map[string]any) bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		var st struct{ Delivery []map[string]any }
		json.Unmarshal([]byte(c.must(0, "status", "--json")), &st)
		for _, d := range st.Delivery {
			if ok(d) {
				return
			}
		}
	}
	t.Fatal("status never showed the delivery state")
}

func httpsClient(t *testing.T, work string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(work, "data", "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// promtoolCheck scrapes /metrics and checks it with Prometheus's own
// promtool; it also checks that no name is in it.
func promtoolCheck(t *testing.T, srv *server) {
	t.Helper()
	res, err := http.Get(srv.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	promtoolLint(t, b.String(), "strongroom_sealed 0", `strongroom_delivery_pending{destination="mail"}`, "strongroom_http_requests_total{",
		"strongroom_store_write_seconds_bucket", "go_goroutines")
}

// promtoolLint checks a scrape: it has each of want, no name or secret,
// and promtool finds nothing wrong with it.
func promtoolLint(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	for _, secret := range []string{"Member", "Clerk", "Bank", "parish.test", "smtp pass phrase", "ultramarine"} {
		if strings.Contains(body, secret) {
			t.Errorf("metrics carry %q", secret)
		}
	}
	pt, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Log("promtool not installed (Debian package prometheus): the scrape is not checked by it")
			return
		}
		t.Fatal("promtool missing under CI")
	}
	cmd := exec.Command(pt, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// unQP is a message with its quoted-printable parts decoded (the whole
// message is read as quoted-printable: enough to find text in it).
func unQP(t *testing.T, data []byte) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
