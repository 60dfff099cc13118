// Package sdnotify tells systemd how the service is (sd_notify(3)): a
// datagram of "KEY=value" lines to the socket systemd names in
// $NOTIFY_SOCKET, for a unit of Type=notify, and the keep-alive a unit
// with WatchdogSec= expects. Outside systemd (no $NOTIFY_SOCKET) every
// call does nothing. It is the protocol's whole client side; no library
// is needed for one datagram.
package sdnotify

import (
	"net"
	"os"
	"strconv"
	"time"
)

// Notify sends state, such as "READY=1" or "STOPPING=1\nSTATUS=shutting
// down", to systemd; ok says whether there was a socket to send it to.
func Notify(state string) (ok bool, err error) {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return false, nil
	}
	if name[0] == '@' { // Linux's abstract namespace
		name = "\x00" + name[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, err
	}
	return true, nil
}

// WatchdogInterval is how often to send "WATCHDOG=1": half the unit's
// WatchdogSec= ($WATCHDOG_USEC, for this process per $WATCHDOG_PID), or
// 0 if systemd watches no keep-alive.
func WatchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond / 2
}
