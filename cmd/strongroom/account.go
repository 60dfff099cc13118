package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"strongroom/api/client"
	"strongroom/api/wire"
	"strongroom/vault"
)

func loginCmd(g *globals) *cobra.Command {
	var user, pwFile, newPWFile, code, recovery string
	var browser bool
	cmd := &cobra.Command{
		Use:   "login --user NAME (--password-file F --totp CODE [--new-password-file F2] | --browser)",
		Short: "Log in; the session token is kept in a 0600 file under $STRONGROOM_CONFIG",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" {
				return usagef("--user NAME is required")
			}
			if browser && (pwFile != "" || newPWFile != "" || code != "" || recovery != "") {
				return usagef("--browser takes no password or code: you approve the sign-in in the web interface")
			}
			if code != "" && recovery != "" {
				return usagef("give --totp or --recovery-code, not both")
			}
			var res wire.LoginResponse
			var err error
			if browser {
				var c *client.Client
				if c, err = newClient(g); err == nil {
					out := os.Stdout
					if g.json {
						out = os.Stderr // standard output is the answer's JSON
					}
					res, err = loginBrowser(cmd.Context(), c.WithToken(""), out, user)
				}
			} else {
				res, err = loginPassword(cmd, g, user, pwFile, newPWFile, code, recovery)
			}
			if err != nil {
				return err
			}
			if err := saveToken(res.Token); err != nil {
				return fmt.Errorf("logged in, but cannot save the session: %v", err)
			}
			if g.json {
				return printJSON(wire.Whoami{Name: res.Name, Role: res.Role, MustChange: res.MustChange})
			}
			fmt.Printf("Logged in as %s (%s).\n", res.Name, res.Role)
			if res.MustChange {
				fmt.Println("Your password is a one-time password: change it now with 'strongroom passwd' (nothing else works until then).")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "account name")
	f.StringVar(&pwFile, "password-file", "", "file holding the password")
	f.StringVar(&code, "totp", "", "current TOTP code (required unless a provider exempted you, a member)")
	f.StringVar(&recovery, "recovery-code", "", "a one-time recovery code, instead of --totp when the device is lost")
	f.StringVar(&newPWFile, "new-password-file", "", "file holding a new password (required at first login)")
	f.BoolVar(&browser, "browser", false, "sign in by approving a code in the web interface (for a passkey, or no code at hand)")
	return cmd
}

// loginPassword is login with a password and a second factor.
func loginPassword(cmd *cobra.Command, g *globals, user, pwFile, newPWFile, code, recovery string) (wire.LoginResponse, error) {
	pw, err := secretFromFileOrPrompt(pwFile, "password", "--password-file")
	if err != nil {
		return wire.LoginResponse{}, err
	}
	defer wipe(pw)
	in := wire.LoginRequest{Name: user, Password: pw, TOTP: code, RecoveryCode: recovery}
	if newPWFile != "" {
		npw, err := readSecretFile(newPWFile, "new password")
		if err != nil {
			return wire.LoginResponse{}, err
		}
		defer wipe(npw)
		in.NewPassword = npw
	}
	c, err := newClient(g)
	if err != nil {
		return wire.LoginResponse{}, err
	}
	return c.WithToken("").Login(cmd.Context(), in)
}

func logoutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "End the session and forget its token",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			err = c.Logout(cmd.Context())
			if rerr := os.Remove(tokenPath()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
				err = rerr
			}
			if err == nil {
				fmt.Println("Logged out.")
			}
			return err
		},
	}
}

func passwdCmd(g *globals) *cobra.Command {
	var oldFile, newFile string
	cmd := &cobra.Command{
		Use:   "passwd --old-password-file F --new-password-file F2",
		Short: "Change your password (ends your other sessions)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			old, err := secretFromFileOrPrompt(oldFile, "current password", "--old-password-file")
			if err != nil {
				return err
			}
			defer wipe(old)
			npw, err := secretFromFileOrPrompt(newFile, "new password", "--new-password-file")
			if err != nil {
				return err
			}
			defer wipe(npw)
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.ChangePassword(cmd.Context(), wire.PasswordRequest{OldPassword: old, NewPassword: npw}); err != nil {
				return err
			}
			fmt.Println("Password changed.")
			return nil
		},
	}
	cmd.Flags().StringVar(&oldFile, "old-password-file", "", "file holding the current password")
	cmd.Flags().StringVar(&newFile, "new-password-file", "", "file holding the new password")
	return cmd
}

func userCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage accounts (IT provider)"}
	cmd.AddCommand(userAddCmd(g), userListCmd(g), userDisableCmd(g), userOffboardCmd(g), userCompleteCmd(g), userResetMFACmd(g), userMFAExemptCmd(g), userSetEmailCmd(g))
	return cmd
}

