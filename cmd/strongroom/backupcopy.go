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

	run  sync.Mutex // one copy at a time
	mu   sync.Mutex
	last wire.Backups
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

// written notes a scheduled backup written (file) or failed (err), and,
// with a command, copies it: the result is recorded in the audit log.
func (b *backupCopy) written(ctx context.Context, v copyRecorder, log *slog.Logger, file string, err error) {
	b.mu.Lock()
	if err != nil {
		b.last.LastError = "the scheduled backup could not be written (see the server's log)"
	} else {
		b.last.LastFile, b.last.LastAt, b.last.LastError = filepath.Base(file), time.Now(), ""
	}
	b.mu.Unlock()
	if err != nil || len(b.words) == 0 {
		return
	}
	b.run.Lock()
	defer b.run.Unlock()
	why := b.copy(ctx, log, file)
	b.mu.Lock()
	b.last.CopyFile, b.last.CopyAt, b.last.CopyOK, b.last.CopyError = filepath.Base(file), time.Now(), why == "", why
	b.mu.Unlock()
	if rerr := v.RecordBackupCopy(ctx, filepath.Base(file), why); rerr != nil {
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
	tail := out.String()
	if len(tail) > 2000 {
		tail = tail[len(tail)-2000:]
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
