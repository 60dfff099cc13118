package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
)

func credLifecycleCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{credCompromisedCmd(g), credRotateCmd(g), credHistoryCmd(g), credRestoreCmd(g)}
}

func credCompromisedCmd(g *globals) *cobra.Command {
	var reason string
	compromised := &cobra.Command{
		Use:   `compromised NAME --reason "..."`,
		Short: "Report a suspected compromise: an incident, and the credential is flagged until rotated",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reason == "" {
				return usagef("--reason is required")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.MarkCompromised(cmd.Context(), args[0], reason); err != nil {
				return err
			}
			fmt.Printf("%s is flagged as compromised and the incident recorded. Change the password at the service now, then: strongroom cred rotate %q --generate\n", args[0], args[0])
			return nil
		},
	}
	compromised.Flags().StringVar(&reason, "reason", "", "why compromise is suspected")
	return compromised
}

func credRotateCmd(g *globals) *cobra.Command {
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
			var in wire.RotateRequest
			if generate {
				in.Generate = &wire.GenpassRequest{Words: words, Digits: digits}
			} else {
				pw, err := readSecretFile(pwFile, "password")
				if err != nil {
					return err
				}
				defer wipe(pw)
				in.Password = pw
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.RotateCredential(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			defer res.Password.Wipe()
			if g.json {
				return printSecretAnswer(res)
			}
			fmt.Printf("%s rotated: now version %d.\n", res.Name, res.Version)
			if len(res.Password) > 0 {
				return writeSecretLine(os.Stdout, []byte("New password (set it at the service now): "), res.Password)
			}
			return nil
		},
	}
	rotate.Flags().BoolVar(&generate, "generate", false, "generate three random words")
	rotate.Flags().StringVar(&pwFile, "password-file", "", "file holding the new password")
	rotate.Flags().IntVar(&words, "words", 3, "with --generate: number of words")
	rotate.Flags().IntVar(&digits, "digits", 0, "with --generate: random digits to append")
	return rotate
}

func credHistoryCmd(g *globals) *cobra.Command {
	history := &cobra.Command{
		Use:   "history NAME [--json]",
		Short: "List every stored version (no secrets)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			list, err := c.CredentialHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(list)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tCREATED\tBY\tUSERNAME\t")
			for _, v := range list {
				cur := ""
				if v.Current {
					cur = "(current)"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.Version, v.Created, v.CreatedBy, v.Username, cur)
			}
			return tw.Flush()
		},
	}
	return history
}

func credRestoreCmd(g *globals) *cobra.Command {
	var version int
	restore := &cobra.Command{
		Use:   "restore NAME --version N",
		Short: "Make an older version current again (as a new version)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 1 {
				return usagef("--version N is required")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.RestoreVersion(cmd.Context(), args[0], version)
			if err != nil {
				return err
			}
			fmt.Printf("Version %d of %s restored as version %d.\n", version, args[0], res.Version)
			return nil
		},
	}
	restore.Flags().IntVar(&version, "version", 0, "the version to bring back")
	return restore
}
