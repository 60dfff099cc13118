package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"strongroom/api"
	"strongroom/internal/notify"
	"strongroom/vault"
)

// notifyFlags are the server's outlets: e-mail, webhooks, syslog, metrics and
// the log's format.
type notifyFlags struct {
	smtpURL, smtpPassFile, smtpFrom, smtpCAFile, publicURL, mailOff string
	webhookURL, webhookSecretFile, metricsListen, logFormat         string
	webhookEvents, syslogURL, syslogCAFile                          string
	metricsTokenFile                                                string
	defaultURL                                                      bool // no --public-url: the listener's address

	smtp    *notify.SMTPServer
	off     []notify.Kind
	pass    []byte
	roots   *x509.CertPool
	hookURL *url.URL
	secret  []byte
	syslog  *notify.SyslogServer
	sysRoot *x509.CertPool
	mtoken  []byte // --metrics-token-file's token
	// reminders are the provider's daily reminders (with --smtp-url).
	reminders *notify.Reminders
	// remindersAt is --reminders-at; remindHour and remindMinute it parsed.
	remindersAt              string
	remindHour, remindMinute int
}

func (n *notifyFlags) register(f *pflag.FlagSet) {
	f.StringVar(&n.metricsListen, "metrics-listen", "", "serve GET /metrics (Prometheus) on this address, such as 127.0.0.1:9464, apart from the vault's own listener")
	f.StringVar(&n.metricsTokenFile, "metrics-token-file", "", "serve GET /metrics on the vault's own listener too, to requests with \"Authorization: Bearer TOKEN\" only, TOKEN being this file's content (at least 32 characters); --metrics-listen then asks for it too")
	f.StringVar(&n.logFormat, "log-format", "json", "the server log's format: json or text")
	f.StringVar(&n.smtpURL, "smtp-url", "", "send e-mail through this SMTP submission server: smtp://USER@HOST:587 (STARTTLS) or smtps://USER@HOST:465; plain SMTP only to a relay on loopback")
	f.StringVar(&n.smtpPassFile, "smtp-password-file", "", "file holding the SMTP password (for the user in --smtp-url)")
	f.StringVar(&n.smtpFrom, "smtp-from", "", "the From address of the vault's e-mail (required with --smtp-url)")
	f.StringVar(&n.smtpCAFile, "smtp-ca-file", "", "PEM certificates to trust for the SMTP server instead of the system's")
	f.StringVar(&n.publicURL, "public-url", "", "the vault's address as people reach it, for links in messages (default https://LISTEN)")
	f.StringVar(&n.mailOff, "mail-off", "", "kinds of e-mail this server never sends, comma-separated, whatever the council's settings (strongroom notify settings): "+notify.KindList())
	f.StringVar(&n.webhookURL, "webhook-url", "", "POST each audit entry, signed (Standard Webhooks), to this https:// URL (http:// only to loopback)")
	f.StringVar(&n.webhookEvents, "webhook-events", "all", "which entries the webhook gets: all, or incidents")
	f.StringVar(&n.syslogURL, "syslog-url", "", "send each audit entry to a SIEM as RFC 5424 syslog over TLS: tls://HOST:6514 (tcp://HOST:PORT only to loopback)")
	f.StringVar(&n.syslogCAFile, "syslog-ca-file", "", "PEM certificates to trust for the syslog collector instead of the system's")
	f.StringVar(&n.webhookSecretFile, "webhook-secret-file", "", "file holding the webhook signing secret (whsec_BASE64 or at least 24 bytes)")
	f.StringVar(&n.remindersAt, "reminders-at", "08:00", "the time of day (UK time, 24-hour HH:MM) the IT provider's daily reminders are e-mailed")
}

// check validates the flags and reads their files; every problem is a
// usage error naming the flag, quoting nothing from the files.
func (n *notifyFlags) check(listen string) error {
	n.defaultURL = n.publicURL == ""
	if n.logFormat != "json" && n.logFormat != "text" {
		return usagef("--log-format must be json or text")
	}
	if t, err := time.Parse("15:04", n.remindersAt); err != nil || len(n.remindersAt) != 5 {
		return usagef("--reminders-at must be a time of day as HH:MM, such as 08:00")
	} else {
		n.remindHour, n.remindMinute = t.Hour(), t.Minute()
	}
	if n.metricsListen != "" {
		if _, _, err := net.SplitHostPort(n.metricsListen); err != nil {
			return usagef("--metrics-listen must be HOST:PORT, such as 127.0.0.1:9464")
		}
	}
	if n.metricsTokenFile != "" {
		b, err := os.ReadFile(n.metricsTokenFile)
		if err != nil {
			return usagef("--metrics-token-file cannot be read")
		}
		if n.mtoken, err = api.ParseMetricsToken(b); err != nil {
			return usagef("--metrics-token-file must hold at least %d visible characters with no spaces, such as the output of: openssl rand -hex 32", api.MinMetricsToken)
		}
	}
	if n.publicURL == "" {
		n.publicURL = "https://" + listen // checked here, and made the bound address in start
	}
	if u, err := url.Parse(n.publicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return usagef("--public-url must be an https:// address, such as https://vault.example-parish.gov.uk")
	}
	n.publicURL = strings.TrimSuffix(n.publicURL, "/")
	off, err := notify.ParseKinds(n.mailOff)
	if err != nil {
		return usagef("--mail-off: the kinds are %s", notify.KindList())
	}
	n.off = off
	if err := n.checkSMTP(); err != nil {
		return err
	}
	if err := n.checkSyslog(); err != nil {
		return err
	}
	return n.checkWebhook()
}

