package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"strongroom/audit"
)

// SyslogServer is where audit entries go for a SIEM, parsed from
// --syslog-url:
//
//	tls://HOST[:PORT]  RFC 5425: syslog over TLS (port 6514)
//	tcp://HOST:PORT    plain TCP, to a collector on loopback only
//
// Both use RFC 6587 octet-counting framing ("LEN SP MSG"), the framing
// RFC 5425 requires.
type SyslogServer struct {
	Host string
	Port int
	TLS  bool
}

// Addr is HOST:PORT.
func (s *SyslogServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// ErrSyslogURL is ParseSyslogURL's one error; it never quotes the input.
var ErrSyslogURL = errors.New("notify: --syslog-url must be tls://host[:port], or tcp://host:port to loopback only, with no user, path or parameters")

// ParseSyslogURL reads a --syslog-url.
func ParseSyslogURL(raw string) (*SyslogServer, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "tls" && u.Scheme != "tcp") || u.Opaque != "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Host == "" {
		return nil, ErrSyslogURL
	}
	s := &SyslogServer{Host: u.Hostname(), Port: 6514, TLS: u.Scheme == "tls"}
	if s.Host == "" || strings.ContainsAny(s.Host, " /\\@%") {
		return nil, ErrSyslogURL
	}
	switch p := u.Port(); {
	case p != "":
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, ErrSyslogURL
		}
		s.Port = n
	case !s.TLS:
		return nil, ErrSyslogURL // plain syslog has no standard port: say which
	}
	if !s.TLS && !isLoopback(s.Host) {
		return nil, ErrSyslogURL
	}
	return s, nil
}

// SyslogSDID is the structured-data element of every message. 32473 is
// the enterprise number RFC 5612 reserves for examples and private use;
// a SIEM matches on the whole SD-ID.
const SyslogSDID = "strongroom@32473"

// SyslogMessage formats one entry as an RFC 5424 message (without the
// octet-counting frame): facility authpriv (10), severity warning for an
// incident and informational otherwise, APP-NAME strongroom, MSGID the
// action, one SD element SyslogSDID with the export's fields (seq, hash,
// prev, time, actor, actor_role, action, target_kind, target, outcome,
// reason, client_ip, request_id, and incident for an incident; values
// escaped as RFC 5424 §6.3.3 says: `"`, `\` and `]`), then the same line
// of text as a webhook's. An entry holds no secret (package audit), so
// neither does the message.
func SyslogMessage(e *audit.Entry, hostname string) (string, error) {
	m := &rfc5424.SyslogMessage{}
	sev := uint8(6)
	if audit.IsIncident(e) {
		sev = 4
	}
	m.SetPriority(10*8 + sev)
	m.SetVersion(1)
	m.SetTimestamp(e.Time.UTC().Format(time.RFC3339Nano))
	m.SetHostname(printASCII(hostname, 255))
	m.SetAppname("strongroom")
	m.SetMsgID(printASCII(string(e.Action), 32))
	params := [][2]string{
		{"seq", strconv.FormatUint(e.Seq, 10)}, {"hash", e.Hash}, {"prev", e.Prev},
		{"time", e.Time.UTC().Format(audit.TimeFormat)},
		{"actor", e.Actor.Name}, {"actor_role", e.Actor.Role}, {"action", string(e.Action)},
		{"target_kind", e.Target.Kind}, {"target", e.Target.Name}, {"outcome", e.Outcome},
		{"reason", e.Reason}, {"client_ip", e.Client.IP}, {"request_id", e.RequestID},
	}
	if audit.IsIncident(e) {
		params = append(params, [2]string{"incident", string(audit.KindOf(e))})
	}
	for _, p := range params {
		// The builder takes a value escaped (§6.3.3), keeps it unescaped
		// and escapes it again when it writes the message; it drops an
		// empty or invalid value, so "-" stands for none and invalid
		// UTF-8 becomes U+FFFD.
		v := strings.ToValidUTF8(p[1], "\uFFFD")
		if v == "" {
			v = "-"
		}
		m.SetParameter(SyslogSDID, p[0], sdEscaper.Replace(v))
		if sd := m.StructuredData; sd == nil || (*sd)[SyslogSDID][p[0]] != v {
			return "", errors.New("notify: an audit entry's " + p[0] + " could not be put in a syslog message")
		}
	}
	it := itemOf(e)
	m.SetMessage(strings.ToValidUTF8(fmt.Sprintf("%s by %s, %s (entry %d)", it.What, it.Who, it.Target, e.Seq), "\uFFFD"))
	return m.String()
}

// sdEscaper escapes a PARAM-VALUE as RFC 5424 §6.3.3 says.
var sdEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)

// printASCII keeps a header field within RFC 5424's PRINTUSASCII and
// length, or "-" if nothing is left.
func printASCII(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 33 || r > 126 {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	if s == "" {
		return "-"
	}
	return s
}

// Syslog is the syslog destination: one message per entry, in order, on
// one long-lived connection. RFC 5425 has no acknowledgement, so an entry
// counts as delivered once the connection took it; before each batch the
// connection is checked and, if the collector closed it, made again, so
// entries written while a collector is down wait in the vault's log (not
// in a socket) until it returns.
type Syslog struct {
	Server   *SyslogServer
	TLS      *tls.Config // roots for a private CA; nil: the system's
	Hostname string      // HOSTNAME field; default os.Hostname
	Dialer   net.Dialer

	mu   sync.Mutex
	conn net.Conn
}

// Deliver implements Destination. A failed write sends the whole batch
// again on a new connection, since what went before it may be lost in a
// socket the collector never read: a SIEM may see an entry twice, and
// tells them apart by seq and hash. An entry that cannot be formatted
// (never expected) is refused and the others go on.
func (s *Syslog) Deliver(ctx context.Context, batch []*audit.Entry) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Hostname == "" {
		s.Hostname, _ = os.Hostname()
	}
	if err := s.connect(ctx); err != nil {
		return 0, err
	}
	var frames []byte
	refused := 0
	for _, e := range batch {
		msg, err := SyslogMessage(e, s.Hostname)
		if err != nil {
			refused++
			continue
		}
		frames = append(append(strconv.AppendInt(frames, int64(len(msg)), 10), ' '), msg...)
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := s.conn.Write(frames); err != nil {
		s.close()
		return 0, &deliveryError{"the syslog collector stopped taking entries", err}
	}
	return refused, nil
}

// connect makes the connection if there is none, or none that is still
// open.
func (s *Syslog) connect(ctx context.Context) error {
	if s.conn != nil && !s.alive() {
		s.close()
	}
	if s.conn != nil {
		return nil
	}
	conn, err := s.Dialer.DialContext(ctx, "tcp", s.Server.Addr())
	if err != nil {
		return &deliveryError{"could not connect to the syslog collector", err}
	}
	if s.Server.TLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.TLS != nil {
			tc = s.TLS.Clone()
		}
		tc.ServerName = s.Server.Host
		t := tls.Client(conn, tc)
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := t.HandshakeContext(hctx); err != nil {
			conn.Close()
			return &deliveryError{"the TLS handshake with the syslog collector failed", err}
		}
		conn = t
	}
	s.conn = conn
	return nil
}

// alive reports whether the collector has not closed the connection. A
// collector never writes on it (TLS may, after the handshake: a session
// ticket, which tls.Conn takes in itself), so a short read that times out
// means it is open, and anything else means it is not.
func (s *Syslog) alive() bool {
	_ = s.conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	var b [1]byte
	_, err := s.conn.Read(b[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *Syslog) close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// Close ends the connection.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.close()
	return nil
}
