package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"

	"strongroom/audit"
	"strongroom/vault"
)

// People gives the notifiers everyone's contact details, and what else
// they need of the vault (*vault.Vault has each method). Each but Sealed
// reads sealed records: it fails while sealed.
type People interface {
	Contacts(ctx context.Context) ([]vault.Contact, error)
	Sealed() bool
	// MailOff is the kinds the council switched off (vault.MailOff).
	MailOff(ctx context.Context) ([]string, error)
	// Requester is the account id of whoever made a request, and the
	// reason its approver gave ("" if none).
	Requester(ctx context.Context, requestID string) (requesterID, reason string, err error)
	// Deciders are the account ids of those who may decide a request
	// by requesterID for a credential (the vault's own rule).
	Deciders(ctx context.Context, credID, requesterID string) ([]string, error)
}

// Mailer is the e-mail destination: it composes the messages a batch
// makes (Composer) and submits them, one per recipient, to the SMTP
// server.
type Mailer struct {
	Server   *SMTPServer
	Password []byte // for AUTH; never logged or shown
	From     string
	// TLS, if set, is used for STARTTLS and implicit TLS (tests and
	// --smtp-ca-file give their own roots); ServerName is set from Host.
	TLS      *tls.Config
	Composer *Composer
	// Council, if set, names the council in each batch's messages.
	Council func() string
	People  People
	Log     *slog.Logger

	mu sync.Mutex
	// contacts is the last directory read while unsealed: while the
	// vault is sealed the mailer still reaches people it knew of.
	contacts   []vault.Contact
	councilOff []Kind
	// done holds the keys of the messages of the batch being tried that
	// were sent or refused for good, so a retry sends only the rest.
	done  map[string]bool
	batch uint64
	// dial, if set, replaces the network dialer (tests reach a host name
	// on 127.0.0.1 with it).
	dial mail.DialContextFunc
}

// relevant reports whether any entry of the batch could make a message,
// so a batch that makes none is acknowledged even while sealed.
func relevant(batch []*audit.Entry) bool {
	for _, e := range batch {
		switch {
		case audit.IsIncident(e), (e.Action == audit.BackupCreate || e.Action == audit.BackupCopy) && e.Outcome == audit.OutcomeError,
			e.Action == audit.SysMailSetting && e.Outcome == audit.OutcomeOK:
			return true
		case e.Outcome == audit.OutcomeOK && (e.Action == audit.RequestCreate || e.Action == audit.RequestApprove ||
			e.Action == audit.RequestDeny || e.Action == audit.EscrowRecover || e.Action == audit.EscrowRekey || e.Action == audit.EscrowCheck ||
			e.Action == audit.CredHandover):
			return true
		}
	}
	return false
}

func (m *Mailer) people(ctx context.Context) ([]vault.Contact, error) {
	m.mu.Lock()
	cached := m.contacts
	m.mu.Unlock()
	if m.People.Sealed() {
		if cached == nil {
			return nil, ErrNotReady
		}
		return cached, nil
	}
	ps, err := m.People.Contacts(ctx)
	if err != nil {
		if m.People.Sealed() && cached != nil { // sealed meanwhile
			return cached, nil
		}
		if m.People.Sealed() {
			return nil, ErrNotReady
		}
		return nil, err
	}
	off, err := m.People.MailOff(ctx)
	if err != nil {
		// Switches that cannot be read (sealed meanwhile, or damaged)
		// are all on: an unwanted message is better than a lost incident.
		off = nil
	}
	m.mu.Lock()
	m.contacts = ps
	m.councilOff = nil
	for _, k := range off {
		m.councilOff = append(m.councilOff, Kind(k))
	}
	m.mu.Unlock()
	return ps, nil
}

// notReady is err, or ErrNotReady if the vault sealed meanwhile.
func (m *Mailer) notReady(err error) error {
	if m.People.Sealed() {
		return ErrNotReady
	}
	return &deliveryError{"the vault's records could not be read", err}
}

// facts reads what the batch's request and decision messages need of the
// vault: who may decide each new request, and who made each decided one.
func (m *Mailer) facts(ctx context.Context, batch []*audit.Entry) (Facts, error) {
	f := Facts{Deciders: map[uint64][]string{}, Requester: map[uint64]string{}, Reason: map[uint64]string{}}
	for _, e := range batch {
		if e.Outcome != audit.OutcomeOK {
			continue
		}
		switch {
		case e.Action == audit.RequestCreate && !m.Composer.IsOff(KindRequests):
			ids, err := m.People.Deciders(ctx, e.Target.ID, e.Actor.ID)
			if err != nil {
				return f, m.notReady(err)
			}
			f.Deciders[e.Seq] = ids
		case (e.Action == audit.RequestApprove || e.Action == audit.RequestDeny) && !m.Composer.IsOff(KindDecisions):
			id, why, err := m.People.Requester(ctx, e.Target.ID)
			if err != nil {
				return f, m.notReady(err)
			}
			f.Requester[e.Seq], f.Reason[e.Seq] = id, why
		}
	}
	return f, nil
}