func (n *notifyFlags) checkSyslog() error {
	if n.syslogURL == "" {
		if n.syslogCAFile != "" {
			return usagef("--syslog-ca-file needs --syslog-url")
		}
		return nil
	}
	s, err := notify.ParseSyslogURL(n.syslogURL)
	if err != nil {
		return usagef("--syslog-url must be tls://HOST[:PORT] (tcp://HOST:PORT only to 127.0.0.1, ::1 or localhost)")
	}
	if n.syslogCAFile != "" {
		roots, err := readRoots(n.syslogCAFile)
		if err != nil {
			return usagef("--syslog-ca-file must be a readable PEM file of certificates")
		}
		n.sysRoot = roots
	}
	n.syslog = s
	return nil
}

// readRoots reads a PEM file of certificates to trust.
func readRoots(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	roots := x509.NewCertPool()
	if err != nil || !roots.AppendCertsFromPEM(b) {
		return nil, errors.New("no certificates")
	}
	return roots, nil
}

func (n *notifyFlags) checkSMTP() error {
	if n.smtpURL == "" {
		if n.smtpPassFile != "" || n.smtpFrom != "" || n.smtpCAFile != "" {
			return usagef("--smtp-password-file, --smtp-from and --smtp-ca-file need --smtp-url")
		}
		return nil
	}
	s, err := notify.ParseSMTPURL(n.smtpURL)
	if err != nil {
		return usagef("--smtp-url must be smtp://USER@HOST:PORT or smtps://USER@HOST:PORT, with no password in it")
	}
	if _, err := vault.ParseEmail("smtp-from", n.smtpFrom); err != nil || n.smtpFrom == "" {
		return usagef("--smtp-from must be a plain e-mail address, such as strongroom@example-parish.gov.uk")
	}
	if (s.User != "") != (n.smtpPassFile != "") {
		return usagef("give a user in --smtp-url and --smtp-password-file together, or neither")
	}
	if n.smtpPassFile != "" {
		b, err := os.ReadFile(n.smtpPassFile)
		if err != nil {
			return usagef("--smtp-password-file cannot be read")
		}
		n.pass = bytes.TrimRight(b, "\r\n")
		if len(n.pass) == 0 {
			return usagef("--smtp-password-file is empty")
		}
	}
	if n.smtpCAFile != "" {
		roots, err := readRoots(n.smtpCAFile)
		if err != nil {
			return usagef("--smtp-ca-file must be a readable PEM file of certificates")
		}
		n.roots = roots
	}
	n.smtp = s
	return nil
}

func (n *notifyFlags) checkWebhook() error {
	if n.webhookURL == "" {
		if n.webhookSecretFile != "" {
			return usagef("--webhook-secret-file needs --webhook-url")
		}
		return nil
	}
	if n.webhookEvents != "all" && n.webhookEvents != "incidents" {
		return usagef("--webhook-events must be all or incidents")
	}
	u, err := notify.ParseWebhookURL(n.webhookURL)
	if err != nil {
		return usagef("--webhook-url must be https://HOST/PATH (http:// only to 127.0.0.1, ::1 or localhost)")
	}
	if n.webhookSecretFile == "" {
		return usagef("--webhook-url needs --webhook-secret-file")
	}
	b, err := os.ReadFile(n.webhookSecretFile)
	if err != nil {
		return usagef("--webhook-secret-file cannot be read")
	}
	secret, err := notify.ParseWebhookSecret(bytes.TrimRight(b, "\r\n"))
	if err != nil {
		return usagef("--webhook-secret-file must hold whsec_ and base64, or at least 24 bytes")
	}
	n.hookURL, n.secret = u, secret
	return nil
}

