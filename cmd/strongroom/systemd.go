package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"strongroom/internal/sdnotify"
	"strongroom/vault"
)

// tellSystemd keeps systemd told (a unit of Type=notify, see
// packaging/strongroom.service): READY=1 once the server listens, STATUS
// as the vault seals and unseals, and, under WatchdogSec=, WATCHDOG=1 for
// as long as the vault answers its status, so a hung server is restarted.
// Outside systemd it returns at once. The caller says STOPPING=1.
func tellSystemd(ctx context.Context, v *vault.Vault, addr string, log *slog.Logger) {
	state := func() string {
		if v.Sealed() {
			return "sealed: waiting for the operator passphrase or the envelopes"
		}
		return "unsealed"
	}
	last := state()
	ok, err := sdnotify.Notify("READY=1\nSTATUS=listening on " + addr + "; " + last)
	if err != nil {
		log.Warn("systemd notification failed", "err", err)
	}
	if !ok {
		return
	}
	wd := sdnotify.WatchdogInterval()
	every := 5 * time.Second
	if wd > 0 && wd < every {
		every = wd
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var msg []string
		if now := state(); now != last {
			last = now
			msg = append(msg, "STATUS=listening on "+addr+"; "+now)
		}
		if wd > 0 {
			sctx, cancel := context.WithTimeout(ctx, every)
			_, err := v.Status(sctx)
			cancel()
			if err == nil {
				msg = append(msg, "WATCHDOG=1")
			}
		}
		if len(msg) > 0 {
			if _, err := sdnotify.Notify(strings.Join(msg, "\n")); err != nil {
				log.Warn("systemd notification failed", "err", err)
			}
		}
	}
}

// tellSystemdStopping says the server is shutting down.
func tellSystemdStopping() { _, _ = sdnotify.Notify("STOPPING=1\nSTATUS=shutting down") }
