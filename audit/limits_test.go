package audit

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSealCutsEveryField(t *testing.T) {
	fields := []struct {
		name string
		max  int
		get  func(e *Entry) *string
	}{
		{"actor.id", MaxActorID, func(e *Entry) *string { return &e.Actor.ID }},
		{"actor.name", MaxActorName, func(e *Entry) *string { return &e.Actor.Name }},
		{"actor.role", MaxActorRole, func(e *Entry) *string { return &e.Actor.Role }},
		{"target.kind", MaxTargetKind, func(e *Entry) *string { return &e.Target.Kind }},
		{"target.id", MaxTargetID, func(e *Entry) *string { return &e.Target.ID }},
		{"target.name", MaxTargetName, func(e *Entry) *string { return &e.Target.Name }},
		{"outcome", MaxOutcome, func(e *Entry) *string { return &e.Outcome }},
		{"reason", MaxReason, func(e *Entry) *string { return &e.Reason }},
		{"client.ip", MaxClientIP, func(e *Entry) *string { return &e.Client.IP }},
		{"client.user_agent", MaxUserAgent, func(e *Entry) *string { return &e.Client.UserAgent }},
		{"request_id", MaxRequestID, func(e *Entry) *string { return &e.RequestID }},
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			// At the maximum: kept as it is.
			var e Entry
			exact := strings.Repeat("a", f.max)
			*f.get(&e) = exact
			e.Seal(0, ZeroHash)
			if *f.get(&e) != exact {
				t.Fatalf("a field of exactly %d bytes was changed", f.max)
			}
			// One byte over, in two-byte characters: cut on a character
			// boundary, marked, within the maximum.
			long := strings.Repeat("é", f.max/2) + "é"
			*f.get(&e) = long
			e.Seal(0, ZeroHash)
			got := *f.get(&e)
			keep := (f.max - len(CutMarker)) / 2 * 2
			if got != long[:keep]+CutMarker || len(got) > f.max || !utf8.ValidString(got) {
				t.Fatalf("cut to %q (%d bytes), want %d bytes of é then %q", got, len(got), keep, CutMarker)
			}
		})
	}
	var e Entry
	e.Action = Action(strings.Repeat("x", MaxAction+1))
	e.Reason = strings.Repeat("\xffa", MaxReason/2) // each \xff becomes U+FFFD (3 bytes), then cut
	e.Seal(0, ZeroHash)
	if len(e.Action) != MaxAction || !strings.HasSuffix(string(e.Action), CutMarker) {
		t.Fatalf("action %d bytes, %q", len(e.Action), e.Action)
	}
	if len(e.Reason) > MaxReason || !utf8.ValidString(e.Reason) || !strings.HasSuffix(e.Reason, CutMarker) {
		t.Fatalf("reason %d bytes, valid %v", len(e.Reason), utf8.ValidString(e.Reason))
	}
}

// The largest entry the vault can write (every field too long, every
// byte one that escapes to six) fits in MaxLine and verifies.
func TestLargestEntryFitsMaxLine(t *testing.T) {
	huge := strings.Repeat("\x01", 1<<20)
	e := Entry{Seq: 1, Time: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), Action: Action(huge),
		Actor:  Actor{ID: huge, Name: huge, Role: huge},
		Target: Target{Kind: huge, ID: huge, Name: huge}, Outcome: huge, Reason: huge,
		Client: Client{IP: huge, UserAgent: huge}, RequestID: huge}
	e.Seal(1<<63, ZeroHash)
	line := e.Line()
	if len(line) > MaxLine || len(line) < MaxLine-2048 {
		t.Fatalf("the largest line is %d bytes; MaxLine is %d", len(line), MaxLine)
	}
}

// legacyLongLog is a valid three-entry log whose second entry has a reason
// of n bytes, as a writer before the maxima wrote one (a 10 MB refused
// import wrote 47 MB): Seal would cut it, so its hash is computed directly.
func legacyLongLog(n int) []byte {
	lines := buildLog(3)
	e1, _ := ParseLine(lines[0])
	e2, _ := ParseLine(lines[1])
	e2.Reason = "file refused: " + strings.Repeat("\x02", n)
	e2.Prev = e1.Hash
	e2.Hash = e2.ComputeHash()
	lines[1] = e2.Line()
	e3, _ := ParseLine(lines[2])
	e3.Prev = e2.Hash
	e3.Hash = e3.ComputeHash()
	lines[2] = e3.Line()
	return join(lines)
}

// The offline verifier reads lines of any length: it once stopped with
// "token too long" at 1 MiB, failing every later export of that log.
func TestVerifyReadsLongLines(t *testing.T) {
	for _, n := range []int{MaxLine, 2 << 20} {
		log := legacyLongLog(n)
		rep, err := VerifyJSONL(bytes.NewReader(log))
		if err != nil || rep.Checked != 3 {
			t.Fatalf("a %d-byte line: %+v, %v", len(log), rep, err)
		}
		// Tampering inside the long line is still found, at its seq.
		i := bytes.LastIndex(log, []byte(`\u0002`))
		bad := append(append(append([]byte(nil), log[:i]...), `\u0003`...), log[i+6:]...)
		if _, err := VerifyJSONL(bytes.NewReader(bad)); !isChainError(err, 2) {
			t.Fatalf("a change in the long line: %v", err)
		}
	}
}

func isChainError(err error, seq uint64) bool {
	ce, ok := err.(*ChainError)
	return ok && ce.Seq == seq
}

// readLines hands over every line, whatever its length and wherever the
// buffer boundaries fall, and the last one without a newline.
func TestReadLines(t *testing.T) {
	want := []string{"a", strings.Repeat("b", 64<<10), "", strings.Repeat("c", 64<<10-1), strings.Repeat("d", 200<<10), "e"}
	var got []string
	err := readLines(strings.NewReader(strings.Join(want, "\n")), func(l []byte) error {
		got = append(got, string(l))
		return nil
	})
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %d lines, %v", len(got), err)
	}
}
