package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
)

// credHandoverCmd is `cred handover`: anyone signed in hands a council
// account's login over to the council themselves, so that the password
// passes through nobody else's hands.
func credHandoverCmd(g *globals) *cobra.Command {
	var username, pwFile, link, totpFile, reason string
	cmd := &cobra.Command{
		Use:   "handover NAME --username U --password-file F [--url U] [--totp-file F] [--reason R]",
		Short: "Give the council the login of an account you run for it (stored for the clerk and you; nobody else sees the password)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pwFile == "" {
				return usagef("give the login's password with --password-file F (- for standard input)")
			}
			pw, totp, err := readLoginSecrets(pwFile, "", totpFile)
			defer wipe(pw)
			defer wipe(totp)
			if err != nil {
				return err
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			info, err := c.HandOver(cmd.Context(), wire.HandoverRequest{Name: args[0], Username: username, URL: link,
				Password: pw, TOTP: totp, Reason: reason})
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(info)
			}
			fmt.Printf("Handed over %s to the council: stored for %s. The clerk is told and will confirm receiving it.\n",
				info.Name, joinNames(info.Assignees))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&username, "username", "", "login name at the service")
	f.StringVar(&pwFile, "password-file", "", "file holding the password (- for standard input)")
	f.StringVar(&link, "url", "", "where the login is used")
	f.StringVar(&totpFile, "totp-file", "", "file holding the otpauth:// URI or base32 seed of the account's two-factor codes")
	f.StringVar(&reason, "reason", "", "a note for the clerk, such as why you are handing it over")
	return cmd
}

// credHandoverConfirmCmd is `cred handover-confirm`: the clerk confirms
// receiving a handed-over login.
func credHandoverConfirmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "handover-confirm NAME",
		Short: "Confirm, as the clerk, that you received a login someone handed over (recorded)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			info, err := c.ConfirmHandover(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(info)
			}
			by := ""
			if info.Handover != nil {
				by = " from " + info.Handover.By
			}
			fmt.Printf("Confirmed: you received %s%s.\n", info.Name, by)
			return nil
		},
	}
}
