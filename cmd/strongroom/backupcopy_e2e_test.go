package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strongroom/api/wire"
)

// TestBackupCopyOffSite: with --backup-dir and --backup-copy running
// rclone (its local backend standing in for SharePoint, Drive or S3), a
// scheduled backup is taken soon after the unseal, copied off site byte
// for byte, recorded as backup.copy, shown in status, and restores from
// the off-site copy (the quarterly restore drill).
func TestBackupCopyOffSite(t *testing.T) {
	rclone := "/usr/bin/rclone"
	if _, err := os.Stat(rclone); err != nil {
		t.Skip("no rclone here (apt-get install rclone)")
	}
	work := t.TempDir()
	off, backups := filepath.Join(work, "off site"), filepath.Join(work, "backups")
	t.Setenv("RCLONE_CONFIG", filepath.Join(work, "rclone.conf")) // none: the remote is in the environment
	t.Setenv("RCLONE_CONFIG_OFFSITE_TYPE", "local")
	srv := startServer(t, filepath.Join(work, "data"), "--backup-dir", backups, "--backup-every", "1h",
		"--backup-copy", rclone+" copyto {file} 'offsite:"+off+"/{name}'")
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct {
		VerifierKey string `json:"verifier_key"`
		Admin       oneTime
	}
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "Chairman", "--shares", "1", "--threshold", "1", "--admin", "IT Provider",
		"--passphrase-file", pass, "--out", "env", "--json")), &ini)
	provider := newCLI(t, srv, work, "provider")
	op.must(0, "unseal", "--passphrase-file", pass)
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), ini.Admin.Password),
		"--totp", code(t, ini.Admin.TOTPURI), "--new-password-file", write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum"))

	var st wire.Status
	deadline := time.Now().Add(60 * time.Second)
	for {
		json.Unmarshal([]byte(provider.must(0, "status", "--json")), &st)
		if st.Backups != nil && st.Backups.CopyFile != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no off-site copy within a minute of the unseal: %+v\n%s", st.Backups, srv.log)
		}
		time.Sleep(500 * time.Millisecond)
	}
	b := st.Backups
	if !b.CopyCommand || !b.CopyOK || b.CopyError != "" || b.CopyFile != b.LastFile || !strings.HasSuffix(b.CopyFile, ".srbk") {
		t.Fatalf("status after the copy: %+v", b)
	}
	local, err := os.ReadFile(filepath.Join(backups, b.CopyFile))
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(filepath.Join(off, b.CopyFile))
	if err != nil || !bytes.Equal(local, copied) {
		t.Fatalf("the off-site copy differs from the backup (%v)", err)
	}
	if out := provider.must(0, "status"); !strings.Contains(out, "Off-site:    "+b.CopyFile+" copied at") {
		t.Fatalf("status: %s", out)
	}
	if log := provider.must(0, "audit", "export"); !strings.Contains(log, `"action":"backup.copy"`) ||
		!strings.Contains(log, "copied off site by the --backup-copy command") {
		t.Fatal("no backup.copy entry")
	}
	// A clerk-less outsider sees no backup state.
	if out := newCLI(t, srv, work, "nobody").must(0, "status", "--json"); strings.Contains(out, "backups") {
		t.Fatalf("status without a session shows the backups: %s", out)
	}
	// The restore drill, from the off-site copy.
	restored := filepath.Join(work, "restored")
	op.must(0, "restore", "--from", filepath.Join(off, b.CopyFile), "--data", restored, "--key", ini.VerifierKey)
	if _, err := os.Stat(filepath.Join(restored, "strongroom.db")); err != nil {
		t.Fatalf("restored from the off-site copy: %v", err)
	}
}

// recorded is a vault's record of copies, for backupCopy's unit tests.
type recorded struct{ names, whys []string }

func (r *recorded) RecordBackupCopy(_ context.Context, name, why string) error {
	r.names, r.whys = append(r.names, name), append(r.whys, why)
	return nil
}

// TestBackupCopyFailures: a command that fails, is killed, outlives its
// time or cannot start is recorded as failed with the server's own
// sentence (never its output, which goes to the log), and status says so.
func TestBackupCopyFailures(t *testing.T) {
	dir := t.TempDir()
	file := write(t, filepath.Join(dir, "backup-20261202T100000Z.srbk"), "backup bytes")
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	for tmpl, want := range map[string]string{
		"sh -c 'echo SECRET-LOOKING-OUTPUT >&2; exit 3' {file}": "the command ended with exit code 3",
		"sh -c 'kill -KILL $$' {file}":                          "the command was stopped by a signal", // quoted: the shell's $$, not ours
		"sh -c 'sleep 30' {file}":                               "the command did not finish within 1s",
		"/nonexistent/rclone copyto {file} x:{name}":            "the command could not be started",
		"cp {file} " + filepath.Join(dir, "copy-{name}"):        "ok",
	} {
		bc, err := parseBackupCopy(tmpl, time.Second)
		if err != nil {
			t.Fatalf("%q: %v", tmpl, err)
		}
		var r recorded
		bc.written(context.Background(), &r, log, file, nil)
		st := bc.status()
		if want == "ok" {
			if len(r.whys) != 1 || r.whys[0] != "" || !st.CopyOK {
				t.Errorf("%q: %+v %+v", tmpl, r, st)
			}
			if _, err := os.Stat(filepath.Join(dir, "copy-backup-20261202T100000Z.srbk")); err != nil {
				t.Errorf("{name} not filled in: %v", err)
			}
			continue
		}
		if len(r.whys) != 1 || r.whys[0] != want || st.CopyOK || st.CopyError != want || r.names[0] != filepath.Base(file) {
			t.Errorf("%q: recorded %+v, status %+v, want %q", tmpl, r, st, want)
		}
	}
	if !strings.Contains(logged.String(), "SECRET-LOOKING-OUTPUT") {
		t.Error("the command's output is not in the server's log")
	}
	// A backup that failed is not copied.
	bc, _ := parseBackupCopy("cp {file} "+dir+"/never", time.Second)
	var r recorded
	bc.written(context.Background(), &r, log, "", errors.New("disk full"))
	if st := bc.status(); len(r.whys) != 0 || st.LastError == "" || st.CopyFile != "" {
		t.Errorf("after a failed backup: %+v %+v", r, st)
	}
	for _, bad := range []string{"", "rclone copy /etc x:", "a; b {file}", "a | b {file}", "echo $(id) {file}", "cp ~/x {file}", "cp {file} $HOME"} {
		if bc, err := parseBackupCopy(bad, time.Second); bad == "" && (err != nil || len(bc.words) != 0) || bad != "" && err == nil {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
