package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
)

func credCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cred", Short: "Store and read credentials"}
	cmd.AddCommand(credPutCmd(g), credGetCmd(g), credListCmd(g), credDeleteCmd(g), credTOTPCmd(g))
	cmd.AddCommand(credLifecycleCmds(g)...)
	cmd.AddCommand(credReviewCmd(g), credUndeleteCmd(g), credHandoverCmd(g), credHandoverConfirmCmd(g))
	return cmd
}

func credPutCmd(g *globals) *cobra.Command {
	var kind, username, pwFile, link, totpURI, totpFile, notesFile string
	var assign, tags []string
	var createOnly bool
	cmd := &cobra.Command{
		Use:   "put NAME --kind admin|shared|personal --username U --password-file F [--url U] [--totp-uri URI] [--assign USER ...]",
		Short: "Store a credential, or a new version of it (old versions are kept)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := wire.CredentialRequest{Name: args[0], Kind: kind, Username: username, URL: link, CreateOnly: createOnly}
			pw, totp, err := readLoginSecrets(pwFile, totpURI, totpFile)
			defer wipe(pw)
			defer wipe(totp)
			if err != nil {
				return err
			}
			in.Password, in.TOTP = pw, totp
			if notesFile != "" {
				n, err := readSecretFile(notesFile, "notes")
				if err != nil {
					return err
				}
				defer wipe(n)
				in.Notes = n
			}
			if cmd.Flags().Changed("assign") {
				in.Assignees = assign
			}
			if cmd.Flags().Changed("tag") {
				in.Tags = tags
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			info, err := c.PutCredential(cmd.Context(), in)
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(info)
			}
			fmt.Printf("Stored %s (%s), version %d; assigned to: %s\n", info.Name, info.Kind, info.Version, joinNames(info.Assignees))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "", "admin, shared or personal (required for a new credential)")
	f.StringVar(&username, "username", "", "login name at the service")
	f.StringVar(&pwFile, "password-file", "", "file holding the password (- for standard input)")
	f.StringVar(&link, "url", "", "where the login is used")
	f.StringVar(&totpURI, "totp-uri", "", "otpauth:// URI or base32 seed of the account's TOTP (prefer --totp-file: flags show in ps)")
	f.StringVar(&totpFile, "totp-file", "", "file holding the otpauth:// URI or base32 seed")
	f.StringVar(&notesFile, "notes-file", "", "file holding notes (kept encrypted)")
	f.StringArrayVar(&assign, "assign", nil, "user who may read it; repeatable (replaces the assignees)")
	f.StringArrayVar(&tags, "tag", nil, "tag; repeatable")
	f.BoolVar(&createOnly, "new", false, "only create: refuse if a credential of this name exists (exit 1)")
	return cmd
}

// readLoginSecrets reads a login's password file (none: nil) and its
// TOTP seed, given in a flag or a file but not both; the caller wipes
// both, on error too.
func readLoginSecrets(pwFile, totpURI, totpFile string) (pw, totp []byte, err error) {
	if totpURI != "" && totpFile != "" {
		return nil, nil, usagef("give --totp-uri or --totp-file, not both")
	}
	if pwFile != "" {
		if pw, err = readSecretFile(pwFile, "password"); err != nil {
			return nil, nil, err
		}
	}
	totp = []byte(totpURI)
	if totpFile != "" {
		t, err := readSecretFile(totpFile, "TOTP")
		if err != nil {
			return pw, nil, err
		}
		// Trimmed in place, so that wiping totp wipes what was read.
		totp = t[:copy(t, bytes.TrimSpace(t))]
		wipe(t[len(totp):])
	}
	return pw, totp, nil
}