func userAddCmd(g *globals) *cobra.Command {
	var role, expires, email string
	var cf contractFlags
	add := &cobra.Command{
		Use:   "add NAME --role provider|clerk|chairman|auditor|member [--expires DATE] [--email ADDR] [--contractor --agreement REF --scope CRED[,CRED…]]",
		Short: "Add an account; prints its one-time password and TOTP enrolment once",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The vault's role parser, so the CLI refuses what the server
			// would, before asking it.
			if _, err := vault.ParseRole(role); err != nil {
				var ie *vault.InputError
				switch {
				case errors.As(err, &ie) && !cmd.Flags().Changed("role"):
					return usagef("--role is required: %s", ie.Msg)
				case errors.As(err, &ie):
					return usagef("--role: %s", ie.Msg)
				}
				return err
			}
			if _, err := vault.ParseEmail("email", email); err != nil {
				return usagef("--email must be a plain e-mail address, such as clerk@example-parish.gov.uk")
			}
			in := wire.UserRequest{Name: args[0], Role: role, Email: email}
			if expires != "" {
				t, err := parseWhen(expires)
				if err != nil {
					return usagef("--expires must be a date (2026-12-31) or an RFC 3339 time")
				}
				in.Expires = t
			}
			if err := cf.apply(cmd.Flags(), role, &in); err != nil {
				return err
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.CreateUser(cmd.Context(), in)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(res)
			}
			fmt.Printf("Account %s (%s) created. Give these to the person privately; shown once:\n", res.Name, res.Role)
			fmt.Printf("  one-time password: %s\n  TOTP enrolment:    %s\n", res.Password, res.TOTPURI)
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "provider, clerk, chairman, auditor or member")
	add.Flags().StringVar(&email, "email", "", "the person's e-mail address, where the vault's messages to them go")
	add.Flags().StringVar(&expires, "expires", "", "end of a contractor's or third party's access (a date or RFC 3339 time)")
	cf.register(add.Flags())
	return add
}

func userListCmd(g *globals) *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			users, err := c.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(users)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tENDS\tCONTRACTOR")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, userState(u), expiresText(u.Expires), contractText(u))
			}
			return tw.Flush()
		},
	}
	return list
}

func userDisableCmd(g *globals) *cobra.Command {
	disable := &cobra.Command{
		Use:   "disable NAME",
		Short: "Disable an account and end its sessions",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.DisableUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Printf("Account %s disabled; its sessions have ended.\n", args[0])
			return nil
		},
	}
	return disable
}

func userOffboardCmd(g *globals) *cobra.Command {
	var days int
	offboard := &cobra.Command{
		Use:   "offboard NAME [--days N] [--json]",
		Short: "Disable an account, end its sessions and grants, and list what it could read (to rotate)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			rep, err := c.Offboard(cmd.Context(), args[0], days)
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(rep)
			}
			fmt.Printf("%s offboarded: account disabled, sessions ended, %d grants revoked.\n", rep.User, rep.GrantsRevoked)
			return printRotate(rep)
		},
	}
	offboard.Flags().IntVar(&days, "days", 90, "how far back to look for what they could read")
	return offboard
}

func userResetMFACmd(g *globals) *cobra.Command {
	resetMFA := &cobra.Command{
		Use:   "reset-mfa NAME [--json]",
		Short: "Issue a new TOTP enrolment (lost device); voids recovery codes and ends sessions",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.ResetMFA(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(res)
			}
			fmt.Printf("New TOTP enrolment for %s (give it to them privately; shown once):\n  %s\n", res.Name, res.TOTPURI)
			return nil
		},
	}
	return resetMFA
}

func userMFAExemptCmd(g *globals) *cobra.Command {
	var off bool
	exempt := &cobra.Command{
		Use:   "mfa-exempt NAME [--off]",
		Short: "Exempt a member from TOTP at login (recorded), or with --off require it again",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.SetMFAExempt(cmd.Context(), args[0], !off); err != nil {
				return err
			}
			fmt.Printf("%s: %s\n", args[0], map[bool]string{true: "TOTP required at login again", false: "exempted from TOTP at login"}[off])
			return nil
		},
	}
	exempt.Flags().BoolVar(&off, "off", false, "end the exemption")
	return exempt
}

// expiresText is how user list shows an account's end: the time as the
// server sent it (RFC 3339), or nothing when there is none.
func expiresText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// parseWhen reads a date (midnight UTC) or an RFC 3339 time.
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

func mfaCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "mfa", Short: "Your own second factor"}
	cmd.AddCommand(&cobra.Command{
		Use:   "recovery-codes [--json]",
		Short: "Make ten new one-time recovery codes (earlier ones stop working); keep them safe, offline",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.RecoveryCodes(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(res)
			}
			fmt.Println("Recovery codes (each works once, instead of a TOTP code; shown once):")
			for _, code := range res.Codes {
				fmt.Println("  " + code)
			}
			return nil
		},
	})
	return cmd
}

func userSetEmailCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "set-email NAME ADDR",
		Short: "Set the e-mail address the vault's messages to a person go to (\"\" removes it)",
		Args:  nargs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := vault.ParseEmail("email", args[1]); err != nil {
				return usagef("ADDR must be a plain e-mail address, such as clerk@example-parish.gov.uk")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.SetEmail(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			if args[1] == "" {
				fmt.Printf("E-mail address of %s removed.\n", args[0])
			} else {
				fmt.Printf("E-mail address of %s set.\n", args[0])
			}
			return nil
		},
	}
}
