// Command strongroom is the Strongroom vault: the server and its client.
//
// Exit codes: 0 ok, 1 refused or failed, 2 bad usage or input. On failure
// it writes one line to stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/awnumar/memguard"
	"github.com/spf13/cobra"

	"strongroom/api/client"
)

// usageError marks bad usage or input: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitError carries an exit code chosen by a command (e.g. verify failed).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	code := run(withInterrupts(context.Background()), os.Args[1:])
	memguard.SafeExit(code)
}

func run(ctx context.Context, args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if ctx.Err() != nil && !errors.As(err, &ee) {
		// Interrupted: whatever the cut-off call said, say that.
		fmt.Fprintln(os.Stderr, "strongroom: stopped (interrupted)")
		return 130
	}
	msg := strings.TrimSpace(strings.SplitN(err.Error(), "\n", 2)[0])
	var te *client.TransportError
	if errors.As(err, &te) && certificateRefused(err) {
		msg = fmt.Sprintf("cannot verify the server's certificate (%v); pass --ca FILE or --fingerprint", te.Err)
	}
	fmt.Fprintln(os.Stderr, "strongroom: "+msg)
	return exitCode(err)
}

// exitCode chooses the exit code by the error's type, never its text.
func exitCode(err error) int {
	var ue *usageError
	var ee *exitError
	var ae *client.APIError
	switch {
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ae):
		if ae.Status == 400 || ae.Status == 413 || ae.Status == 422 {
			return 2
		}
	}
	return 1
}

type globals struct {
	addr, ca, fingerprint string
	json                  bool
	// timeout is how long a command waits for the server's answer (0:
	// two minutes); a long report sets its own.
	timeout time.Duration
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "strongroom",
		Short:         "Strongroom: an encrypted credential vault for councils",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Every way cobra can refuse a command line becomes a usageError at its
	// source: flag errors here, argument counts in nargs, unknown commands
	// in groupsRefuseUnknown.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.addr, "addr", envOr("STRONGROOM_ADDR", "https://127.0.0.1:8443"), "vault address (env STRONGROOM_ADDR)")
	pf.StringVar(&g.ca, "ca", os.Getenv("STRONGROOM_CA"), "PEM file of the CA or certificate to trust (env STRONGROOM_CA)")
	pf.StringVar(&g.fingerprint, "fingerprint", os.Getenv("STRONGROOM_FINGERPRINT"), "pinned SHA-256 fingerprint of the server certificate (env STRONGROOM_FINGERPRINT)")
	pf.BoolVar(&g.json, "json", false, "print JSON")
	root.AddCommand(serverCmd(), initCmd(g), unsealCmd(g), sealCmd(g), statusCmd(g), loginCmd(g), logoutCmd(g), whoamiCmd(g),
		passwdCmd(g), userCmd(g), credCmd(g), auditCmd(g), escrowCmd(g), recoverCmd(g), breakglassCmd(g), genpassCmd(g), requestCmd(g), grantCmd(g), mfaCmd(g), reportCmdGroup(g), backupCmd(g), restoreCmd(g), importCmd(g), exportCmd(g), notifyCmd(g), passkeyCmd(g))
	root.AddCommand(docsCmd(root))
	root.Version = version
	groupsRefuseUnknown(root)
	return root
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// groupsRefuseUnknown gives every command that only holds others (the
// root, cred, user, ...) a run function, so that a word that is none of its
// commands is a usage error rather than cobra's untyped "unknown command"
// (at the root) or its help page and exit 0 (below it). With no word at
// all, such a command still shows its help.
func groupsRefuseUnknown(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		groupsRefuseUnknown(sub)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2 // cobra's own default, which only its own check applies
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return &usageError{msg}
	}
}

// nargs checks the count of positional arguments as a usage error.
func nargs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
