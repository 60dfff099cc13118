package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWitnessedExports is the auditor with a witness key of their own: an
// export cut back to an earlier genuine closing shows its older closing time
// and fails --max-age; --witness refuses an export no cosignature by that
// key covers, and accepts it once the auditor has witnessed it.
func TestWitnessedExports(t *testing.T) {
	v := newProvisioned(t)
	work, srv, op, provider := v.work, v.srv, v.op, v.provider
	ini := struct {
		VerifierKey string
		Admin       oneTime
	}{v.verifierKey, v.admin}
	var o oneTime
	json.Unmarshal([]byte(provider.must(0, "user", "add", "Auditor", "--role", "auditor", "--json")), &o)
	auditor := newCLI(t, srv, work, "Auditor")
	auditor.must(0, "login", "--user", "Auditor", "--password-file", write(t, filepath.Join(work, "au.otp"), o.Password),
		"--totp", code(t, o.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "au.pw"), "sparrow lantern quarry 7"))

	old := filepath.Join(work, "old.jsonl") // a genuine earlier export: its closing is in every copy of it
	auditor.must(0, "audit", "export", "--out", old)
	time.Sleep(3 * time.Second) // closing times are whole seconds
	provider.must(0, "user", "list")
	logFile := filepath.Join(work, "log.jsonl")
	auditor.must(0, "audit", "export", "--out", logFile)
	key := ini.VerifierKey
	closing := func(path string, extra ...string) time.Time {
		var rep struct {
			ClosingTime time.Time `json:"closing_time"`
		}
		out := op.must(0, append([]string{"audit", "verify", "--log", path, "--key", key, "--json"}, extra...)...)
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.ClosingTime.IsZero() {
			t.Fatalf("verify --json: %v: %s", err, out)
		}
		return rep.ClosingTime
	}
	newTime, oldTime := closing(logFile), closing(old)
	if !oldTime.Before(newTime.Add(-2 * time.Second)) {
		t.Fatalf("the cut-back export shows closing time %v, the current one %v", oldTime, newTime)
	}
	if out := op.must(0, "audit", "verify", "--log", old, "--key", key); !strings.Contains(out, "Closed at "+oldTime.Format(time.RFC3339)) {
		t.Fatalf("verify does not print the closing time: %s", out)
	}
	if msg := op.must(1, "audit", "verify", "--log", old, "--key", key, "--max-age", "2s"); !strings.Contains(msg, "too old") ||
		!strings.Contains(msg, oldTime.Format(time.RFC3339)) {
		t.Fatalf("--max-age on the cut-back export: %s", msg)
	}
	op.must(0, "audit", "verify", "--log", logFile, "--key", key, "--max-age", "1h")
	op.must(2, "audit", "verify", "--log", logFile, "--max-age", "1h") // no key: the closing's time is not checked

	// The auditor's witness key: theirs alone, mode 0600, never overwritten.
	wkey := filepath.Join(work, "witness.key")
	wv := strings.TrimSpace(auditor.must(0, "audit", "witness-key", "--out", wkey, "--name", "auditor.example/w1"))
	plantWitnessKey(t, wkey)
	if fi, err := os.Stat(wkey); err != nil || fi.Mode().Perm() != 0o600 || !strings.HasPrefix(wv, "auditor.example/w1+") {
		t.Fatalf("witness key %v %v, verifier key %q", fi.Mode(), err, wv)
	}
	auditor.must(2, "audit", "witness-key", "--out", wkey)
	otherKey := filepath.Join(work, "other.key")
	ov := strings.TrimSpace(auditor.must(0, "audit", "witness-key", "--out", otherKey, "--name", "auditor.example/w1"))
	plantWitnessKey(t, otherKey)

	if msg := op.must(1, "audit", "verify", "--log", logFile, "--key", key, "--witness", wv); !strings.Contains(msg, "not witnessed") {
		t.Fatalf("unwitnessed export: %s", msg)
	}
	cosigned := filepath.Join(work, "log.cosigned")
	if out := auditor.must(0, "audit", "witness", "--key", wkey, "--vault-key", key, "--log", logFile, "--out", cosigned); !strings.Contains(out, "Cosigned") {
		t.Fatalf("witness: %s", out)
	}
	if out := op.must(0, "audit", "verify", "--log", logFile, "--key", key, "--checkpoint", cosigned, "--witness", wv, "--max-age", "1h"); !strings.Contains(out, "Witnessed: auditor.example/w1 cosigned the head") {
		t.Fatalf("witnessed export: %s", out)
	}
	if msg := op.must(1, "audit", "verify", "--log", logFile, "--key", key, "--checkpoint", cosigned, "--witness", ov); !strings.Contains(msg, "not witnessed") {
		t.Fatalf("cosignature by another key accepted: %s", msg)
	}
	// The cut-back export against the cosigned checkpoint: truncated; and
	// the witness refuses to cosign it once it has seen the longer log.
	if msg := op.must(1, "audit", "verify", "--log", old, "--key", key, "--checkpoint", cosigned, "--witness", wv); !strings.Contains(msg, "truncated below a checkpoint") {
		t.Fatalf("cut back below a witnessed checkpoint: %s", msg)
	}
	auditor.must(1, "audit", "witness", "--key", wkey, "--vault-key", key, "--log", old, "--checkpoint", cosigned, "--out", filepath.Join(work, "old.cosigned"))
	auditor.must(1, "audit", "witness", "--key", wkey, "--vault-key", key, "--log", old, "--max-age", "2s", "--out", filepath.Join(work, "old.cosigned"))
	if _, err := os.Stat(filepath.Join(work, "old.cosigned")); err == nil {
		t.Fatal("a refused witness run wrote a cosigned checkpoint")
	}
}

// plantWitnessKey marks a witness signer key as a secret the sweep must
// never find anywhere but in its own file.
func plantWitnessKey(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sweep.mu.Lock()
	sweep.inputs[path] = true
	sweep.mu.Unlock()
	plant(strings.TrimSpace(string(raw)))
}
