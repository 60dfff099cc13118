package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if ok, err := Notify("READY=1"); ok || err != nil {
		t.Fatalf("outside systemd: %v %v", ok, err)
	}
	path := filepath.Join(t.TempDir(), "notify")
	c := listen(t, path)
	t.Setenv("NOTIFY_SOCKET", path)
	if ok, err := Notify("READY=1\nSTATUS=listening"); !ok || err != nil {
		t.Fatalf("%v %v", ok, err)
	}
	if got := read(t, c); got != "READY=1\nSTATUS=listening" {
		t.Fatalf("got %q", got)
	}
	// The abstract namespace, as systemd usually names its socket.
	abstract := "@strongroom-test-" + strconv.Itoa(os.Getpid())
	ca := listen(t, "\x00"+abstract[1:])
	t.Setenv("NOTIFY_SOCKET", abstract)
	if ok, err := Notify("STOPPING=1"); !ok || err != nil {
		t.Fatalf("%v %v", ok, err)
	}
	if got := read(t, ca); got != "STOPPING=1" {
		t.Fatalf("got %q", got)
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody"))
	if ok, err := Notify("READY=1"); ok || err == nil {
		t.Fatalf("no listener: %v %v", ok, err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	for usec, want := range map[string]time.Duration{"": 0, "x": 0, "-5": 0, "30000000": 15 * time.Second} {
		t.Setenv("WATCHDOG_USEC", usec)
		t.Setenv("WATCHDOG_PID", "")
		if got := WatchdogInterval(); got != want {
			t.Errorf("%q: %v, want %v", usec, got, want)
		}
	}
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "1")
	if WatchdogInterval() != 0 {
		t.Error("a watchdog meant for another process")
	}
}
