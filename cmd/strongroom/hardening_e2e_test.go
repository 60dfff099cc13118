package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTLSHandshakes: TLS 1.3, and 1.2 with forward-secret AEAD suites
// only; older versions and CBC or RSA-key-exchange suites are refused.
func TestTLSHandshakes(t *testing.T) {
	work := t.TempDir()
	srv := startServer(t, filepath.Join(work, "data"))
	host := strings.TrimPrefix(srv.addr, "https://")
	try := func(cfg *tls.Config) (*tls.ConnectionState, error) {
		cfg.InsecureSkipVerify = true // the handshake is under test, not the certificate
		c, err := tls.Dial("tcp", host, cfg)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		st := c.ConnectionState()
		return &st, nil
	}
	if st, err := try(&tls.Config{}); err != nil || st.Version != tls.VersionTLS13 {
		t.Fatalf("default handshake: %v %+v", err, st)
	}
	if st, err := try(&tls.Config{MaxVersion: tls.VersionTLS12}); err != nil || st.Version != tls.VersionTLS12 ||
		!strings.Contains(tls.CipherSuiteName(st.CipherSuite), "GCM") && !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "CHACHA20") {
		t.Fatalf("TLS 1.2: %v %+v", err, st)
	}
	for name, cfg := range map[string]*tls.Config{
		"TLS 1.1": {MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
		"TLS 1.2 CBC": {MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}},
		"TLS 1.2 RSA key exchange": {MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_RSA_WITH_AES_256_GCM_SHA384}},
	} {
		if st, err := try(cfg); err == nil {
			t.Errorf("%s accepted: %s", name, tls.CipherSuiteName(st.CipherSuite))
		}
	}
}

// TestProcessHardening: no core dumps from the running server.
func TestProcessHardening(t *testing.T) {
	work := t.TempDir()
	srv := startServer(t, filepath.Join(work, "data"))
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", srv.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if !regexp.MustCompile(`Max core file size\s+0\s+0\s`).Match(limits) {
		t.Fatalf("core dumps are not disabled:\n%s", limits)
	}
}

// TestBruteForceLimits: a loop of wrong logins and unseals meets the
// per-address rate limit (429) and the sign-in throttle, which then
// refuses that name from that address, even with the right password,
// until it ends.
func TestBruteForceLimits(t *testing.T) {
	work := t.TempDir()
	srv := startServer(t, filepath.Join(work, "data"))
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct{ Admin oneTime }
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "A", "--holder", "B", "--shares", "2", "--threshold", "2",
		"--admin", "IT Provider", "--passphrase-file", pass, "--out", "env", "--json")), &ini)
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	post := func(path, body string) int {
		resp, err := cl.Post(srv.addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	count := func(path, body string, n int) map[int]int {
		got := map[int]int{}
		for i := 0; i < n; i++ {
			got[post(path, body)]++
		}
		return got
	}
	// 40 wrong passphrases as fast as possible: a burst of 10 is answered
	// (and recorded), the rest are turned away before any Argon2id work.
	un := count("/v1/sys/unseal", `{"passphrase":"guess guess guess"}`, 40)
	if un[http.StatusTooManyRequests] < 25 || un[http.StatusUnauthorized] > 15 {
		t.Fatalf("unseal brute force: %v", un)
	}
	time.Sleep(1500 * time.Millisecond) // the limiter refills at 2/s: a moment later the operator gets in
	op.must(0, "unseal", "--passphrase-file", pass)
	lg := count("/v1/auth/login", `{"name":"IT Provider","password":"wrong password","totp":"000000"}`, 40)
	if lg[http.StatusTooManyRequests] < 25 {
		t.Fatalf("login brute force: %v", lg)
	}
	// Past five failures the name is refused from this address: the right
	// password and code are refused too, once the limiter lets a request
	// through.
	time.Sleep(1500 * time.Millisecond)
	msg := op.must(1, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI))
	if !strings.Contains(msg, "locked") && !strings.Contains(msg, "too many") && !strings.Contains(msg, "Too Many") {
		t.Fatalf("locked account: %s", msg)
	}
}
