package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// apiError is a refusal or failure reported by the server.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

type client struct {
	base  string
	http  *http.Client
	token string
}

func newClient(g *globals) (*client, error) {
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
				return errors.New("server sent no certificate")
			}
			got := sha256.Sum256(raw[0])
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return errors.New("server certificate does not match the pinned fingerprint")
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
	c := &client{base: strings.TrimRight(g.addr, "/"), http: &http.Client{Timeout: 2 * time.Minute,
		Transport: &http.Transport{TLSClientConfig: tlsConf, Proxy: nil}}}
	c.token = os.Getenv("STRONGROOM_TOKEN")
	if c.token == "" {
		if b, err := os.ReadFile(tokenPath()); err == nil {
			c.token = strings.TrimSpace(string(b))
		}
	}
	return c, nil
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

// maxAnswer bounds an answer read into memory; larger ones (audit exports,
// backups) are streamed with stream.
const maxAnswer = 256 << 20

// do sends a JSON request and decodes a JSON answer into out (if non-nil).
// It returns the raw body too, for callers that pass it through.
func (c *client) do(method, path string, in, out any) ([]byte, error) {
	resp, err := c.send(method, path, in)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxAnswer {
		return nil, fmt.Errorf("the server's answer is larger than %d MiB", maxAnswer>>20)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("unexpected answer from the server: %v", err)
		}
	}
	return raw, nil
}

// stream sends a request and copies a successful answer to w, however
// large (audit exports, backups).
func (c *client) stream(method, path string, w io.Writer) error {
	resp, err := c.send(method, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// send makes the request; an error status becomes an *apiError with the
// server's one-line message.
func (c *client) send(method, path string, in any) (*http.Response, error) {
	var body io.Reader
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return nil, err
		}
		body = bytes.NewReader(payload)
	}
	defer wipe(payload)
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "strongroom-cli/1")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if strings.Contains(err.Error(), "certificate") {
			return nil, fmt.Errorf("cannot verify the server's certificate (%v); pass --ca FILE or --fingerprint", err)
		}
		return nil, fmt.Errorf("cannot reach %s: %v", c.base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var eb struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &eb) != nil || eb.Error == "" {
			eb.Error = resp.Status
		}
		return nil, &apiError{status: resp.StatusCode, msg: eb.Error}
	}
	return resp, nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// call makes a client from the global flags and sends one request.
func call(g *globals, method, path string, in, out any) ([]byte, error) {
	c, err := newClient(g)
	if err != nil {
		return nil, err
	}
	return c.do(method, path, in, out)
}

// printRaw prints the server's JSON answer as it came, for --json.
func printRaw(raw []byte) error {
	_, err := os.Stdout.Write(append(raw, '\n'))
	return err
}
