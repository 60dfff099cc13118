package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"strongroom/api/wire"
)

func TestErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   APIError
	}{
		{"refusal", 403, `{"error":"not permitted","request_id":"r1"}`, APIError{Status: 403, Message: "not permitted", RequestID: "r1"}},
		{"bad input", 400, `{"error":"limit must be 1 to 5000"}`, APIError{Status: 400, Message: "limit must be 1 to 5000"}},
		{"not JSON", 502, `<html>bad gateway</html>`, APIError{Status: 502, Message: "502 Bad Gateway"}},
		{"empty message", 409, `{"error":""}`, APIError{Status: 409, Message: "409 Conflict"}},
	}
	for _, tc := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		}))
		_, err := New(srv.URL, srv.Client()).Status(context.Background())
		var ae *APIError
		if !errors.As(err, &ae) || *ae != tc.want {
			t.Errorf("%s: %#v, want %#v", tc.name, err, tc.want)
		}
		srv.Close()
	}
}

func TestTransportErrors(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	// A client that does not trust the test certificate.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	err := New(srv.URL, hc).Seal(context.Background())
	var te *TransportError
	var ce *tls.CertificateVerificationError
	if !errors.As(err, &te) || !errors.As(err, &ce) {
		t.Fatalf("untrusted certificate: %#v", err)
	}
	srv.Close()
	err = New(srv.URL, srv.Client()).Seal(context.Background())
	if !errors.As(err, &te) || errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "cannot reach "+srv.URL) {
		t.Fatalf("closed server: %v", err)
	}
}

// TestPaging: AllCredentials follows Link rel="next" until there is none.
func TestPaging(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RawQuery)
		after, i := r.URL.Query().Get("after"), 0
		for i < len(names) && names[i] <= after {
			i++
		}
		end := min(i+2, len(names))
		if end < len(names) {
			w.Header().Set("Link", fmt.Sprintf(`</v1/creds?after=%s&limit=2&q=x>; rel="next"`, names[end-1]))
		}
		var items []string
		for _, n := range names[i:end] {
			items = append(items, `{"name":"`+n+`"}`)
		}
		io.WriteString(w, "["+strings.Join(items, ",")+"]")
	}))
	defer srv.Close()
	all, err := New(srv.URL, srv.Client()).AllCredentials(context.Background(), wire.ListOptions{Limit: 2, Query: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range all {
		got = append(got, c.Name)
	}
	if strings.Join(got, "") != "abcde" || strings.Join(asked, " ") != "limit=2&q=x after=b&limit=2&q=x after=d&limit=2&q=x" {
		t.Fatalf("got %v after asking %q", got, asked)
	}
}

func TestNextPage(t *testing.T) {
	cases := []struct {
		links []string
		want  *wire.ListOptions
	}{
		{nil, nil},
		{[]string{`</v1/creds?after=x%20y&limit=10>; rel="next"`}, &wire.ListOptions{After: "x y", Limit: 10}},
		{[]string{`</a>; rel="prev", </v1/creds?after=z>; rel="next"`}, &wire.ListOptions{After: "z"}},
		{[]string{`</v1/creds?after=z>; rel="prev"`}, nil},
	}
	for _, tc := range cases {
		got := nextPage(tc.links)
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.links, got, tc.want)
		}
	}
}

// TestSecretAnswer: a credential's secret arrives as bytes, and the answer
// is decoded however it is chunked.
func TestSecretAnswer(t *testing.T) {
	pw := strings.Repeat("pässword\\\"", 2000) // grows the read buffer several times
	body := `{"name":"n","password":"` + pw + `","notes":"a\nb"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/v1/creds/a%2Fb" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("asked %s with %q", r.URL.EscapedPath(), r.Header.Get("Authorization"))
		}
		for i := 0; i < len(body); i += 1000 {
			io.WriteString(w, body[i:min(i+1000, len(body))])
			w.(http.Flusher).Flush() // no Content-Length
		}
	}))
	defer srv.Close()
	cred, err := New(srv.URL, srv.Client()).WithToken("tok").GetCredential(context.Background(), "a/b", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(pw, `\"`, `"`)
	if cred.Name != "n" || string(cred.Password) != want || string(cred.Notes) != "a\nb" || cred.TOTPURI != nil {
		t.Fatalf("got %q %q %q", cred.Name, []byte(cred.Notes), []byte(cred.TOTPURI))
	}
}

// A re-authentication refusal carries the marker the CLI branches on, and
// Reauthenticate sends the password and code to POST /v1/auth/reauth.
func TestReauth(t *testing.T) {
	var got wire.ReauthRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/auth/reauth" && r.Method == "POST":
			if json.NewDecoder(r.Body).Decode(&got) != nil || r.Header.Get("Authorization") != "Bearer tok" {
				w.WriteHeader(400)
				return
			}
			w.WriteHeader(204)
		default:
			w.WriteHeader(403)
			json.NewEncoder(w).Encode(wire.Error{Error: "re-authenticate", Reauth: true, RequestID: "r2"})
		}
	}))
	defer srv.Close()
	c := New(srv.URL, srv.Client()).WithToken("tok")
	_, err := c.GetCredential(context.Background(), "Router", 0)
	var ae *APIError
	if !NeedsReauth(err) || !errors.As(err, &ae) || *ae != (APIError{Status: 403, Message: "re-authenticate", Reauth: true, RequestID: "r2"}) {
		t.Fatalf("%#v", err)
	}
	if NeedsReauth(&APIError{Status: 403, Message: "not permitted"}) || NeedsReauth(nil) {
		t.Fatal("a plain refusal is not a re-authentication")
	}
	if err := c.Reauthenticate(context.Background(), wire.ReauthRequest{Password: wire.Secret("pw here"), TOTP: "123456"}); err != nil {
		t.Fatal(err)
	}
	if string(got.Password) != "pw here" || got.TOTP != "123456" {
		t.Fatalf("sent %q %q", got.Password, got.TOTP)
	}
}
