package auditlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/storage"
)

var ctx = context.Background()

// testLog is a log on a fresh store with a fixed clock and an audit key.
type testLog struct {
	*Log
	st       *storage.Bolt
	verifier string
	keys     Keys
}

func newTestLog(t *testing.T, chunk int) *testLog {
	t.Helper()
	st, err := storage.OpenBolt(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	skey, vkey, err := note.GenerateKey(rand.Reader, "strongroom-test")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	l := New(st, func() time.Time { now = now.Add(time.Second); return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.SetChunk(chunk)
	if err := st.Update(ctx, func(tx storage.Tx) error { return tx.Put(storage.BucketMeta, KeyVerifier, []byte(vkey)) }); err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(fn func(Signer) error) error {
		return fn(func(storage.Tx) (note.Signer, string, error) {
			return signer, "strongroom/0123456789abcdef0123456789abcdef", nil
		})
	}
	return &testLog{Log: l, st: st, verifier: vkey, keys: keys}
}

func (l *testLog) add(t *testing.T, n int, action audit.Action) {
	t.Helper()
	for i := 0; i < n; i++ {
		ev := Event{Actor: audit.Actor{Name: "Clerk", Role: "clerk"}, Action: action, Target: audit.Target{Kind: "credential", Name: fmt.Sprint("C", i)}}
		if err := l.Record(ctx, Request{ID: fmt.Sprint("r", i)}, ev); err != nil {
			t.Fatal(err)
		}
	}
}

var auditor = access.NewPrincipal("a1", "Auditor", access.RoleAuditor, "")

// Appends chain; a page, an export and the online check agree with the
// offline verifier, across chunk boundaries.
func TestLogChunksAgree(t *testing.T) {
	for _, chunk := range []int{1, 3, 1000} {
		t.Run(fmt.Sprint("chunk ", chunk), func(t *testing.T) {
			l := newTestLog(t, chunk)
			l.add(t, 10, audit.CredRead)
			var buf bytes.Buffer
			ex, err := l.BeginExport(ctx, Request{}, auditor, Filter{}, FormatJSONL, l.keys)
			if err != nil {
				t.Fatal(err)
			}
			if err := ex.WriteTo(ctx, &buf); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.Verify(&buf, l.verifier, nil)
			if err != nil || rep.Checked != 11 {
				t.Fatalf("offline: %+v %v", rep, err)
			}
			pg, err := l.ReadPage(ctx, Request{}, auditor, Filter{Action: "cred.read"}, 0, 4)
			if err != nil || len(pg.Entries) != 4 || pg.Entries[0].Seq != 10 || pg.Before != 7 {
				t.Fatalf("first page: %+v %v", pg, err)
			}
			res, err := l.Verify(ctx, Request{}, auditor)
			if err != nil || !res.OK || res.Checked != 12 {
				t.Fatalf("online: %+v %v", res, err)
			}
		})
	}
}

// A refusal is recorded and answered as a ForbiddenError; a member may
// not read the log.
func TestLogRefusals(t *testing.T) {
	l := newTestLog(t, 1000)
	member := access.NewPrincipal("m1", "Member", access.RoleMember, "")
	_, err := l.ReadPage(ctx, Request{}, member, Filter{}, 0, 10)
	var fe *access.ForbiddenError
	if !errors.As(err, &fe) || fe.Action != audit.AuditView {
		t.Fatalf("member read the log: %v", err)
	}
	seq, _ := func() (uint64, string) {
		var s uint64
		var h string
		_ = l.st.View(ctx, func(tx storage.Tx) error { s, h = Head(tx); return nil })
		return s, h
	}()
	if seq != 1 {
		t.Fatalf("the refusal is not the one entry: head %d", seq)
	}
}

// Prune leaves a log that starts at its anchor and still verifies, online
// and offline; a subscriber behind the cut resumes after the anchor.
func TestPruneAndSubscriber(t *testing.T) {
	l := newTestLog(t, 2)
	l.add(t, 7, audit.CredRead)
	sub, err := l.Subscriber("mail")
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.pruneExpiredAt(ctx, Request{}, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), l.keys) // every entry so far is older
	if err != nil || res.From != 1 || res.Through != 7 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	batch, err := sub.Next(ctx, 10)
	if err != nil || len(batch) != 1 || batch[0].Seq != 8 || batch[0].Action != audit.AuditPrune {
		t.Fatalf("after the prune the subscriber gets %+v, %v", batch, err)
	}
	if res, err := l.Verify(ctx, Request{}, auditor); err != nil || !res.OK {
		t.Fatalf("online after prune: %+v %v", res, err)
	}
}

// An entry built from outside input (a refused 10 MB file's reason, a
// client's user agent and request id) is stored cut to the field maxima:
// a garbage import once wrote a 47 MB entry.
func TestAppendCutsLongFields(t *testing.T) {
	l := newTestLog(t, 10)
	garbage := string(bytes.Repeat([]byte("\x01garbage"), 10<<20/8))
	req := Request{IP: "127.0.0.1", UserAgent: garbage, ID: garbage}
	if err := l.Record(ctx, req, Event{Actor: System, Action: audit.CredImport,
		Target: audit.Target{Kind: "import", Name: garbage}, Outcome: audit.OutcomeError, Reason: "file refused: " + garbage}); err != nil {
		t.Fatal(err)
	}
	var line []byte
	_ = l.st.View(ctx, func(tx storage.Tx) error {
		line = append(line, tx.Get(storage.BucketAudit, SeqKey(1))...)
		return nil
	})
	e, err := audit.ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	if len(line) > audit.MaxLine {
		t.Fatalf("a %d-byte entry; MaxLine is %d", len(line), audit.MaxLine)
	}
	for name, f := range map[string]struct {
		s   string
		max int
	}{"reason": {e.Reason, audit.MaxReason}, "user agent": {e.Client.UserAgent, audit.MaxUserAgent},
		"request id": {e.RequestID, audit.MaxRequestID}, "target name": {e.Target.Name, audit.MaxTargetName}} {
		if len(f.s) > f.max || !strings.HasSuffix(f.s, audit.CutMarker) {
			t.Errorf("%s: %d bytes (max %d), marked %v", name, len(f.s), f.max, strings.HasSuffix(f.s, audit.CutMarker))
		}
	}
	if !strings.HasPrefix(e.Reason, "file refused: \x01garbage") {
		t.Errorf("reason starts %q", e.Reason[:30])
	}
}
