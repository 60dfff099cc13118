// Package swtpmtest runs Debian's swtpm as a software TPM 2.0 for tests,
// on a Unix socket in the test's temporary directory, and extends its
// PCRs the way a firmware or boot loader change would.
package swtpmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// Hint is what a skipped test says.
const Hint = "swtpm not installed (apt-get install -y swtpm swtpm-tools)"

// TPM is one running software TPM.
type TPM struct {
	// Socket is the TPM's command socket (server --tpm-device).
	Socket string
	// State is its state directory: a fresh one is another machine.
	State string
	cmd   *exec.Cmd
}

// Start runs a fresh software TPM (its own state directory) until the
// test ends. It skips the test when swtpm is not installed.
func Start(t testing.TB) *TPM {
	t.Helper()
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		t.Skip(Hint)
	}
	dir := t.TempDir()
	tp := &TPM{Socket: filepath.Join(dir, "tpm.sock"), State: filepath.Join(dir, "state")}
	if err := os.Mkdir(tp.State, 0o700); err != nil {
		t.Fatal(err)
	}
	tp.cmd = exec.Command(bin, "socket", "--tpm2",
		"--server", "type=unixio,path="+tp.Socket,
		"--ctrl", "type=unixio,path="+filepath.Join(dir, "ctrl.sock"),
		"--tpmstate", "dir="+tp.State,
		"--flags", "not-need-init,startup-clear")
	tp.cmd.Stderr = os.Stderr
	if err := tp.cmd.Start(); err != nil {
		t.Fatalf("swtpm: %v", err)
	}
	t.Cleanup(func() {
		_ = tp.cmd.Process.Kill()
		_ = tp.cmd.Wait()
	})
	for i := 0; i < 100; i++ {
		if fi, err := os.Stat(tp.Socket); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return tp
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("swtpm did not open its socket")
	return nil
}

// Extend extends PCR pcr's SHA-256 value with a fixed digest, as a
// changed boot component would.
func (tp *TPM) Extend(t testing.TB, pcr int) {
	t.Helper()
	conn, err := linuxudstpm.Open(tp.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	digest := make([]byte, 32)
	digest[0] = 0x5a
	_, err = tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: digest}}},
	}.Execute(conn)
	if err != nil {
		t.Fatalf("extend PCR %d: %v", pcr, err)
	}
}
