package main

import (
	"fmt"
	"net/url"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func credLifecycleCmds(g *globals) []*cobra.Command {
	var reason string
	compromised := &cobra.Command{
		Use:   `compromised NAME --reason "..."`,
		Short: "Report a suspected compromise: an incident, and the credential is flagged until rotated",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reason == "" {
				return usagef("--reason is required")
			}
			if _, err := call(g, "POST", "/v1/creds/"+url.PathEscape(args[0])+"/compromised", map[string]string{"reason": reason}, nil); err != nil {
				return err
			}
			fmt.Printf("%s is flagged as compromised and the incident recorded. Change the password at the service now, then: strongroom cred rotate %q --generate\n", args[0], args[0])
			return nil
		},
	}
	compromised.Flags().StringVar(&reason, "reason", "", "why compromise is suspected")

	var generate bool
	var pwFile string
	var words, digits int
	rotate := &cobra.Command{
		Use:   "rotate NAME [--generate [--words N --digits N] | --password-file F]",
		Short: "Store a new password as a new version (old versions are kept); clears a compromise flag",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if generate == (pwFile != "") {
				return usagef("give exactly one of --generate or --password-file")
			}
			body := map[string]any{}
			if generate {
				body["generate"] = map[string]int{"words": words, "digits": digits}
			} else {
				pw, err := readSecretFile(pwFile, "password")
				if err != nil {
					return err
				}
				defer wipe(pw)
				body["password"] = string(pw)
			}
			var res struct {
				Name     string `json:"name"`
				Version  int    `json:"version"`
				Password string `json:"password"`
			}
			raw, err := call(g, "POST", "/v1/creds/"+url.PathEscape(args[0])+"/rotate", body, &res)
			if err != nil {
				return err
			}
			defer wipe(raw)
			if g.json {
				return printRaw(raw)
			}
			fmt.Printf("%s rotated: now version %d.\n", res.Name, res.Version)
			if res.Password != "" {
				fmt.Printf("New password (set it at the service now): %s\n", res.Password)
			}
			return nil
		},
	}
	rotate.Flags().BoolVar(&generate, "generate", false, "generate three random words")
	rotate.Flags().StringVar(&pwFile, "password-file", "", "file holding the new password")
	rotate.Flags().IntVar(&words, "words", 3, "with --generate: number of words")
	rotate.Flags().IntVar(&digits, "digits", 0, "with --generate: random digits to append")

	history := &cobra.Command{
		Use:   "history NAME [--json]",
		Short: "List every stored version (no secrets)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []map[string]any
			raw, err := call(g, "GET", "/v1/creds/"+url.PathEscape(args[0])+"/history", nil, &list)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tCREATED\tBY\tUSERNAME\t")
			for _, v := range list {
				cur := ""
				if v["current"] == true {
					cur = "(current)"
				}
				fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%s\n", v["version"], v["created"], v["created_by"], v["username"], cur)
			}
			return tw.Flush()
		},
	}

	var version int
	restore := &cobra.Command{
		Use:   "restore NAME --version N",
		Short: "Make an older version current again (as a new version)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 1 {
				return usagef("--version N is required")
			}
			var res struct {
				Version int `json:"version"`
			}
			if _, err := call(g, "POST", "/v1/creds/"+url.PathEscape(args[0])+"/restore", map[string]int{"version": version}, &res); err != nil {
				return err
			}
			fmt.Printf("Version %d of %s restored as version %d.\n", version, args[0], res.Version)
			return nil
		},
	}
	restore.Flags().IntVar(&version, "version", 0, "the version to bring back")
	return []*cobra.Command{compromised, rotate, history, restore}
}
