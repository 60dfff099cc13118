package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"strongroom/api/client"
	"strongroom/api/wire"
)

// reauthFlags are the flags of a command that may reveal an admin secret
// or its TOTP code, which the vault shows only to a session that gave its
// password and a new TOTP code again within five minutes. Without them the
// command asks at a terminal, and only when the server says it must.
type reauthFlags struct {
	pwFile string
	code   string
}

func (r *reauthFlags) add(f *pflag.FlagSet) {
	f.StringVar(&r.pwFile, "password-file", "", "file holding your account password, for a re-authentication if the server asks (prompted for at a terminal)")
	f.StringVar(&r.code, "totp", "", "a TOTP code newer than the one you logged in with, for a re-authentication if the server asks (prompted for at a terminal)")
}

// reauth is what a command was given to re-authenticate with, read before
// anything is sent so that a bad flag is a usage error up front.
type reauth struct {
	flags *reauthFlags
	pw    []byte
}

// open checks the flags and reads the password file, if one was given.
// The caller wipes (defer r.wipe()).
func (r *reauthFlags) open() (*reauth, error) {
	if r.code != "" && !totpShape(r.code) {
		return nil, usagef("--totp must be the 6 to 8 digits your authenticator shows")
	}
	ra := &reauth{flags: r}
	if r.pwFile != "" {
		pw, err := readSecretFile(r.pwFile, "password")
		if err != nil {
			return nil, err
		}
		ra.pw = pw
	}
	return ra, nil
}

func (ra *reauth) wipe() { wipe(ra.pw) }

func totpShape(s string) bool {
	if len(s) < 6 || len(s) > 8 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// withReauth runs call; when the server answers that the session must
// re-authenticate first, it re-authenticates with the flags (or what it
// asks for at a terminal) and runs call once more.
func withReauth[T any](ctx context.Context, c *client.Client, ra *reauth, call func() (T, error)) (T, error) {
	out, err := call()
	if !client.NeedsReauth(err) {
		return out, err
	}
	if err := ra.confirm(ctx, c); err != nil {
		var zero T
		return zero, err
	}
	return call()
}

// confirm re-authenticates the session.
func (ra *reauth) confirm(ctx context.Context, c *client.Client) error {
	atTerminal := term.IsTerminal(int(os.Stdin.Fd()))
	if (ra.pw == nil || ra.flags.code == "") && !atTerminal {
		return usagef("this needs a re-authentication: give --password-file FILE and --totp CODE (a code newer than the one you logged in with)")
	}
	pw := ra.pw
	if pw == nil {
		fmt.Fprintln(os.Stderr, "The vault asks you to confirm it is you before it shows this.")
		var err error
		if pw, err = secretFromFileOrPrompt("", "your password", "--password-file"); err != nil {
			return err
		}
		defer wipe(pw)
	}
	code := []byte(ra.flags.code)
	if ra.flags.code == "" {
		var err error
		if code, err = secretFromFileOrPrompt("", "a new TOTP code from your authenticator", "--totp"); err != nil {
			return err
		}
		defer wipe(code)
	}
	if !totpShape(string(code)) {
		return usagef("a TOTP code is the 6 to 8 digits your authenticator shows")
	}
	err := c.Reauthenticate(ctx, wire.ReauthRequest{Password: pw, TOTP: string(code)})
	if client.NeedsReauth(err) {
		return &reauthRefusedError{err}
	}
	return err
}

// reauthRefusedError is a refused re-authentication: its own message, the
// server's answer (exit code 1) underneath.
type reauthRefusedError struct{ err error }

func (e *reauthRefusedError) Error() string {
	return "re-authentication refused: wrong password, or a wrong or already used TOTP code (wait for the next code)"
}

func (e *reauthRefusedError) Unwrap() error { return e.err }
