package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestUsageErrors: every way of getting the command line wrong exits 2
// with one line on standard error, before anything is sent (the address
// is one where nothing listens).
func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string // in the message
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate" for "strongroom"`},
		{"unknown command, suggestion", []string{"statsu"}, `did you mean "status"?`},
		{"unknown subcommand", []string{"cred", "fetch", "x"}, `unknown command "fetch" for "strongroom cred"`},
		{"unknown subcommand two down", []string{"backup", "verfy"}, "takes 0 argument(s)"},
		{"unknown flag", []string{"status", "--bogus"}, "unknown flag: --bogus"},
		{"unknown shorthand", []string{"cred", "list", "-z"}, "unknown shorthand flag: 'z'"},
		{"unknown flag on a group", []string{"cred", "--bogus"}, "unknown flag: --bogus"},
		{"missing flag argument", []string{"cred", "get", "x", "--version"}, "flag needs an argument: --version"},
		{"bad flag value", []string{"user", "offboard", "x", "--days", "many"}, `invalid argument "many" for "--days"`},
		{"too few arguments", []string{"cred", "get"}, "strongroom cred get takes 1 argument(s), got 0"},
		{"too many arguments", []string{"status", "now"}, "strongroom status takes 0 argument(s), got 1"},
		{"required flag missing", []string{"user", "add", "Somebody"}, "--role is required"},
		{"required flags missing", []string{"restore"}, "--from FILE and --data DIR are required"},
		{"bad address", []string{"status", "--addr", "nowhere"}, "--addr must be a URL"},
		{"audit retention under a year", []string{"server", "--audit-retention", "8759h"}, "--audit-retention must be 0 (keep everything) or at least one year"},
		{"syslog to a remote host without TLS", []string{"server", "--syslog-url", "tcp://siem.example.org:514"}, "--syslog-url must be tls://HOST[:PORT]"},
		{"syslog URL with a password", []string{"server", "--syslog-url", "tls://u:hunter2secret@siem.example.org"}, "--syslog-url must be"},
		{"syslog CA without a URL", []string{"server", "--syslog-ca-file", "ca.pem"}, "--syslog-ca-file needs --syslog-url"},
		{"syslog CA unreadable", []string{"server", "--syslog-url", "tls://siem.example.org", "--syslog-ca-file", "/nonexistent/ca.pem"}, "--syslog-ca-file must be a readable PEM file"},
		{"backup verify without a key", []string{"backup", "verify", "none.srbk"}, "give --key KEY"},
		{"restore without a key", []string{"restore", "--from", "none.srbk", "--data", "none"}, "give --key KEY"},
	}
	for _, tc := range cases {
		cmd := exec.Command(binary, tc.args...)
		cmd.Env = append(os.Environ(), "STRONGROOM_ADDR=https://127.0.0.1:1", "STRONGROOM_CONFIG="+t.TempDir(), "STRONGROOM_TOKEN=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%s: %v, want exit 2\nstderr: %s", tc.name, err, stderr.String())
			continue
		}
		line := strings.TrimSuffix(stderr.String(), "\n")
		if strings.Contains(line, "\n") || !strings.HasPrefix(line, "strongroom: ") || !strings.Contains(line, tc.want) {
			t.Errorf("%s: stderr %q, want one line with %q", tc.name, stderr.String(), tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: stdout %q", tc.name, stdout.String())
		}
		if strings.Contains(stderr.String(), "hunter2secret") {
			t.Errorf("%s: the error quotes the password", tc.name)
		}
	}
}

// TestGroupsShowHelp: a command that only holds others, given nothing,
// still shows its help and exits 0; an unreachable server is exit 1, not 2.
func TestGroupsShowHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{{nil, 0}, {[]string{"cred"}, 0}, {[]string{"audit"}, 0}, {[]string{"status"}, 1}} {
		cmd := exec.Command(binary, tc.args...)
		cmd.Env = append(os.Environ(), "STRONGROOM_ADDR=https://127.0.0.1:1", "STRONGROOM_CONFIG="+t.TempDir(), "STRONGROOM_TOKEN=")
		out, err := cmd.Output()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != tc.code || (tc.code == 0 && !strings.Contains(string(out), "Available Commands")) {
			t.Errorf("%q: exit %d, want %d; stdout %q", tc.args, code, tc.code, out)
		}
	}
}
