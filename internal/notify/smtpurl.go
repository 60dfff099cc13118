package notify

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// SMTPServer is where mail is submitted, parsed from --smtp-url:
//
//	smtp://[USER@]HOST[:PORT][?auth=plain|login]   submission with STARTTLS (port 587)
//	smtps://[USER@]HOST[:PORT][?auth=plain|login]  implicit TLS (port 465)
//
// STARTTLS is required, except to a relay on loopback (a local Postfix),
// where it is used if offered. The password never goes in the URL (it
// comes from --smtp-password-file). With a user, AUTH PLAIN is the
// default; auth=login chooses AUTH LOGIN (Microsoft 365 offers both).
type SMTPServer struct {
	Host        string
	Port        int
	User        string
	AuthLogin   bool // AUTH LOGIN rather than AUTH PLAIN
	ImplicitTLS bool // smtps://
	Loopback    bool // the host is 127.0.0.0/8, ::1 or localhost
}

// ErrSMTPURL is the error ParseSMTPURL returns for every malformed URL;
// its message never quotes the input (it may hold a password by mistake).
var ErrSMTPURL = errors.New("notify: --smtp-url must be smtp://[user@]host[:port] or smtps://[user@]host[:port], with no password, path or other parameters (auth=plain or auth=login only)")

// ParseSMTPURL reads an --smtp-url.
func ParseSMTPURL(raw string) (*SMTPServer, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.Fragment != "" || u.Host == "" {
		return nil, ErrSMTPURL
	}
	s := &SMTPServer{ImplicitTLS: u.Scheme == "smtps", Host: u.Hostname(), Port: 587}
	if s.ImplicitTLS {
		s.Port = 465
	}
	if s.Host == "" || strings.ContainsAny(s.Host, " /\\@") {
		return nil, ErrSMTPURL
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, ErrSMTPURL
		}
		s.Port = n
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, ErrSMTPURL
		}
		s.User = u.User.Username()
		if s.User == "" || len(s.User) > 256 || strings.ContainsAny(s.User, "\x00\r\n") {
			return nil, ErrSMTPURL
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, ErrSMTPURL
	}
	for k, v := range q {
		if k != "auth" || len(v) != 1 || (v[0] != "plain" && v[0] != "login") {
			return nil, ErrSMTPURL
		}
		s.AuthLogin = v[0] == "login"
	}
	s.Loopback = isLoopback(s.Host)
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
