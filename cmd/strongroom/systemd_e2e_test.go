package main

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemdNotify: under a unit of Type=notify the server says READY=1
// once it listens (and that it is sealed), keeps the watchdog fed while
// the vault answers, and says STOPPING=1 when told to stop.
func TestSystemdNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", strconv.Itoa(2_000_000))
	t.Setenv("WATCHDOG_PID", "")
	s := startServer(t, t.TempDir())
	next := func(what string) string {
		t.Helper()
		buf := make([]byte, 4096)
		sock.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := sock.Read(buf)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		return string(buf[:n])
	}
	if got := next("READY"); !strings.HasPrefix(got, "READY=1\nSTATUS=listening on 127.0.0.1:") || !strings.Contains(got, "sealed") {
		t.Fatalf("first notification %q", got)
	}
	if got := next("WATCHDOG"); !strings.Contains(got, "WATCHDOG=1") {
		t.Fatalf("second notification %q", got)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	for {
		got := next("STOPPING")
		if strings.HasPrefix(got, "STOPPING=1") {
			break
		}
		if !strings.Contains(got, "WATCHDOG=1") {
			t.Fatalf("before stopping: %q", got)
		}
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("the server after SIGTERM: %v (%s)", err, s.log)
	}
}
