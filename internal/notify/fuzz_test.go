package notify

import (
	"strings"
	"testing"

	"github.com/leodido/go-syslog/v4/rfc5424"
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

func TestParseSMTPURL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want *SMTPServer
	}{
		{"smtp://strongroom@parish.gov.uk@smtp.office365.com:587", &SMTPServer{Host: "smtp.office365.com", Port: 587, User: "strongroom@parish.gov.uk"}},
		{"smtps://u%40x.org@smtp.gmail.com", &SMTPServer{Host: "smtp.gmail.com", Port: 465, User: "u@x.org", ImplicitTLS: true}},
		{"smtp://127.0.0.1:25", &SMTPServer{Host: "127.0.0.1", Port: 25, Loopback: true}},
		{"smtp://u@h.example?auth=login", &SMTPServer{Host: "h.example", Port: 587, User: "u", AuthLogin: true}},
		{"smtp://u:secretpw@h.example", nil}, {"http://h.example", nil}, {"smtp://h.example/x", nil},
		{"smtp://h.example?auth=cram", nil}, {"smtp://h.example:0", nil}, {"smtp://", nil},
	} {
		got, err := ParseSMTPURL(c.in)
		switch {
		case c.want == nil && err == nil:
			t.Errorf("%s accepted", c.in)
		case c.want == nil && strings.Contains(err.Error(), "secretpw"):
			t.Errorf("error quotes the password")
		case c.want != nil && (err != nil || *got != *c.want):
			t.Errorf("%s: %+v %v", c.in, got, err)
		}
	}
}

func FuzzParseSyslogURL(f *testing.F) {
	for _, s := range []string{"tls://siem.example.org:6514", "tls://10.0.0.1", "tcp://127.0.0.1:514", "tcp://siem.example.org:514",
		"tls://u:p@h", "tls://h/x?y", "tls://[::1]:6514", "tls://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := ParseSyslogURL(s)
		if err != nil {
			if err != ErrSyslogURL {
				t.Fatalf("error %v", err)
			}
			return
		}
		if srv.Host == "" || srv.Port < 1 || srv.Port > 65535 || (!srv.TLS && !isLoopback(srv.Host)) {
			t.Fatalf("accepted %q as %+v", s, srv)
		}
	})
}

// FuzzSyslogMessage: whatever an entry's fields hold, the message is
// valid RFC 5424 and an independent parser reads the same values back.
func FuzzSyslogMessage(f *testing.F) {
	e := syslogEntry()
	f.Add(e.Actor.Name, e.Target.Name, e.Reason, e.Client.IP, "host")
	f.Add("", "]]\\\"", "\xff\x00\n", "::1", "")
	f.Fuzz(func(t *testing.T, actor, target, reason, ip, host string) {
		e := syslogEntry()
		e.Actor.Name, e.Target.Name, e.Reason, e.Client.IP = actor, target, reason, ip
		msg, err := SyslogMessage(e, host)
		if err != nil {
			t.Fatalf("%v", err)
		}
		m, err := rfc5424.NewParser().Parse([]byte(msg))
		if err != nil {
			t.Fatalf("%v: %q", err, msg)
		}
		sd := (*m.(*rfc5424.SyslogMessage).StructuredData)[SyslogSDID]
		for name, v := range map[string]string{"actor": actor, "target": target, "reason": reason, "client_ip": ip} {
			if v = strings.ToValidUTF8(v, "\uFFFD"); v == "" {
				v = "-"
			}
			if sd[name] != v {
				t.Fatalf("%s: wrote %q, read %q", name, v, sd[name])
			}
		}
	})
}

// ParseKinds (--mail-off) accepts only the kinds there are, and what it
// accepts, joined again, parses to the same.
func FuzzParseKinds(f *testing.F) {
	for _, s := range []string{"", "incidents", "requests, seal", "digest,,contractors", "weather", "incidents,Incidents", " backup ,reviews", "compromised\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ks, err := ParseKinds(s)
		if err != nil {
			return
		}
		var names []string
		for _, k := range ks {
			if _, err := ParseKind(string(k)); err != nil {
				t.Fatalf("accepted %q in %q", k, s)
			}
			names = append(names, string(k))
		}
		again, err := ParseKinds(strings.Join(names, ","))
		if err != nil || len(again) != len(ks) {
			t.Fatalf("%q: %v then %v, %v", s, ks, again, err)
		}
	})
}
