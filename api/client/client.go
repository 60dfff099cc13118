package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"strongroom/api/wire"
)

// APIError is a refusal or failure the server reported: the HTTP status
// and the server's one-line message. Callers branch on Status.
type APIError struct {
	Status  int
	Message string
	// Field names the input at fault, for an invalid input ("" otherwise).
	Field string
	// Reauth says the session must re-authenticate (Reauthenticate) before
	// the request is allowed, or that a re-authentication was refused.
	Reauth    bool
	RequestID string
	// Code is the OAuth error code of an RFC 8628 answer of the device
	// token endpoint (authorization_pending, slow_down, access_denied,
	// expired_token, invalid_grant); "" for any other answer.
	Code string
}

// NeedsReauth says whether err is the server asking for a fresh
// re-authentication of the session (an *APIError with Reauth set).
func NeedsReauth(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Reauth
}

func (e *APIError) Error() string { return e.Message }

// TransportError is a request that got no answer: the server could not be
// reached, or its certificate was refused (errors.As finds a
// *tls.CertificateVerificationError in Err then).
type TransportError struct {
	Base string
	Err  error
}

func (e *TransportError) Error() string { return fmt.Sprintf("cannot reach %s: %v", e.Base, e.Err) }

func (e *TransportError) Unwrap() error { return e.Err }

// MaxAnswer bounds an answer read into memory; exports and backups, which
// may be larger, are streamed.
const MaxAnswer = 256 << 20

// Client calls one vault. It is safe for concurrent use.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// New returns a client for the vault at base (such as
// https://127.0.0.1:8443) that sends its requests with hc, which carries
// the TLS trust (a CA or a pinned certificate).
func New(base string, hc *http.Client) *Client {
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// WithToken returns a client that sends the session token.
func (c *Client) WithToken(token string) *Client {
	d := *c
	d.token = token
	return &d
}

// do sends in as JSON (if non-nil) and decodes a JSON answer into out (if
// non-nil). The answer's bytes are wiped once decoded: an answer may hold
// a secret, and the Secret fields of out hold their own copies.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeAnswer(resp, out)
}

// decodeAnswer reads a successful answer and decodes it into out (if
// non-nil), then wipes the bytes read.
func decodeAnswer(resp *http.Response, out any) error {
	raw, err := readAnswer(resp)
	defer wipe(raw)
	if err != nil {
		return err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("unexpected answer from the server: %v", err)
		}
	}
	return nil
}

// stream sends a GET and returns the body of a successful answer, for the
// caller to copy and close.
func (c *Client) stream(ctx context.Context, path string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// send makes the request; an error status becomes an *APIError with the
// server's one-line message.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
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
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
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
		return nil, &TransportError{Base: c.base, Err: err}
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var eb wire.Error
		if json.Unmarshal(raw, &eb) != nil || eb.Error == "" {
			eb.Error = resp.Status
		}
		ae := &APIError{Status: resp.StatusCode, Message: eb.Error, Field: eb.Field, Reauth: eb.Reauth, RequestID: eb.RequestID}
		var de wire.DeviceTokenError
		if json.Unmarshal(raw, &de) == nil && de.Description != "" {
			ae.Code, ae.Message = de.Error, de.Description
		}
		return nil, ae
	}
	return resp, nil
}

// readAnswer reads a bounded answer into one buffer, sized from
// Content-Length when the server sent it; when it must grow, the old
// buffer is wiped, so no partial copy of a secret is left behind.
func readAnswer(resp *http.Response) ([]byte, error) {
	size := 4 << 10
	if n := resp.ContentLength; n > 0 && n <= MaxAnswer {
		size = int(n) + 1 // +1: EOF is seen without growing
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), MaxAnswer+1))
			copy(grown, buf)
			wipe(buf)
			buf = grown
		}
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > MaxAnswer:
			return buf, fmt.Errorf("the server's answer is larger than %d MiB", MaxAnswer>>20)
		case errors.Is(err, io.EOF):
			return buf, nil
		case err != nil:
			return buf, err
		}
	}
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// pathName escapes a name for one path segment.
func pathName(name string) string { return url.PathEscape(name) }
