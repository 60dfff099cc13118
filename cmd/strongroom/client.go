package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"strongroom/api/client"
)

// pinError refuses a server certificate that is not the pinned one.
type pinError struct{ msg string }

func (e *pinError) Error() string { return e.msg }

// newClient makes the API client from the global flags: the address, the
// TLS trust (a pinned fingerprint or a CA file), and the saved session.
func newClient(g *globals) (*client.Client, error) {
	u, err := url.Parse(g.addr)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, usagef("--addr must be a URL such as https://127.0.0.1:8443")
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case g.fingerprint != "":
		want, err := hex.DecodeString(strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(g.fingerprint), "sha256:"), ":", ""))
		if err != nil || len(want) != sha256.Size {
			return nil, usagef("--fingerprint must be the SHA-256 fingerprint the server printed")
		}
		// Pinning replaces chain verification: only a certificate with
		// exactly this fingerprint is accepted.
		tlsConf.InsecureSkipVerify = true
		tlsConf.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return &pinError{"server sent no certificate"}
			}
			got := sha256.Sum256(raw[0])
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return &pinError{"server certificate does not match the pinned fingerprint"}
			}
			return nil
		}
	case g.ca != "":
		pem, err := os.ReadFile(g.ca)
		if err != nil {
			return nil, usagef("cannot read --ca file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--ca file %s holds no PEM certificate", g.ca)
		}
		tlsConf.RootCAs = pool
	}
	timeout := 2 * time.Minute
	if g.timeout > 0 {
		timeout = g.timeout
	}
	c := client.New(g.addr, &http.Client{Timeout: timeout,
		Transport: &http.Transport{TLSClientConfig: tlsConf, Proxy: nil}})
	token := os.Getenv("STRONGROOM_TOKEN")
	if token == "" {
		if b, err := os.ReadFile(tokenPath()); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	return c.WithToken(token), nil
}

// certificateRefused says whether err is a refused server certificate
// (by the CA check or the pin), so the message can point at --ca and
// --fingerprint.
func certificateRefused(err error) bool {
	var ce *tls.CertificateVerificationError
	var pe *pinError
	var he x509.HostnameError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	return errors.As(err, &ce) || errors.As(err, &pe) || errors.As(err, &he) || errors.As(err, &ua) || errors.As(err, &ci)
}

// configDir is $STRONGROOM_CONFIG, or the user's config dir + /strongroom.
func configDir() string {
	if d := os.Getenv("STRONGROOM_CONFIG"); d != "" {
		return d
	}
	d, err := os.UserConfigDir()
	if err != nil {
		d = "."
	}
	return filepath.Join(d, "strongroom")
}

func tokenPath() string { return filepath.Join(configDir(), "token") }

func saveToken(token string) error {
	if err := os.MkdirAll(configDir(), 0o700); err != nil {
		return err
	}
	tmp := tokenPath() + ".tmp"
	if err := os.WriteFile(tmp, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, tokenPath())
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// printJSON prints v as indented JSON.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printAnswer prints an answer of the server as it sends it: compact JSON
// and a newline.
func printAnswer(v any) error { return json.NewEncoder(os.Stdout).Encode(v) }

// printSecretAnswer prints an answer holding a secret from a buffer that
// is wiped afterwards (encoding/json's own buffers cannot be).
func printSecretAnswer(v interface{ AppendJSON([]byte) ([]byte, error) }) error {
	buf, err := v.AppendJSON(nil)
	defer wipe(buf)
	if err != nil {
		return err
	}
	if _, err = os.Stdout.Write(buf); err != nil {
		return err
	}
	_, err = os.Stdout.Write([]byte{'\n'})
	return err
}

// writeSecretLine writes the parts (labels and secrets) as one line from a
// buffer of its own, wiped afterwards: fmt's buffers cannot be.
func writeSecretLine(w io.Writer, parts ...[]byte) error {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	for _, p := range parts {
		buf = append(buf, p...)
	}
	buf = append(buf, '\n')
	defer wipe(buf)
	_, err := w.Write(buf)
	return err
}
