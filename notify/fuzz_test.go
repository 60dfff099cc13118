package notify

import (
	"strings"
	"testing"
)

func FuzzParseSMTPURL(f *testing.F) {
	for _, s := range []string{"smtp://user@smtp.office365.com:587", "smtps://u@smtp.gmail.com:465", "smtp://127.0.0.1:25",
		"smtp://u:pw@host", "smtp://host/path", "smtp://u@host?auth=login", "smtp://[::1]:25", "smtp://%zz@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := ParseSMTPURL(s)
		if err != nil {
			if err != ErrSMTPURL {
				t.Fatalf("error %v", err)
			}
			return
		}
		if srv.Host == "" || srv.Port < 1 || srv.Port > 65535 || strings.ContainsAny(srv.User, "\r\n") {
			t.Fatalf("accepted %q as %+v", s, srv)
		}
	})
}

func FuzzParseWebhookURL(f *testing.F) {
	for _, s := range []string{"https://hooks.slack.com/services/T/B/X", "http://127.0.0.1:9/x", "http://example.org/", "https://u:p@h/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseWebhookURL(s)
		if err != nil {
			return
		}
		if u.User != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			t.Fatalf("accepted %q", s)
		}
	})
}
