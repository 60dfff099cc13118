package main

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"strongroom/audit"
	"strongroom/escrow"
)

// TestAuditorToolkit is the auditor's story: keep a checkpoint, let work go
// on, export and verify offline with only the verifier key; altered copies
// fail; filtered exports, incidents, subject access and the report work.
func TestAuditorToolkit(t *testing.T) {
	v := newProvisioned(t)
	work, srv, op, provider := v.work, v.srv, v.op, v.provider
	ini := struct {
		VerifierKey string
		Admin       oneTime
	}{v.verifierKey, v.admin}
	people := map[string]*cli{}
	for _, p := range [][2]string{{"Clerk", "clerk"}, {"Member", "member"}, {"Auditor", "auditor"}} {
		var o oneTime
		json.Unmarshal([]byte(provider.must(0, "user", "add", p[0], "--role", p[1], "--json")), &o)
		c := newCLI(t, srv, work, p[0])
		c.must(0, "login", "--user", p[0], "--password-file", write(t, filepath.Join(work, p[0]+".otp"), o.Password),
			"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, p[0]+".pw"), "sparrow lantern quarry 7"))
		people[p[0]] = c
	}
	clerk, member, auditor := people["Clerk"], people["Member"], people["Auditor"]
	provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--password-file", filepath.Join(work, "a.pw"), "--assign", "Clerk")

	cp1 := write(t, filepath.Join(work, "cp1.txt"), strings.TrimSpace(auditor.must(0, "audit", "checkpoint")))
	member.must(1, "audit", "checkpoint")
	clerk.must(0, "cred", "get", "Facebook page")
	member.must(1, "cred", "get", "Facebook page")
	cp2 := write(t, filepath.Join(work, "cp2.txt"), strings.TrimSpace(auditor.must(0, "audit", "checkpoint")))
	clerk.must(0, "cred", "get", "Facebook page")

	logFile := filepath.Join(work, "log.jsonl")
	auditor.must(0, "audit", "export", "--out", logFile)
	if out := op.must(0, "audit", "verify", "--log", logFile, "--key", ini.VerifierKey, "--checkpoint", cp1, "--checkpoint", cp2); !strings.Contains(out, "2 of 2 kept checkpoints matched") || !strings.Contains(out, "closed by the vault's signature") {
		t.Fatalf("verify: %s", out)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, logFile)), "\n")
	variant := func(name string, ls []string) string {
		return write(t, filepath.Join(work, name), strings.Join(ls, "\n"))
	}
	tamper := map[string]struct {
		file, want string
	}{
		"deleted":   {variant("deleted.jsonl", append(append([]string(nil), lines[:5]...), lines[6:]...)), "missing"},
		"truncated": {variant("trunc.jsonl", lines[:4]), "truncated below a checkpoint"},
		"altered":   {variant("altered.jsonl", append(append(append([]string(nil), lines[:3]...), strings.Replace(lines[3], `"outcome":"ok"`, `"outcome":"denied"`, 1)), lines[4:]...)), "altered"},
	}
	// A forged entry, consistent with the chain, appended after the export's
	// signed end; and the same with the closing signature stripped.
	last, _ := audit.ParseLine([]byte(lines[len(lines)-2]))
	forged := *last
	forged.Actor, forged.Action, forged.Reason = audit.Actor{Name: "Chairman", Role: "chairman"}, "cred.read", "forged"
	forged.Seal(last.Seq, last.Hash)
	tamper["appended"] = struct{ file, want string }{variant("appended.jsonl", append(append([]string(nil), lines...), string(forged.Line()))), "after the closing checkpoint"}
	tamper["unsigned tail"] = struct{ file, want string }{variant("stripped.jsonl", append(append([]string(nil), lines[:len(lines)-1]...), string(forged.Line()))), "unsigned tail"}
	// Line ends from a Windows copy; a closing line with a key in another case.
	tamper["crlf"] = struct{ file, want string }{write(t, filepath.Join(work, "crlf.jsonl"), strings.Join(lines, "\r\n")+"\r\n"), "at seq 1: unreadable"}
	tamper["closing key case"] = struct{ file, want string }{variant("case.jsonl", append(append([]string(nil), lines[:len(lines)-1]...),
		strings.Replace(lines[len(lines)-1], `{"checkpoint":`, `{"Checkpoint":`, 1))), "unreadable"}
	for name, tc := range tamper {
		if msg := op.must(1, "audit", "verify", "--log", tc.file, "--key", ini.VerifierKey, "--checkpoint", cp1, "--checkpoint", cp2); !strings.Contains(msg, tc.want) {
			t.Fatalf("%s: %s", name, msg)
		}
	}
	if out := op.must(0, "audit", "verify", "--log", logFile, "--key", ini.VerifierKey, "--vault-id", v.vaultID); !strings.Contains(out, "closed by the vault's signature") {
		t.Fatalf("verify with the vault ID: %s", out)
	}
	otherID := strings.Repeat("0", 32)
	if msg := op.must(1, "audit", "verify", "--log", logFile, "--vault-id", otherID); !strings.Contains(msg, "for another vault") {
		t.Fatalf("another vault's ID, no key: %s", msg)
	}
	_, otherKey, _ := note.GenerateKey(rand.Reader, strings.SplitN(ini.VerifierKey, "+", 2)[0])
	if msg := op.must(1, "audit", "verify", "--log", logFile, "--key", otherKey, "--checkpoint", cp1); !strings.Contains(msg, "signed by another key") {
		t.Fatalf("wrong key: %s", msg)
	}

	// A filtered export still verifies; CSV is for spreadsheets.
	filtered := filepath.Join(work, "clerk.jsonl")
	auditor.must(0, "audit", "export", "--actor", "Clerk", "--action", "cred.read", "--out", filtered)
	if out := op.must(0, "audit", "verify", "--log", filtered, "--key", ini.VerifierKey, "--checkpoint", cp2); !strings.Contains(out, "redacted") {
		t.Fatalf("filtered verify: %s", out)
	}
	csv := auditor.must(0, "audit", "export", "--format", "csv", "--outcome", "denied", "--from", "2020-01-01", "--to", time.Now().Add(time.Hour).Format(time.RFC3339))
	if !strings.HasPrefix(csv, "seq,time,actor") || !strings.Contains(csv, "Member,member,cred.read") {
		t.Fatalf("csv: %s", csv)
	}
	auditor.must(2, "audit", "export", "--from", "yesterday")

	var inc []map[string]any
	json.Unmarshal([]byte(auditor.must(0, "audit", "incidents", "--json")), &inc)
	found := false
	for _, i := range inc {
		if i["kind"] == "denied read" && strings.Contains(i["link"].(string), "seq=") {
			found = true
		}
	}
	if !found {
		t.Fatalf("incidents: %v", inc)
	}
	subject := auditor.must(0, "audit", "subject", "Member")
	if !strings.Contains(subject, `"name":"Member","role":"member"`) || strings.Contains(subject, `"name":"Clerk","role":"clerk"},"action"`) {
		t.Fatal("subject export is wrong")
	}
	report := auditor.must(0, "audit", "report", "--from", "2020-01-01", "--to", "2100-01-01", "--format", "html")
	if !strings.Contains(report, "<td>Facebook page</td><td>Clerk</td><td>2</td>") || !strings.Contains(report, "not an assignee") {
		t.Fatalf("report: %s", report)
	}
	if rc := auditor.must(0, "audit", "report", "--format", "csv"); !strings.Contains(rc, "reads by person,Facebook page,Clerk,2") {
		t.Fatalf("csv report: %s", rc)
	}

	// Retention cannot become erasure: the provider may not ask to prune; the
	// auditor's request for a future date cannot be approved by the auditor,
	// and the provider's approval removes nothing (every entry is younger
	// than the retention). The log still verifies with every checkpoint.
	future := time.Now().Add(10 * 365 * 24 * time.Hour).Format(time.RFC3339)
	provider.must(1, "audit", "prune", "--before", future)
	var pr struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	json.Unmarshal([]byte(auditor.must(0, "audit", "prune", "--before", future, "--json")), &pr)
	if pr.ID == "" || pr.State != "pending" {
		t.Fatalf("prune request: %+v", pr)
	}
	auditor.must(1, "audit", "prune-approve", pr.ID)
	if out := provider.must(0, "audit", "prune-approve", pr.ID); !strings.Contains(out, "nothing was removed") {
		t.Fatalf("approval of a future date: %s", out)
	}
	provider.must(1, "audit", "prune-approve", pr.ID) // settled already
	kept := filepath.Join(work, "kept.jsonl")
	auditor.must(0, "audit", "export", "--out", kept)
	if first, _ := audit.ParseLine([]byte(strings.SplitN(readFile(t, kept), "\n", 2)[0])); first == nil || first.Seq != 1 {
		t.Fatalf("the log no longer starts at seq 1: %+v", first)
	}
	if out := op.must(0, "audit", "verify", "--log", kept, "--key", ini.VerifierKey, "--checkpoint", cp1, "--checkpoint", cp2); !strings.Contains(out, "2 of 2 kept checkpoints matched") {
		t.Fatalf("verify after the refused erasure: %s", out)
	}
	auditor.must(0, "audit", "verify")
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRekeyRotatesTheAuditKey: a re-key makes a new audit signing key. An
// export from before verifies with the old key; one from after with the new
// key (the envelopes print it), and with the old key too, by following the
// key transition the export carries; the old key's checkpoint kept from
// before still matches under the new key; online verification passes.
func TestRekeyRotatesTheAuditKey(t *testing.T) {
	v := newProvisioned(t)
	work, op, provider := v.work, v.op, v.provider
	oldKey := v.verifierKey
	before := filepath.Join(work, "before.jsonl")
	provider.must(0, "audit", "export", "--out", before)
	kept := write(t, filepath.Join(work, "kept.txt"), strings.TrimSpace(provider.must(0, "audit", "checkpoint")))
	var rk struct {
		Envelopes []string
	}
	json.Unmarshal([]byte(provider.must(0, "escrow", "rekey", "--out", "env-2", "--passphrase-file", v.pass, "--json")), &rk)
	if len(rk.Envelopes) == 0 {
		t.Fatal("no envelopes from the re-key")
	}
	newKey, err := escrow.ReadVerifierKey(readFile(t, filepath.Join(work, rk.Envelopes[0])))
	if err != nil || newKey == oldKey {
		t.Fatalf("the new envelope's key %q (old %q): %v", newKey, oldKey, err)
	}
	after := filepath.Join(work, "after.jsonl")
	provider.must(0, "audit", "export", "--out", after)
	if !strings.HasPrefix(readFile(t, after), `{"transition":`) {
		t.Fatal("the export after the re-key does not start with its key transition")
	}
	if out := op.must(0, "audit", "verify", "--log", before, "--key", oldKey); !strings.Contains(out, "closed by the vault's signature") {
		t.Fatalf("before, old key: %s", out)
	}
	for _, c := range []struct{ log, key, want string }{
		{after, newKey, "closed by the vault's signature"},
		{after, oldKey, "followed a key transition"},
	} {
		if out := op.must(0, "audit", "verify", "--log", c.log, "--key", c.key, "--checkpoint", kept); !strings.Contains(out, c.want) {
			t.Fatalf("%s with %s: %s", filepath.Base(c.log), c.key, out)
		}
	}
	if msg := op.must(1, "audit", "verify", "--log", before, "--key", newKey); !strings.Contains(msg, "signed by another key") {
		t.Fatalf("an export from before the re-key, new key: %s", msg)
	}
	// Without the transition the old key's checkpoints are foreign to the new key.
	stripped := strings.SplitN(readFile(t, after), "\n", 2)[1]
	if msg := op.must(1, "audit", "verify", "--log", write(t, filepath.Join(work, "stripped.jsonl"), stripped), "--key", newKey, "--checkpoint", kept); !strings.Contains(msg, "signed by another key") {
		t.Fatalf("export without its transition: %s", msg)
	}
	provider.must(0, "audit", "verify")
	if out := op.must(0, "status", "--json"); !strings.Contains(out, newKey) {
		t.Fatalf("status does not serve the new key: %s", out)
	}
}
