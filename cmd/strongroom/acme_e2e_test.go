package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// pebbleVersion is Let's Encrypt's test ACME server the tests run.
const pebbleVersion = "v2.10.3"

// TestACMEWithPebble: with --acme-domain the server gets its certificate
// from an ACME CA (Pebble, Let's Encrypt's test server, on loopback,
// proving the domain by TLS-ALPN-01 against the server itself), serves
// it to clients that name the domain (who then need no --ca or
// --fingerprint beyond trusting the CA), keeps the self-signed one for
// connections by address, caches it in DATA/acme, and renews it before it
// expires.
func TestACMEWithPebble(t *testing.T) {
	pebble, pebbleDir := pebbleBinary(t)
	port := freePort(t)
	wfe, mgmt := freePort(t), freePort(t)
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress": "127.0.0.1:" + wfe, "managementListenAddress": "127.0.0.1:" + mgmt,
		"certificate": filepath.Join(pebbleDir, "test/certs/localhost/cert.pem"), "privateKey": filepath.Join(pebbleDir, "test/certs/localhost/key.pem"),
		"httpPort": 1, "tlsPort": mustAtoi(t, port), "ocspResponderURL": "", "externalAccountBindingRequired": false,
		"retryAfter": map[string]int{"authz": 1, "order": 1}, "keyAlgorithm": "ecdsa",
		// 30 s certificates: autocert renews a third of the lifetime before the end.
		"profiles": map[string]any{"default": map[string]any{"description": "short", "validityPeriod": 30}},
	}}
	b, _ := json.Marshal(conf)
	confFile := write(t, filepath.Join(t.TempDir(), "pebble.json"), string(b))
	cmd := exec.Command(pebble, "-config", confFile, "-dnsserver", fakeDNS(t))
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	var plog strings.Builder
	cmd.Stdout, cmd.Stderr = &plog, &plog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	minica := filepath.Join(pebbleDir, "test/certs/pebble.minica.pem")
	pebbleClient := trustingClient(t, minica, "", "")
	waitFor(t, "Pebble", func() bool {
		r, err := pebbleClient.Get("https://127.0.0.1:" + wfe + "/dir")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	}, func() string { return plog.String() })

	const domain = "vault.littlewittering-pc.test"
	data := filepath.Join(t.TempDir(), "data")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Pebble:\n%s", plog.String())
		}
	})
	srv := startServer(t, data, "--listen", "127.0.0.1:"+port, "--acme-domain", domain, "--acme-email", "it@provider.test",
		"--acme-directory", "https://127.0.0.1:"+wfe+"/dir", "--acme-ca-file", minica)
	if fi, err := os.Stat(filepath.Join(data, "acme")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the certificate cache: %v %v", fi, err)
	}
	// Pebble's issuing root, as a client's system store holds Let's Encrypt's.
	r, err := pebbleClient.Get("https://127.0.0.1:" + mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := io.ReadAll(r.Body)
	r.Body.Close()
	rootFile := write(t, filepath.Join(t.TempDir(), "root.pem"), string(root))
	served := func() *x509.Certificate {
		t.Helper()
		c := trustingClient(t, rootFile, domain, "127.0.0.1:"+port)
		resp, err := c.Get("https://" + domain + ":" + port + "/v1/sys/status")
		if err != nil {
			t.Fatalf("a client trusting only the CA: %v", err)
		}
		resp.Body.Close()
		c.CloseIdleConnections()
		return resp.TLS.PeerCertificates[0]
	}
	first := served()
	if len(first.DNSNames) != 1 || first.DNSNames[0] != domain || "sha256:"+fingerprintOf(first.Raw) != srv.fingerprint {
		t.Fatalf("served %v, printed %s", first.DNSNames, srv.fingerprint)
	}
	// By address, the self-signed certificate, as before.
	if out := newCLI(t, srv, filepath.Dir(data), "operator").must(0, "status", "--json"); !strings.Contains(out, `"initialized": false`) {
		t.Fatalf("status by address: %s", out)
	}
	// Renewed before it expires, with nobody doing anything.
	waitFor(t, "the renewal", func() bool {
		time.Sleep(time.Second)
		return served().SerialNumber.Cmp(first.SerialNumber) != 0
	}, func() string { return srv.log.String() })
	if renewed := served(); !renewed.NotAfter.After(first.NotAfter) {
		t.Fatalf("renewed certificate ends %v, the first %v", renewed.NotAfter, first.NotAfter)
	}
}

func waitFor(t *testing.T, what string, ok func() bool, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute\n%s", what, logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// trustingClient trusts only the certificates in caFile; with serverName,
// it reaches that name at addr.
func trustingClient(t *testing.T, caFile, serverName, addr string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName}}
	if addr != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func fingerprintOf(der []byte) string {
	return fingerprint(&tls.Certificate{Certificate: [][]byte{der}})
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pebbleBinary builds Pebble (pebbleVersion, from the Go module proxy)
// once into the user's cache, and finds its module's test certificates.
func pebbleBinary(t *testing.T) (bin, moduleDir string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("Pebble is built with the go command, not found on PATH: %v", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	gobin := filepath.Join(cache, "strongroom-test", "pebble-"+pebbleVersion)
	bin = filepath.Join(gobin, "pebble")
	if _, err := os.Stat(bin); err != nil {
		c := exec.Command(goTool, "install", "github.com/letsencrypt/pebble/v2/cmd/pebble@"+pebbleVersion)
		c.Env, c.Dir = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS="), t.TempDir()
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("building Pebble: %v\n%s", err, out)
		}
	}
	c := exec.Command(goTool, "mod", "download", "-json", "github.com/letsencrypt/pebble/v2@"+pebbleVersion)
	c.Env, c.Dir = append(os.Environ(), "GOFLAGS="), t.TempDir()
	out, err := c.Output()
	var mod struct{ Dir string }
	if err != nil || json.Unmarshal(out, &mod) != nil || mod.Dir == "" {
		t.Fatalf("Pebble's module: %v %s", err, out)
	}
	return bin, mod.Dir
}

// fakeDNS answers every A question with 127.0.0.1 (and others with no
// answer), over UDP and TCP on one port (Pebble asks over TCP), so
// Pebble's validation reaches the vault on loopback.
func fakeDNS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close(); ln.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if msg := dnsAnswer(buf[:n]); msg != nil {
				pc.WriteTo(msg, from)
			}
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				for {
					var n [2]byte
					if _, err := io.ReadFull(c, n[:]); err != nil {
						return
					}
					q := make([]byte, int(n[0])<<8|int(n[1]))
					if _, err := io.ReadFull(c, q); err != nil {
						return
					}
					msg := dnsAnswer(q)
					if msg == nil {
						return
					}
					c.Write(append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dnsAnswer is the answer to one DNS query: 127.0.0.1 for A, nothing
// for any other type; nil for a message that is not a query.
func dnsAnswer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	bld := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired})
	if bld.StartQuestions() != nil || bld.Question(q) != nil || bld.StartAnswers() != nil {
		return nil
	}
	if q.Type == dnsmessage.TypeA {
		if bld.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}}) != nil {
			return nil
		}
	}
	msg, err := bld.Finish()
	if err != nil {
		return nil
	}
	return msg
}
