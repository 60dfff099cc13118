package notify

import (
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

// A login handed over reaches the active clerks, and nobody else, with a
// link to their home page where they confirm it; switched off, nobody.
func TestHandoverTellsTheClerks(t *testing.T) {
	e := &audit.Entry{Seq: 7, Time: time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC), Actor: audit.Actor{ID: "m1", Name: "Mo Member", Role: "member"},
		Action: audit.CredHandover, Target: audit.Target{Kind: "credential", ID: "x", Name: "X (Twitter)"}, Outcome: audit.OutcomeOK,
		Reason: "handed over by Mo Member; assigned to: Carol Clerk, Mo Member"}
	c := &Composer{Council: "Little Wittering Parish Council", BaseURL: "https://vault.parish.test"}
	msgs, err := c.Compose([]*audit.Entry{e}, council, Facts{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].To.ID != "c1" {
		t.Fatalf("messages = %+v, want one to the active clerk", msgs)
	}
	m := msgs[0]
	if m.Subject != "Strongroom: Mo Member has given the council the login for X (Twitter)" ||
		!strings.Contains(m.Text, "https://vault.parish.test/ui/home") || !strings.Contains(m.Text, "confirm that you received it") ||
		!strings.Contains(m.Text, "Wednesday 2 December 2026 at 14:00:00 (UK time)") {
		t.Fatalf("message:\n%s\n%s", m.Subject, m.Text)
	}
	c.CouncilOff = []Kind{KindHandovers}
	if msgs, _ := c.Compose([]*audit.Entry{e}, council, Facts{}); len(msgs) != 0 {
		t.Fatalf("switched off, still sent %d", len(msgs))
	}
	if k, err := ParseKind("handovers"); err != nil || k != KindHandovers {
		t.Fatalf("the kind cannot be switched: %v", err)
	}
}
