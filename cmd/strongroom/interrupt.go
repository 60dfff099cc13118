package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/awnumar/memguard"
	"golang.org/x/term"
)

// Ctrl-C (or SIGTERM, or SIGHUP) first cancels the command's context, so that a
// command waiting on it stops in order and says so (the server shuts down
// and checkpoints its log; login --browser says it stopped, not signed
// in). A command blocked where it cannot see the context, a passphrase
// prompt, is ended after the grace time, or at once by a second Ctrl-C:
// the terminal is given its echo back, one line is printed, and memguard
// wipes every key before the process exits (130, as shells expect).
var interrupts struct {
	sync.Mutex
	grace time.Duration
	fd    int
	tty   *term.State // the terminal as it was before a prompt turned echo off
}

// interruptGrace is the default time a command has to stop after Ctrl-C.
const interruptGrace = 2 * time.Second

// withInterrupts is ctx cancelled by the first Ctrl-C or SIGTERM.
func withInterrupts(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP) // SIGHUP: the terminal closed
	interrupts.Lock()
	interrupts.grace = interruptGrace
	interrupts.Unlock()
	go func() {
		<-sig
		cancel()
		interrupts.Lock()
		grace := interrupts.grace
		interrupts.Unlock()
		select {
		case <-sig:
		case <-time.After(grace):
		}
		interrupts.Lock()
		if interrupts.tty != nil {
			_ = term.Restore(interrupts.fd, interrupts.tty)
			fmt.Fprintln(os.Stderr)
		}
		interrupts.Unlock()
		fmt.Fprintln(os.Stderr, "strongroom: stopped (interrupted)")
		memguard.SafeExit(130)
	}()
	return ctx
}

// allowStopping gives the command d to stop after Ctrl-C (the server's
// shutdown).
func allowStopping(d time.Duration) {
	interrupts.Lock()
	interrupts.grace = d
	interrupts.Unlock()
}

// promptingOn notes that a prompt has turned the terminal fd's echo off
// (state as it was before), or, with nil, that it is on again.
func promptingOn(fd int, state *term.State) {
	interrupts.Lock()
	interrupts.fd, interrupts.tty = fd, state
	interrupts.Unlock()
}