// Deliver implements Destination.
func (m *Mailer) Deliver(ctx context.Context, batch []*audit.Entry) (int, error) {
	if !relevant(batch) {
		// Learn the directory at the first chance (the unseal's own entry
		// after a restart), so an incident that seals the vault before
		// anything relevant happened still has someone to go to.
		m.mu.Lock()
		cold := m.contacts == nil
		m.mu.Unlock()
		if cold && !m.People.Sealed() {
			_, _ = m.people(ctx) // a failure is tried again with the next batch
		}
		return 0, nil
	}
	people, err := m.directory(ctx)
	if err != nil {
		return 0, err
	}
	facts, ferr := m.facts(ctx, batch)
	if ferr != nil && !errors.Is(ferr, ErrNotReady) {
		return 0, ferr
	}
	msgs, err := m.Composer.Compose(batch, people, facts)
	if err != nil {
		return 0, err
	}
	if ferr != nil {
		// Sealed: who may decide a request, and who made one, are in
		// sealed records, so those messages have no recipient yet. What
		// needs neither (an incident, above all the vault's own seal
		// after a failed state check) goes now; the batch then waits
		// for the unseal, and a retry of it does not send again what
		// went (unless the batch grew meanwhile: then an incident may
		// be sent twice, never lost).
		refused, err := m.send(ctx, batch[0].Seq, msgs)
		if err != nil {
			return refused, err
		}
		return refused, ErrNotReady
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	return m.send(ctx, batch[0].Seq, msgs)
}

// directory returns everyone's contact details, and brings the council's
// name up to date.
func (m *Mailer) directory(ctx context.Context) ([]vault.Contact, error) {
	people, err := m.people(ctx)
	if err != nil {
		return nil, err
	}
	if m.Council != nil {
		m.Composer.Council = m.Council()
	}
	m.mu.Lock()
	m.Composer.CouncilOff = m.councilOff
	m.mu.Unlock()
	return people, nil
}

// send sends the messages of the batch that starts at first, but those
// already sent or refused for good in an earlier try of the same batch.
func (m *Mailer) send(ctx context.Context, first uint64, msgs []Message) (int, error) {
	m.mu.Lock()
	if m.batch != first || m.done == nil {
		m.batch, m.done = first, map[string]bool{}
	}
	m.mu.Unlock()
	var todo []Message
	for _, msg := range msgs {
		if !m.isDone(msg.Key) {
			todo = append(todo, msg)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	c, err := m.client()
	if err != nil {
		return 0, &deliveryError{"the SMTP settings are not usable", err}
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.DialWithContext(dctx); err != nil {
		return 0, &deliveryError{"could not connect to, or sign in to, the SMTP server", err}
	}
	defer c.Close()
	refused := 0
	for _, msg := range todo {
		mm, err := m.message(msg)
		if err != nil {
			return refused, &deliveryError{"could not build a message", err}
		}
		err = c.Send(mm)
		var se *mail.SendError
		switch {
		case err == nil:
		case errors.As(err, &se) && se.Reason == mail.ErrSMTPRcptTo && !se.IsTemp():
			refused++
			m.Log.Warn("the SMTP server refused a recipient for good; the message is dropped",
				"to", msg.To.Name, "code", se.ErrorCode(), "message", msg.Key)
		default:
			return refused, &deliveryError{"the SMTP server did not accept a message", err}
		}
		m.markDone(msg.Key)
	}
	return refused, nil
}

func (m *Mailer) isDone(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.done[key]
}

func (m *Mailer) markDone(key string) {
	m.mu.Lock()
	m.done[key] = true
	m.mu.Unlock()
}

func (m *Mailer) message(msg Message) (*mail.Msg, error) {
	mm := mail.NewMsg()
	if err := mm.From(m.From); err != nil {
		return nil, err
	}
	if err := mm.AddToFormat(msg.To.Name, msg.To.Email); err != nil {
		return nil, err
	}
	mm.Subject(msg.Subject)
	mm.SetDate()
	mm.SetMessageID()
	mm.SetGenHeader("Auto-Submitted", "auto-generated")
	mm.SetBodyString(mail.TypeTextPlain, msg.Text)
	mm.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	for _, a := range msg.Attachments {
		if err := mm.AttachReader(a.Name, bytes.NewReader(a.Data), mail.WithFileContentType(mail.TypeTextPlain)); err != nil {
			return nil, err
		}
	}
	return mm, nil
}

func (m *Mailer) client() (*mail.Client, error) {
	s := m.Server
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if m.TLS != nil {
		tc = m.TLS.Clone()
	}
	tc.ServerName = s.Host
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTLSConfig(tc), mail.WithTimeout(30 * time.Second), mail.WithHELO("strongroom")}
	switch {
	case s.ImplicitTLS:
		opts = append(opts, mail.WithSSL())
	case s.Loopback:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.User != "" {
		auth := map[bool]mail.SMTPAuthType{false: mail.SMTPAuthPlain, true: mail.SMTPAuthLogin}[s.AuthLogin]
		if s.Loopback && !s.ImplicitTLS {
			// a local relay may not offer STARTTLS; the password stays on this machine
			auth = map[bool]mail.SMTPAuthType{false: mail.SMTPAuthPlainNoEnc, true: mail.SMTPAuthLoginNoEnc}[s.AuthLogin]
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(s.User), mail.WithPassword(string(m.Password)))
	}
	if m.dial != nil {
		opts = append(opts, mail.WithDialContextFunc(m.dial))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return c, nil
}
