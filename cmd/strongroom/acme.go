package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"strongroom/vault"
)

// acmeFlags are server --acme-domain and its companions: a certificate
// from Let's Encrypt (or any ACME server) through
// golang.org/x/crypto/acme/autocert, proved by TLS-ALPN-01 on the
// server's own port (which the CA reaches as port 443), kept in
// DATA/acme and renewed by autocert a third of its lifetime before it
// expires. A connection that names no host, or another (the command line
// on 127.0.0.1), still gets the self-signed certificate of DATA/tls.
type acmeFlags struct{ domain, email, directory, caFile string }

func (a *acmeFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.domain, "acme-domain", "", "get the TLS certificate for this host name from an ACME CA (Let's Encrypt by default), proved on this server's port, which the CA must reach as port 443")
	f.StringVar(&a.email, "acme-email", "", "the address the CA writes to about the certificate (with --acme-domain)")
	f.StringVar(&a.directory, "acme-directory", acme.LetsEncryptURL, "the ACME CA's directory URL (with --acme-domain)")
	f.StringVar(&a.caFile, "acme-ca-file", "", "PEM certificates to trust for the ACME CA's own address, beside the system's (a private CA)")
}

// check refuses the flags' values that cannot work.
func (a *acmeFlags) check(certFile string) error {
	if a.domain == "" {
		if a.email != "" || a.caFile != "" {
			return usagef("--acme-email and --acme-ca-file need --acme-domain")
		}
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(a.domain), ".")
	switch {
	case certFile != "":
		return usagef("give --acme-domain or --tls-cert, not both")
	case net.ParseIP(host) != nil, !validHostName(host):
		return usagef("--acme-domain is a host name such as vault.example-pc.gov.uk (no scheme, port or IP address)")
	case a.email == "":
		return usagef("--acme-domain needs --acme-email, the address the CA writes to about the certificate")
	case !strings.HasPrefix(a.directory, "https://"):
		return usagef("--acme-directory is the CA's https:// directory URL")
	}
	if _, err := vault.ParseEmail("acme-email", a.email); err != nil {
		return usagef("--acme-email is not an e-mail address")
	}
	a.domain = host
	return nil
}

// validHostName: dot-separated labels of letters, digits and hyphens,
// at least two of them.
func validHostName(h string) bool {
	labels := strings.Split(h, ".")
	if len(h) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// acmeTLS is the server's TLS with a certificate from the CA, falling
// back to own for connections not to the domain.
type acmeTLS struct {
	m      *autocert.Manager
	domain string
	own    tls.Certificate
	log    *slog.Logger
	mu     sync.Mutex
	serial string // the certificate last served, to log a renewal
	// ready: obtain has the CA's certificate. Until then visitors get
	// the self-signed one, so their connections cannot drive orders to
	// the CA past its limits (Let's Encrypt: 5 failed validations an hour).
	ready atomic.Bool
}

func (a *acmeFlags) tls(data string, own tls.Certificate, log *slog.Logger) (*acmeTLS, *tls.Config, error) {
	client := &acme.Client{DirectoryURL: a.directory, UserAgent: "strongroom/" + version}
	if a.caFile != "" {
		pem, err := os.ReadFile(a.caFile)
		if err != nil {
			return nil, nil, usagef("--acme-ca-file: %v", err)
		}
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, nil, usagef("--acme-ca-file holds no PEM certificate")
		}
		client.HTTPClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment}}
	}
	at := &acmeTLS{domain: a.domain, own: own, log: log, m: &autocert.Manager{Prompt: autocert.AcceptTOS,
		Cache: autocert.DirCache(filepath.Join(data, "acme")), HostPolicy: autocert.HostWhitelist(a.domain),
		Email: a.email, Client: client}}
	cfg := serverTLS(own)
	cfg.Certificates = nil
	cfg.GetCertificate = at.certificate
	cfg.NextProtos = []string{"h2", "http/1.1", acme.ALPNProto}
	return at, cfg, nil
}

// certificate answers a ClientHello: the CA's certificate for the domain
// (and the TLS-ALPN-01 challenge), the own one for anything else.
func (at *acmeTLS) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	challenge := slices.Contains(hello.SupportedProtos, acme.ALPNProto)
	if !strings.EqualFold(strings.TrimSuffix(hello.ServerName, "."), at.domain) || !challenge && !at.ready.Load() {
		return &at.own, nil
	}
	c, err := at.m.GetCertificate(hello)
	if err != nil || c.Leaf == nil || challenge {
		return c, err // a TLS-ALPN-01 challenge's certificate is not the one served
	}
	serial := c.Leaf.SerialNumber.String()
	at.mu.Lock()
	renewed := at.serial != "" && at.serial != serial
	at.serial = serial
	at.mu.Unlock()
	if renewed {
		at.log.Info("certificate renewed by the ACME CA", "domain", at.domain, "until", c.Leaf.NotAfter.UTC().Format(time.RFC3339),
			"fingerprint", fingerprint(c))
	}
	return c, nil
}

// obtain asks for the certificate as soon as the server listens (so the
// first visitor does not wait for the CA), trying again with a growing
// pause until it has one or ctx ends, and prints its fingerprint.
func (at *acmeTLS) obtain(ctx context.Context) {
	hello := &tls.ClientHelloInfo{ServerName: at.domain, SupportedCurves: []tls.CurveID{tls.CurveP256},
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_AES_128_GCM_SHA256}}
	for wait := 30 * time.Second; ; wait = min(2*wait, time.Hour) {
		c, err := at.m.GetCertificate(hello)
		if err == nil {
			at.ready.Store(true)
			at.mu.Lock()
			if c.Leaf != nil {
				at.serial = c.Leaf.SerialNumber.String()
			}
			at.mu.Unlock()
			fmt.Printf("strongroom: certificate for %s from the ACME CA, until %s\n", at.domain, c.Leaf.NotAfter.UTC().Format(time.RFC3339))
			fmt.Printf("strongroom: certificate fingerprint sha256:%s\n", fingerprint(c))
			return
		}
		at.log.Warn("no certificate from the ACME CA yet; the self-signed one is served meanwhile", "domain", at.domain, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func fingerprint(c *tls.Certificate) string {
	fp := sha256.Sum256(c.Certificate[0])
	return hex.EncodeToString(fp[:])
}
