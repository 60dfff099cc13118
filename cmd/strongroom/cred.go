package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func credCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cred", Short: "Store and read credentials"}
	cmd.AddCommand(credPutCmd(g), credGetCmd(g), credListCmd(g), credDeleteCmd(g), credTOTPCmd(g))
	cmd.AddCommand(credLifecycleCmds(g)...)
	cmd.AddCommand(credReviewCmd(g), credUndeleteCmd(g))
	return cmd
}

func credPutCmd(g *globals) *cobra.Command {
	var kind, username, pwFile, link, totpURI, totpFile, notesFile string
	var assign, tags []string
	cmd := &cobra.Command{
		Use:   "put NAME --kind admin|shared|personal --username U --password-file F [--url U] [--totp-uri URI] [--assign USER ...]",
		Short: "Store a credential, or a new version of it (old versions are kept)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"name": args[0], "kind": kind, "username": username, "url": link}
			if pwFile != "" {
				pw, err := readSecretFile(pwFile, "password")
				if err != nil {
					return err
				}
				defer wipe(pw)
				body["password"] = string(pw)
			}
			if totpURI != "" && totpFile != "" {
				return usagef("give --totp-uri or --totp-file, not both")
			}
			if totpFile != "" {
				t, err := readSecretFile(totpFile, "TOTP")
				if err != nil {
					return err
				}
				defer wipe(t)
				totpURI = strings.TrimSpace(string(t))
			}
			if totpURI != "" {
				body["totp"] = totpURI
			}
			if notesFile != "" {
				n, err := readSecretFile(notesFile, "notes")
				if err != nil {
					return err
				}
				defer wipe(n)
				body["notes"] = string(n)
			}
			if cmd.Flags().Changed("assign") {
				body["assignees"] = assign
			}
			if cmd.Flags().Changed("tag") {
				body["tags"] = tags
			}
			var info map[string]any
			raw, err := call(g, "POST", "/v1/creds", body, &info)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
			}
			fmt.Printf("Stored %s (%v), version %v; assigned to: %s\n", info["name"], info["kind"], info["version"], joinAny(info["assignees"]))
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
	return cmd
}

func credGetCmd(g *globals) *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "get NAME [--version N]",
		Short: "Show a credential's secret (assignees only; every read is recorded)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/v1/creds/" + url.PathEscape(args[0])
			if version > 0 {
				path += "?version=" + strconv.Itoa(version)
			}
			raw, err := call(g, "GET", path, nil, nil)
			if err != nil {
				return err
			}
			defer wipe(raw)
			if g.json {
				return printRaw(raw)
			}
			var s map[string]any
			if err := json.Unmarshal(raw, &s); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			for _, k := range []string{"name", "kind", "url", "username", "password", "version", "totp_uri", "notes"} {
				if v, ok := s[k]; ok && v != "" {
					fmt.Fprintf(tw, "%s:\t%v\n", k, v)
				}
			}
			fmt.Fprintf(tw, "assignees:\t%s\n", joinAny(s["assignees"]))
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "an older version (default: current)")
	return cmd
}

const credListPage = 1000

func credListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the credentials you may see (no secrets)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Pages of 1,000 in name order, each asking for the names after
			// the last one seen, until a short page.
			var raws []json.RawMessage
			var list []map[string]any
			for after := ""; ; {
				var page []json.RawMessage
				q := url.Values{"limit": {strconv.Itoa(credListPage)}}
				if after != "" {
					q.Set("after", after)
				}
				if _, err := call(g, "GET", "/v1/creds?"+q.Encode(), nil, &page); err != nil {
					return err
				}
				for _, r := range page {
					var m map[string]any
					if err := json.Unmarshal(r, &m); err != nil {
						return err
					}
					list = append(list, m)
				}
				raws = append(raws, page...)
				if len(page) < credListPage {
					break
				}
				after, _ = list[len(list)-1]["name"].(string)
			}
			if g.json {
				if raws == nil {
					raws = []json.RawMessage{}
				}
				raw, err := json.Marshal(raws)
				if err != nil {
					return err
				}
				return printRaw(raw)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tUSERNAME\tVERSION\tASSIGNEES\t")
			for _, cr := range list {
				flag := ""
				if cr["compromised"] != nil {
					flag = "COMPROMISED: rotate now"
				}
				fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%s\t%s\n", cr["name"], cr["kind"], cr["username"], cr["version"], joinAny(cr["assignees"]), flag)
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
			if _, err := call(g, "DELETE", "/v1/creds/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Printf("Credential %s retired.\n", args[0])
			return nil
		},
	}
}

func joinAny(v any) string {
	list, _ := v.([]any)
	var s []string
	for _, x := range list {
		s = append(s, fmt.Sprint(x))
	}
	if len(s) == 0 {
		return "(nobody)"
	}
	return strings.Join(s, ", ")
}

func credTOTPCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "totp NAME [--json]",
		Short: "Show the current TOTP code of a stored login and how long it lasts (recorded as a read)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var res struct {
				Code        string `json:"code"`
				SecondsLeft int    `json:"seconds_left"`
			}
			raw, err := call(g, "GET", "/v1/creds/"+url.PathEscape(args[0])+"/totp", nil, &res)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
			}
			fmt.Printf("%s  (valid for %d more seconds)\n", res.Code, res.SecondsLeft)
			return nil
		},
	}
}
