package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServerConfigFile: settings from --config take effect, the command
// line overrides them, and a bad file is refused with exit 2, one line
// naming the line and quoting none of it.
func TestServerConfigFile(t *testing.T) {
	first := t.TempDir()
	s1 := startServer(t, first)
	s1.stop()
	tls := filepath.Join(first, "tls")
	conf := write(t, filepath.Join(t.TempDir(), "strongroom.conf"), "# the council's vault\n\ntls-cert = "+filepath.Join(tls, "cert.pem")+
		"\ntls-key = \""+filepath.Join(tls, "key.pem")+"\"\nlisten = 127.0.0.1:1\nbreakglass-window = 2h\n")
	s2 := startServer(t, t.TempDir(), "--config", conf)
	if s2.fingerprint != s1.fingerprint {
		t.Fatalf("the certificate named in the file was not used: %s, want %s", s2.fingerprint, s1.fingerprint)
	}
	if strings.HasSuffix(s2.addr, ":1") {
		t.Fatalf("the file's listen overrode the command line's: %s", s2.addr)
	}
	for name, body := range map[string]string{
		"unknown":      "listen = 127.0.0.1:0\nlisten-harder = SECRETISH\n",
		"twice":        "backup-keep = 7,4,12\nbackup-keep = 1,1,1\n",
		"bad value":    "kdf-time = SECRETISH\n",
		"out of range": "checkpoint-interval = 1ms\n",
		"no equals":    "SECRETISH\n",
		"config":       "config = /etc/other.conf\n",
	} {
		path := write(t, filepath.Join(t.TempDir(), "c.conf"), body)
		out, err := exec.Command(binary, "server", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--config", path).CombinedOutput()
		var ee *exec.ExitError
		msg := strings.TrimSpace(string(out))
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || strings.Contains(msg, "\n") || strings.Contains(msg, "SECRETISH") ||
			(name != "out of range" && !strings.Contains(msg, "line ")) {
			t.Errorf("%s: %v, %q", name, err, msg)
		}
	}
	out, err := exec.Command(binary, "server", "--config", filepath.Join(t.TempDir(), "missing.conf")).CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("missing file: %v %q", err, out)
	}
}
