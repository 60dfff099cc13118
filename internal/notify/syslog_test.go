package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	syslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/octetcounting"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"strongroom/audit"
	"strongroom/internal/testcert"
)

func TestParseSyslogURL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want *SyslogServer
	}{
		{"tls://siem.example.org", &SyslogServer{Host: "siem.example.org", Port: 6514, TLS: true}},
		{"tls://10.0.0.9:1514", &SyslogServer{Host: "10.0.0.9", Port: 1514, TLS: true}},
		{"tls://[::1]:6514/", &SyslogServer{Host: "::1", Port: 6514, TLS: true}},
		{"tcp://127.0.0.1:514", &SyslogServer{Host: "127.0.0.1", Port: 514}},
		{"tcp://localhost:514", &SyslogServer{Host: "localhost", Port: 514}},
		{"tcp://siem.example.org:514", nil}, {"tcp://127.0.0.1", nil}, {"udp://127.0.0.1:514", nil},
		{"tls://u:secretpw@h.example", nil}, {"tls://h.example/x", nil}, {"tls://h.example?x=1", nil},
		{"tls://h.example:0", nil}, {"tls://h.example:70000", nil}, {"tls://", nil}, {"siem.example.org:6514", nil},
	} {
		got, err := ParseSyslogURL(c.in)
		switch {
		case c.want == nil && err == nil:
			t.Errorf("%s accepted", c.in)
		case c.want == nil && err != ErrSyslogURL:
			t.Errorf("%s: error %v", c.in, err)
		case c.want != nil && (err != nil || *got != *c.want):
			t.Errorf("%s: %+v %v", c.in, got, err)
		}
	}
}

func syslogEntry() *audit.Entry {
	return &audit.Entry{Seq: 42, Time: time.Date(2026, 7, 1, 9, 30, 0, 123000000, time.UTC),
		Actor: audit.Actor{ID: "u1", Name: "Jo \"JJ\" Bloggs", Role: "member"}, Action: audit.CredRead,
		Target: audit.Target{Kind: "credential", ID: "c1", Name: "Bank [main]"}, Outcome: audit.OutcomeDenied,
		Reason: `not assigned \ no grant`, Client: audit.Client{IP: "192.0.2.7"}, RequestID: "r-1",
		Prev: strings.Repeat("a", 64), Hash: strings.Repeat("b", 64)}
}

// TestSyslogMessageGolden: the exact bytes for a fixed entry (a change of
// format fails here), escaped as RFC 5424 §6.3.3 says, and the same
// fields read back by an independent RFC 5424 parser.
func TestSyslogMessageGolden(t *testing.T) {
	got, err := SyslogMessage(syslogEntry(), "vault.parish.test")
	if err != nil {
		t.Fatal(err)
	}
	const want = `<84>1 2026-07-01T09:30:00.123Z vault.parish.test strongroom - cred.read [strongroom@32473 action="cred.read" actor="Jo \"JJ\" Bloggs" actor_role="member" client_ip="192.0.2.7" hash="` +
		`bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" incident="denied read" outcome="denied" prev="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" ` +
		`reason="not assigned \\ no grant" request_id="r-1" seq="42" target="Bank [main\]" target_kind="credential" time="2026-07-01T09:30:00.123000000Z"] denied read by Jo "JJ" Bloggs (member), credential “Bank [main]” (entry 42)`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	m, err := rfc5424.NewParser().Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	sd := (*m.(*rfc5424.SyslogMessage).StructuredData)[SyslogSDID]
	if sd["actor"] != `Jo "JJ" Bloggs` || sd["target"] != "Bank [main]" || sd["reason"] != `not assigned \ no grant` || sd["seq"] != "42" {
		t.Fatalf("read back %v", sd)
	}
}

// TestSyslogMessageEmptyAndOdd: empty fields are "-", invalid UTF-8 and
// control characters never make an unparseable message.
func TestSyslogMessageEmptyAndOdd(t *testing.T) {
	e := &audit.Entry{Seq: 1, Time: time.Unix(0, 0), Action: "x y\x00", Reason: "\xff]\n"}
	got, err := SyslogMessage(e, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := rfc5424.NewParser().Parse([]byte(got))
	if err != nil {
		t.Fatalf("%v: %q", err, got)
	}
	sd := (*m.(*rfc5424.SyslogMessage).StructuredData)[SyslogSDID]
	if sd["actor"] != "-" || sd["reason"] != "\uFFFD]\n" || *m.(*rfc5424.SyslogMessage).MsgID != "xy" {
		t.Fatalf("read back %q %v", got, sd)
	}
}

// collector is a syslog-over-TLS receiver: it parses octet-counted
// RFC 5424 frames and keeps the seq of each message.
type collector struct {
	ln    net.Listener
	mu    sync.Mutex
	seqs  []uint64
	conns []net.Conn
}

func startCollector(t *testing.T, cfg *tls.Config) *collector {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{ln: ln}
	t.Cleanup(func() { ln.Close(); c.drop() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			go octetcounting.NewParser(syslog.WithBestEffort(), syslog.WithListener(func(r *syslog.Result) {
				if r.Error != nil {
					t.Errorf("collector: %v", r.Error)
					return
				}
				sd := (*r.Message.(*rfc5424.SyslogMessage).StructuredData)[SyslogSDID]
				n, _ := strconv.ParseUint(sd["seq"], 10, 64)
				c.mu.Lock()
				c.seqs = append(c.seqs, n)
				c.mu.Unlock()
			})).Parse(bufio.NewReader(conn))
		}
	}()
	return c
}

// drop closes every connection the collector has, as a restarted
// collector would.
func (c *collector) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func (c *collector) got() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint64(nil), c.seqs...)
}

// TestSyslogDeliverReconnects: batches go over one TLS connection in
// order; when the collector closes it, the next batch goes on a new one,
// and a collector that is down is a failure with a fixed sentence.
func TestSyslogDeliverReconnects(t *testing.T) {
	certs := testcert.New(t)
	c := startCollector(t, certs.Server)
	port := c.ln.Addr().(*net.TCPAddr).Port
	s := &Syslog{Server: &SyslogServer{Host: "127.0.0.1", Port: port, TLS: true}, TLS: &tls.Config{RootCAs: certs.Roots}, Hostname: "h"}
	defer s.Close()
	batch := func(from, to uint64) []*audit.Entry {
		var out []*audit.Entry
		for i := from; i <= to; i++ {
			e := syslogEntry()
			e.Seq = i
			out = append(out, e)
		}
		return out
	}
	ctx := context.Background()
	if _, err := s.Deliver(ctx, batch(1, 3)); err != nil {
		t.Fatal(err)
	}
	waitSeqs(t, c, 3)
	c.drop()
	if _, err := s.Deliver(ctx, batch(4, 5)); err != nil {
		t.Fatal(err)
	}
	waitSeqs(t, c, 5)
	if got := c.got(); len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Fatalf("received %v", got)
	}
	c.ln.Close()
	c.drop()
	_, err := s.Deliver(ctx, batch(6, 6))
	var pe PublicError
	if err == nil || !errors.As(err, &pe) || pe.Public() != "could not connect to the syslog collector" {
		t.Fatalf("collector down: %v", err)
	}
}

func waitSeqs(t *testing.T, c *collector, n int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if len(c.got()) >= n {
			return
		}
	}
	t.Fatalf("collector has %v, want %d messages", c.got(), n)
}