func credGetCmd(g *globals) *cobra.Command {
	var version int
	var rf reauthFlags
	cmd := &cobra.Command{
		Use:   "get NAME [--version N] [--password-file F --totp CODE]",
		Short: "Show a credential's secret (assignees only; every read is recorded; an admin secret asks for your password and a new TOTP code)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ra, err := rf.open()
			if err != nil {
				return err
			}
			defer ra.wipe()
			c, err := newClient(g)
			if err != nil {
				return err
			}
			cred, err := withReauth(cmd.Context(), c, ra, func() (wire.Credential, error) {
				return c.GetCredential(cmd.Context(), args[0], version)
			})
			if err != nil {
				return err
			}
			defer cred.Wipe()
			if g.json {
				return printSecretAnswer(cred)
			}
			return printCredential(os.Stdout, cred)
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "an older version (default: current)")
	rf.add(cmd.Flags())
	return cmd
}

// printCredential prints the fields that are set, labels aligned as
// text/tabwriter would align them (a value with a line break ends a block
// of aligned lines), each line from a buffer that is wiped afterwards.
func printCredential(w io.Writer, cred wire.Credential) error {
	type line struct {
		label string
		value []byte
	}
	var lines []line
	for _, l := range []line{{"name", []byte(cred.Name)}, {"kind", []byte(cred.Kind)}, {"url", []byte(cred.URL)},
		{"username", []byte(cred.Username)}, {"password", cred.Password}, {"version", []byte(strconv.Itoa(cred.Version))},
		{"totp_uri", cred.TOTPURI}, {"notes", cred.Notes}} {
		if len(l.value) > 0 {
			lines = append(lines, l)
		}
	}
	lines = append(lines, line{"assignees", []byte(joinNames(cred.Assignees))})
	for start := 0; start < len(lines); {
		end := start + 1
		for end < len(lines) && !bytes.ContainsRune(lines[end-1].value, '\n') {
			end++
		}
		width := 0
		for _, l := range lines[start:end] {
			width = max(width, len(l.label)+1+2)
		}
		for _, l := range lines[start:end] {
			label := l.label + ":" + strings.Repeat(" ", width-len(l.label)-1)
			if err := writeSecretLine(w, []byte(label), l.value); err != nil {
				return err
			}
		}
		start = end
	}
	return nil
}

const credListPage = 1000

func credListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the credentials you may see (no secrets)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			// Pages of 1,000 in name order, following the server's Link
			// rel="next" until the last page.
			list, err := c.AllCredentials(cmd.Context(), wire.ListOptions{Limit: credListPage})
			if err != nil {
				return err
			}
			if g.json {
				if list == nil {
					list = []wire.CredentialInfo{}
				}
				return printAnswer(list)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tUSERNAME\tVERSION\tASSIGNEES\t")
			for _, cr := range list {
				flag := ""
				switch {
				case cr.Compromised != nil:
					flag = "COMPROMISED: rotate now"
				case cr.Handover != nil && cr.Handover.ConfirmedAt.IsZero():
					flag = "handed over by " + cr.Handover.By + ", not yet confirmed by the clerk"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", cr.Name, cr.Kind, cr.Username, cr.Version, joinNames(cr.Assignees), flag)
			}
			return tw.Flush()
		},
	}
}

func credDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Retire a credential (its versions are kept for the record)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.DeleteCredential(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Printf("Credential %s retired.\n", args[0])
			return nil
		},
	}
}

func joinNames(names []string) string {
	if len(names) == 0 {
		return "(nobody)"
	}
	return strings.Join(names, ", ")
}

func credTOTPCmd(g *globals) *cobra.Command {
	var rf reauthFlags
	cmd := &cobra.Command{
		Use:   "totp NAME [--json] [--password-file F --totp CODE]",
		Short: "Show the current TOTP code of a stored login and how long it lasts (recorded as a read; an admin login's code asks for your password and a new TOTP code)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ra, err := rf.open()
			if err != nil {
				return err
			}
			defer ra.wipe()
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := withReauth(cmd.Context(), c, ra, func() (wire.TOTPCode, error) {
				return c.CredentialTOTP(cmd.Context(), args[0])
			})
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(res)
			}
			fmt.Printf("%s  (valid for %d more seconds)\n", res.Code, res.SecondsLeft)
			if res.Warning != "" {
				fmt.Fprintf(os.Stderr, "Note: %s.\n", res.Warning)
			}
			return nil
		},
	}
	rf.add(cmd.Flags())
	return cmd
}