// logger is the server's structured log (log/slog), JSON or text.
func (n *notifyFlags) logger() *slog.Logger {
	if n.logFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

// start begins delivery (each destination's runner, and the metrics'
// incident counter) and the metrics listener, until ctx ends; it returns
// the API's options.
func (n *notifyFlags) start(ctx context.Context, v *vault.Vault, m *api.Metrics, log *slog.Logger, addr string) (api.Options, error) {
	if n.defaultURL {
		n.publicURL = "https://" + addr
	}
	rs, err := n.runners(ctx, v, log)
	if err != nil {
		return api.Options{}, err
	}
	statuses := func() []notify.Status {
		out := make([]notify.Status, 0, len(rs)+1)
		for _, r := range rs {
			out = append(out, r.Status())
		}
		if n.reminders != nil {
			out = append(out, n.reminders.Status())
		}
		return out
	}
	for _, r := range rs {
		go r.Run(ctx)
	}
	if n.reminders != nil {
		go n.reminders.Run(ctx)
	}
	m.Attach(v, statuses)
	if n.metricsListen != "" || n.mtoken != nil {
		sub, err := v.Subscriber("metrics")
		if err != nil {
			return api.Options{}, err
		}
		// Incidents counted since this server started: a counter, reset
		// at restart as Prometheus expects.
		if err := sub.Restart(ctx); err != nil {
			return api.Options{}, err
		}
		go (&notify.Runner{Name: "metrics", Source: sub, Dest: m, Log: log}).Run(ctx)
	}
	if n.metricsListen != "" {
		ln, err := net.Listen("tcp", n.metricsListen)
		if err != nil {
			return api.Options{}, fmt.Errorf("--metrics-listen: %v", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Protected(n.mtoken)) // with a token given, this listener asks for it too
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go srv.Serve(ln)
		go func() { <-ctx.Done(); srv.Close() }()
		fmt.Printf("strongroom: metrics on http://%s/metrics\n", ln.Addr())
	}
	return api.Options{Logger: log, Metrics: m, MetricsToken: n.mtoken, Deliveries: statuses, MailOff: n.off, PublicURL: n.publicURL}, nil
}

// people is the vault as the mailer sees it.
type people struct{ v *vault.Vault }

func (p people) Contacts(ctx context.Context) ([]vault.Contact, error) { return p.v.Contacts(ctx) }
func (p people) Sealed() bool                                          { return p.v.Sealed() }
func (p people) MailOff(ctx context.Context) ([]string, error)         { return p.v.MailOff(ctx) }
func (p people) Requester(ctx context.Context, id string) (string, string, error) {
	return p.v.Requester(ctx, id)
}
func (p people) Deciders(ctx context.Context, credID, requesterID string) ([]string, error) {
	return p.v.Deciders(ctx, credID, requesterID)
}

// runners makes one delivery runner per configured destination, each on
// its own named subscriber, started at the log's head the first time.
func (n *notifyFlags) runners(ctx context.Context, v *vault.Vault, log *slog.Logger) ([]*notify.Runner, error) {
	var out []*notify.Runner
	add := func(name string, d notify.Destination) error {
		sub, err := v.Subscriber(name)
		if err != nil {
			return err
		}
		if started, err := sub.StartAtHead(ctx); err != nil {
			return err
		} else if started {
			log.Info("delivery set up: sending what happens from now on", "destination", name)
		}
		out = append(out, &notify.Runner{Name: name, Source: sub, Dest: d, Log: log})
		return nil
	}
	if n.smtp != nil {
		var tc *tls.Config
		if n.roots != nil {
			tc = &tls.Config{RootCAs: n.roots, MinVersion: tls.VersionTLS12}
		}
		council := func() string {
			st, err := v.Status(context.Background())
			if err != nil {
				return ""
			}
			return st.Council
		}
		mailer := func() *notify.Mailer {
			return &notify.Mailer{Server: n.smtp, Password: n.pass, From: n.smtpFrom, TLS: tc, People: people{v}, Log: log,
				Composer: &notify.Composer{BaseURL: n.publicURL, Off: n.off}, Council: council}
		}
		if err := add("mail", mailer()); err != nil {
			return nil, err
		}
		// The weekly digest has a mailer and a subscriber of its own.
		if err := add("digest", &notify.Digest{Mailer: mailer(), Checkpoint: v.LatestCheckpoint}); err != nil {
			return nil, err
		}
		out[len(out)-1].Batch, out[len(out)-1].Poll = 10000, time.Minute
		n.reminders = &notify.Reminders{Mailer: mailer(), Vault: v, Log: log, Due: notify.ReminderDueAt(n.remindHour, n.remindMinute)}
	}
	if n.syslog != nil {
		var tc *tls.Config
		if n.sysRoot != nil {
			tc = &tls.Config{RootCAs: n.sysRoot, MinVersion: tls.VersionTLS12}
		}
		if err := add("syslog", &notify.Syslog{Server: n.syslog, TLS: tc}); err != nil {
			return nil, err
		}
	}
	if n.hookURL != nil {
		if err := add("webhook", &notify.Webhook{URL: n.hookURL, Secret: n.secret, BaseURL: n.publicURL, IncidentsOnly: n.webhookEvents == "incidents"}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
