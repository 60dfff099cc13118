package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/shell"

	"strongroom/api/wire"
)

// backupCopy is server --backup-copy: a command run after each scheduled
// backup to put a copy off site, such as
//
//	rclone copyto {file} remote:strongroom/{name}
//
// The template is split into words once, at start, as a POSIX shell would
// split it (quotes work; mvdan.cc/sh), but no shell runs it: {file} (the
// backup's path) and {name} (its file name) are filled into the words,
// so no file name can become a command. Each run is recorded
// (backup.copy), its output goes to the server's log only, and the last
// result is shown in status.
type backupCopy struct {
	words   []string
	timeout time.Duration

	mu      sync.Mutex
	last    wire.Backups
	running bool   // a copy is under way
	pending string // the newest backup written meanwhile, copied next
	done    sync.WaitGroup
}

// parseBackupCopy splits tmpl; "" is no command.
func parseBackupCopy(tmpl string, timeout time.Duration) (*backupCopy, error) {
	b := &backupCopy{timeout: timeout}
	if strings.TrimSpace(tmpl) == "" {
		return b, nil
	}
	var vars bool
	words, err := shell.Fields(tmpl, func(name string) string {
		if name != "IFS" && name != "PWD" { // asked of every command line
			vars = true
		}
		return ""
	})
	switch {
	case err != nil:
		return nil, usagef("--backup-copy is one command with its arguments (quotes allowed; no ;, |, && or $(...))")
	case vars:
		return nil, usagef("--backup-copy may not use $variables or ~: {file} and {name} are filled in")
	case len(words) == 0:
		return nil, usagef("--backup-copy names no command")
	case !strings.Contains(tmpl, "{file}"):
		return nil, usagef("--backup-copy must name the backup as {file}, e.g. 'rclone copyto {file} remote:strongroom/{name}'")
	case timeout < time.Second:
		return nil, usagef("--backup-copy-timeout must be at least 1s")
	}
	b.words = words
	b.last.CopyCommand = true
	return b, nil
}

// copyRecorder records a copy's result (*vault.Vault).
type copyRecorder interface {
	RecordBackupCopy(ctx context.Context, name, why string) error
}

// start notes a scheduled backup written (file) or failed (err), and,
// with a command, copies it in the background. One copy runs at a time:
// backups written meanwhile are not queued, only the newest is copied
// next (the older ones may be pruned by then).
func (b *backupCopy) start(ctx context.Context, v copyRecorder, log *slog.Logger, file string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.last.LastError = "the scheduled backup could not be written (see the server's log)"
		return
	}
	b.last.LastFile, b.last.LastAt, b.last.LastError = filepath.Base(file), time.Now(), ""
	if len(b.words) == 0 {
		return
	}
	if b.running {
		b.pending = file
		return
	}
	b.running = true
	b.done.Add(1)
	go func() {
		defer b.done.Done()
		for {
			b.copyAndRecord(ctx, v, log, file)
			b.mu.Lock()
			file, b.pending = b.pending, ""
			if file == "" || ctx.Err() != nil {
				b.running = false
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
		}
	}()
}

// written is start, waiting for the copy (tests).
func (b *backupCopy) written(ctx context.Context, v copyRecorder, log *slog.Logger, file string, err error) {
	b.start(ctx, v, log, file, err)
	b.done.Wait()
}

// wait waits up to d for a copy under way (at shutdown, after ctx ended
// and its command was killed).
func (b *backupCopy) wait(d time.Duration) {
	ch := make(chan struct{})
	go func() { b.done.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(d):
	}
}

// copyAndRecord copies file and records the result (backup.copy), even
// when the server is stopping (the entry says so).
func (b *backupCopy) copyAndRecord(ctx context.Context, v copyRecorder, log *slog.Logger, file string) {
	why := b.copy(ctx, log, file)
	if ctx.Err() != nil && why != "" {
		why = "the server stopped before the copy finished"
	}
	b.mu.Lock()
	b.last.CopyFile, b.last.CopyAt, b.last.CopyOK, b.last.CopyError = filepath.Base(file), time.Now(), why == "", why
	b.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if rerr := v.RecordBackupCopy(rctx, filepath.Base(file), why); rerr != nil {
		log.Error("the off-site copy's result could not be recorded", "err", rerr)
	}
}

// copy runs the command on file; it says why it failed ("" if it did
// not), in a sentence of its own, never the command's output.
func (b *backupCopy) copy(ctx context.Context, log *slog.Logger, file string) string {
	args := make([]string, len(b.words))
	for i, w := range b.words {
		args[i] = strings.NewReplacer("{file}", file, "{name}", filepath.Base(file)).Replace(w)
	}
	cctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The command's own children (rclone's, a shell's) go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	tail := out.String() // its last 500 bytes, for the log (README: no credentials in the command)
	if len(tail) > 500 {
		tail = tail[len(tail)-500:]
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		log.Info("off-site copy made", "file", filepath.Base(file))
		return ""
	case cctx.Err() == context.DeadlineExceeded:
		log.Error("off-site copy timed out", "file", filepath.Base(file), "output", tail)
		return fmt.Sprintf("the command did not finish within %s", b.timeout)
	case errors.As(err, &ee) && ee.ExitCode() < 0:
		log.Error("off-site copy stopped by a signal", "file", filepath.Base(file), "output", tail)
		return "the command was stopped by a signal"
	case errors.As(err, &ee):
		log.Error("off-site copy failed", "file", filepath.Base(file), "exit", ee.ExitCode(), "output", tail)
		return fmt.Sprintf("the command ended with exit code %d", ee.ExitCode())
	default:
		log.Error("off-site copy could not start", "file", filepath.Base(file), "err", err)
		return "the command could not be started"
	}
}

// status is the scheduled backups' state for status.
func (b *backupCopy) status() wire.Backups {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}
