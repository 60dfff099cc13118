package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"strongroom/audit"
	"strongroom/internal/swtpmtest"
	"strongroom/vault/storage"
)

// sealedNow asks the server whether it is sealed.
func sealedNow(t *testing.T, c *cli) bool {
	t.Helper()
	var st struct {
		Sealed bool `json:"sealed"`
	}
	if err := json.Unmarshal([]byte(c.must(0, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st.Sealed
}

// lastUnseal is the last sys.unseal entry in the stopped server's log.
func lastUnseal(t *testing.T, data string) audit.Entry {
	t.Helper()
	st, err := storage.OpenBolt(data, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var last audit.Entry
	_ = st.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(storage.BucketAudit, nil, func(_, v []byte) (bool, error) {
			var e audit.Entry
			if json.Unmarshal(v, &e) == nil && e.Action == audit.SysUnseal {
				last = e
			}
			return true, nil
		})
	})
	if last.Action == "" {
		t.Fatal("no sys.unseal entry")
	}
	return last
}

func TestAutoUnsealTPM(t *testing.T) {
	tp := swtpmtest.Start(t)
	flags := []string{"--auto-unseal", "tpm", "--tpm-device", tp.Socket, "--auto-unseal-pcrs", "0,7"}
	v := newProvisioned(t, flags...) // init, then the passphrase unseal seals the key to the TPM
	data := filepath.Join(v.work, "data")
	fi, err := os.Stat(filepath.Join(data, "tpm-seal"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("DATA/tpm-seal after the passphrase unseal: %v %v", fi, err)
	}
	restart := func() {
		v.srv.stop()
		v.srv = startServer(t, data, flags...)
		v.op = newCLI(t, v.srv, v.work, "operator")
	}

	restart()
	if sealedNow(t, v.op) {
		t.Fatalf("the restarted server did not reopen by itself: %s", v.srv.log)
	}
	v.srv.stop()
	if e := lastUnseal(t, data); e.Outcome != audit.OutcomeOK || !strings.HasPrefix(e.Reason, "auto-unseal: this machine's TPM") || e.RequestID != "auto-unseal" {
		t.Fatalf("auto-unseal entry %+v", e)
	}

	// A firmware change: PCR 0 moves. The TPM refuses; the vault stays sealed.
	tp.Extend(t, 0)
	restart()
	if !sealedNow(t, v.op) {
		t.Fatal("opened by itself after a bound PCR changed")
	}
	v.srv.stop()
	if !strings.Contains(v.srv.log.String(), "auto-unseal refused") {
		t.Errorf("no log line for the refusal: %s", v.srv.log)
	}
	if e := lastUnseal(t, data); e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "bound PCR changed") {
		t.Fatalf("refusal entry %+v", e)
	}

	// The passphrase once renews the TPM's copy under the new PCR values.
	restart()
	v.op.must(0, "unseal", "--passphrase-file", v.pass)
	restart()
	if sealedNow(t, v.op) {
		t.Fatal("not reopened after the manual unseal renewed the copy")
	}
	v.srv.stop()

	// The data directory copied to another machine (a fresh TPM) stays sealed.
	other := swtpmtest.Start(t)
	copied := filepath.Join(t.TempDir(), "data")
	if out, err := exec.Command("cp", "-a", data, copied).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	srv := startServer(t, copied, "--auto-unseal", "tpm", "--tpm-device", other.Socket)
	if !sealedNow(t, newCLI(t, srv, filepath.Dir(copied), "operator")) {
		t.Fatal("a copied data directory opened on another TPM")
	}
	srv.stop()
	if e := lastUnseal(t, copied); e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "did not release") {
		t.Fatalf("copied directory's entry %+v", e)
	}
	// Turned off, the server removes the copy: it would still open the
	// vault for whoever has this TPM.
	srv = startServer(t, copied)
	srv.stop()
	if _, err := os.Stat(filepath.Join(copied, "tpm-seal")); !os.IsNotExist(err) {
		t.Fatalf("DATA/tpm-seal with auto-unseal off: %v", err)
	}
}

func TestAutoUnsealWithoutTPMRefused(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"--auto-unseal", "tpm", "--tpm-device", filepath.Join(t.TempDir(), "no-tpm")},
		{"--auto-unseal", "tpm", "--tpm-device", os.DevNull},
		{"--auto-unseal", "yes"},
		{"--auto-unseal", "tpm", "--auto-unseal-pcrs", "7,24"},
	} {
		cmd := exec.Command(binary, append([]string{"server", "--data", data, "--listen", "127.0.0.1:0"}, args...)...)
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), "--auto-unseal") {
			t.Errorf("%v: exit %v, output %q; want exit 2 and one line naming the flag", args, err, out)
		}
	}
}
