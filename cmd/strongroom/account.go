package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
)

func loginCmd(g *globals) *cobra.Command {
	var user, pwFile, newPWFile, code, recovery string
	cmd := &cobra.Command{
		Use:   "login --user NAME --password-file F --totp CODE [--new-password-file F2]",
		Short: "Log in; the session token is kept in a 0600 file under $STRONGROOM_CONFIG",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" {
				return usagef("--user NAME is required")
			}
			if code != "" && recovery != "" {
				return usagef("give --totp or --recovery-code, not both")
			}
			pw, err := secretFromFileOrPrompt(pwFile, "password", "--password-file")
			if err != nil {
				return err
			}
			defer wipe(pw)
			body := map[string]string{"name": user, "password": string(pw), "totp": code, "recovery_code": recovery}
			if newPWFile != "" {
				npw, err := readSecretFile(newPWFile, "new password")
				if err != nil {
					return err
				}
				defer wipe(npw)
				body["new_password"] = string(npw)
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			c.token = ""
			var res wire.LoginResponse
			if _, err := c.do("POST", "/v1/auth/login", body, &res); err != nil {
				return err
			}
			if err := saveToken(res.Token); err != nil {
				return fmt.Errorf("logged in, but cannot save the session: %v", err)
			}
			if g.json {
				return printJSON(map[string]any{"name": res.Name, "role": res.Role, "must_change_password": res.MustChange})
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
	return cmd
}

func logoutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "End the session and forget its token",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := call(g, "POST", "/v1/auth/logout", nil, nil)
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
			if _, err := call(g, "POST", "/v1/auth/password", map[string]string{"old_password": string(old), "new_password": string(npw)}, nil); err != nil {
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
	var role, expires string
	add := &cobra.Command{
		Use:   "add NAME --role provider|clerk|chairman|auditor|member [--expires DATE]",
		Short: "Add an account; prints its one-time password and TOTP enrolment once",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if role == "" {
				return usagef("--role is required")
			}
			body := map[string]any{"name": args[0], "role": role}
			if expires != "" {
				t, err := parseWhen(expires)
				if err != nil {
					return usagef("--expires must be a date (2026-12-31) or an RFC 3339 time")
				}
				body["expires"] = t
			}
			var res wire.OneTimeLogin
			if _, err := call(g, "POST", "/v1/users", body, &res); err != nil {
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
	add.Flags().StringVar(&expires, "expires", "", "end of a contractor's or third party's access (a date or RFC 3339 time)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var users []map[string]any
			raw, err := call(g, "GET", "/v1/users", nil, &users)
			if err != nil {
				return err
			}
			if g.json {
				_, err = os.Stdout.Write(raw)
				return err
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tENDS")
			for _, u := range users {
				state := "active"
				switch {
				case u["disabled"] == true:
					state = "disabled"
				case u["locked"] == true:
					state = "locked"
				case u["must_change_password"] == true:
					state = "awaiting first login"
				}
				ends := ""
				if e, ok := u["expires"].(string); ok && e != "" {
					ends = e
				}
				fmt.Fprintf(tw, "%v\t%v\t%s\t%s\n", u["name"], u["role"], state, ends)
			}
			return tw.Flush()
		},
	}
	disable := &cobra.Command{
		Use:   "disable NAME",
		Short: "Disable an account and end its sessions",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := call(g, "POST", "/v1/users/"+url.PathEscape(args[0])+"/disable", nil, nil); err != nil {
				return err
			}
			fmt.Printf("Account %s disabled; its sessions have ended.\n", args[0])
			return nil
		},
	}
	var days int
	offboard := &cobra.Command{
		Use:   "offboard NAME [--days N] [--json]",
		Short: "Disable an account, end its sessions and grants, and list what it could read (to rotate)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rep struct {
				User          string `json:"user"`
				Days          int    `json:"days"`
				GrantsRevoked int    `json:"grants_revoked"`
				Rotate        []struct {
					Credential, Kind, Why, Action string
				} `json:"rotate"`
			}
			raw, err := call(g, "POST", fmt.Sprintf("/v1/users/%s/offboard?days=%d", url.PathEscape(args[0]), days), nil, &rep)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
			}
			fmt.Printf("%s offboarded: account disabled, sessions ended, %d grants revoked.\n", rep.User, rep.GrantsRevoked)
			if len(rep.Rotate) == 0 {
				fmt.Printf("They could read no credential in the last %d days.\n", rep.Days)
				return nil
			}
			fmt.Printf("Rotate these (they could read them in the last %d days):\n", rep.Days)
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			for _, r := range rep.Rotate {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", strings.ToUpper(r.Action), r.Credential, r.Kind, r.Why)
			}
			return tw.Flush()
		},
	}
	offboard.Flags().IntVar(&days, "days", 90, "how far back to look for what they could read")
	resetMFA := &cobra.Command{
		Use:   "reset-mfa NAME [--json]",
		Short: "Issue a new TOTP enrolment (lost device); voids recovery codes and ends sessions",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var res struct {
				Name    string `json:"name"`
				TOTPURI string `json:"totp_uri"`
			}
			raw, err := call(g, "POST", "/v1/users/"+url.PathEscape(args[0])+"/reset-mfa", nil, &res)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
			}
			fmt.Printf("New TOTP enrolment for %s (give it to them privately; shown once):\n  %s\n", res.Name, res.TOTPURI)
			return nil
		},
	}
	var off bool
	exempt := &cobra.Command{
		Use:   "mfa-exempt NAME [--off]",
		Short: "Exempt a member from TOTP at login (recorded), or with --off require it again",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := call(g, "POST", "/v1/users/"+url.PathEscape(args[0])+"/mfa-exempt", map[string]bool{"exempt": !off}, nil); err != nil {
				return err
			}
			fmt.Printf("%s: %s\n", args[0], map[bool]string{true: "TOTP required at login again", false: "exempted from TOTP at login"}[off])
			return nil
		},
	}
	exempt.Flags().BoolVar(&off, "off", false, "end the exemption")
	cmd.AddCommand(add, list, disable, offboard, resetMFA, exempt)
	return cmd
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
			var res struct {
				Codes []string `json:"codes"`
			}
			raw, err := call(g, "POST", "/v1/auth/recovery-codes", nil, &res)
			if err != nil {
				return err
			}
			defer wipe(raw)
			if g.json {
				return printRaw(raw)
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
