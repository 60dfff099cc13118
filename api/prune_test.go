package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The prune routes: the provider may neither ask for a prune nor approve
// one that does not exist; each answer has its status and is recorded.
func TestPruneRoutes(t *testing.T) {
	e := newEnv(t)
	future := time.Now().Add(10 * 365 * 24 * time.Hour).Format(time.RFC3339)
	if st, body := e.call(t, "POST", "/v1/audit/prune", e.token, `{"before":"`+future+`"}`); st != 403 {
		t.Fatalf("provider's prune request: %d %s", st, body)
	}
	if st, body := e.call(t, "POST", "/v1/audit/prune", e.token, `{}`); st != 400 {
		t.Fatalf("prune request without a date: %d %s", st, body)
	}
	if st, body := e.call(t, "POST", "/v1/audit/prune/0123456789abcdef01234567/approve", e.token, ``); st != 404 {
		t.Fatalf("approval of an unknown request: %d %s", st, body)
	}
	st, body := e.call(t, "GET", "/v1/audit?limit=5", e.token, "")
	if st != 200 {
		t.Fatalf("read the log: %d %s", st, body)
	}
	var denied int
	for _, line := range bytes.Split(body, []byte("\n")) {
		var entry struct{ Action, Outcome string }
		if json.Unmarshal(line, &entry) == nil && (entry.Action == "audit.prune_request" || entry.Action == "audit.prune") && entry.Outcome != "ok" {
			denied++
		}
	}
	if denied != 2 {
		t.Fatalf("%d refused prune entries recorded, want 2:\n%s", denied, body)
	}
}
