package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
)

// healthCmd is `report password-health`: the password health report, as
// tables or (--json) the API's answer.
func healthCmd(g *globals) *cobra.Command {
	var olderThan string
	cmd := &cobra.Command{
		Use:   "password-health [--older-than DURATION] [--json]",
		Short: "Reused, weak, old and compromised passwords, missing TOTP, accounts without a second factor (provider or auditor; recorded)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if olderThan != "" {
				if _, err := wire.ParseAge(olderThan); err != nil {
					return usagef("--older-than %s", err)
				}
			}
			// The server's own write limit (5 minutes) bounds it: about two
			// minutes at 100,000 credentials on two CPUs.
			g.timeout = 5 * time.Minute
			c, err := newClient(g)
			if err != nil {
				return err
			}
			rep, err := c.PasswordHealth(cmd.Context(), olderThan)
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(rep)
			}
			printHealth(os.Stdout, rep)
			return nil
		},
	}
	cmd.Flags().StringVar(&olderThan, "older-than", "", "a password unchanged for longer than this is stale: days (365d) or a duration (8760h); default 365d")
	return cmd
}

// printHealth writes the report as one table per check.
func printHealth(out io.Writer, r wire.PasswordHealth) {
	fmt.Fprintf(out, "Password health on %s: %d admin and shared credentials checked (%d personal ones left out: they are their owners' alone).\n",
		r.Generated.Local().Format("2 January 2006 15:04"), r.Checked, r.PersonalLeftOut)
	section := func(title string, fs []wire.HealthFinding) {
		fmt.Fprintf(out, "\n%s: %d\n", title, len(fs))
		if len(fs) == 0 {
			return
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, f := range fs {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Credential, f.Kind, f.Detail)
		}
		tw.Flush()
	}
	fmt.Fprintf(out, "\nPasswords used for more than one login: %d groups\n", len(r.Reused))
	for i, grp := range r.Reused {
		var names []string
		for _, m := range grp.Credentials {
			names = append(names, m.Credential)
		}
		fmt.Fprintf(out, "  %d. %s\n", i+1, strings.Join(names, ", "))
	}
	section("Weak passwords (strength below 3 of 4)", r.Weak)
	section(fmt.Sprintf("Unchanged for more than %d days", r.OlderThanDays), r.Stale)
	section("Reported compromised and not changed since", r.Compromised)
	section("No TOTP stored though the site offers it", r.MissingTOTP)
	section("No TOTP and no web address to judge by", r.NoURL)
	fmt.Fprintf(out, "  (%d of the %d without TOTP are on sites the vault's list does not cover, so not judged)\n", r.TOTPNotJudged, r.WithoutTOTP)
	fmt.Fprintf(out, "\nAccounts that sign in without a second factor: %d\n", len(r.AccountsWithoutMFA))
	for _, a := range r.AccountsWithoutMFA {
		fmt.Fprintf(out, "  %s (%s): %s; end it with: strongroom user mfa-exempt %q --off\n", a.Name, a.Role, a.Detail, a.Name)
	}
	fmt.Fprintln(out, "\nChange a password with: strongroom cred rotate NAME (or on its page in the web interface); add a TOTP seed with: strongroom cred put NAME --totp-file FILE.")
}
