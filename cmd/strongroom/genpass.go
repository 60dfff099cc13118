package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
	"strongroom/vault"
)

// genpassCmd generates on this machine: the password never crosses the network.
func genpassCmd(g *globals) *cobra.Command {
	opts := vault.DefaultGenOptions()
	var noCapitals bool
	cmd := &cobra.Command{
		Use:   "genpass [--words N] [--separator S] [--digits N] [--no-capitals] [--min-length N] [--json]",
		Short: "Generate a password from three (or more) random words (NCSC), with its entropy",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Capitals = !noCapitals
			gen, err := vault.GeneratePassword(opts)
			if err != nil {
				return usagef("%s", trimVault(err))
			}
			defer wipe(gen.Password)
			if g.json {
				return printSecretAnswer(wire.Generated{EntropyBits: gen.EntropyBits, Words: gen.Words, Password: gen.Password})
			}
			if err := writeSecretLine(os.Stdout, gen.Password); err != nil {
				return err
			}
			fmt.Printf("(%d random words from a list of %d%s: %.1f bits of entropy)\n", gen.Words, vault.WordListSize,
				map[bool]string{true: fmt.Sprintf(" and %d digits", opts.Digits), false: ""}[opts.Digits > 0], gen.EntropyBits)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Words, "words", 3, "number of random words (at least 3)")
	f.StringVar(&opts.Separator, "separator", "-", "between words (up to 3 characters, not letters)")
	f.IntVar(&opts.Digits, "digits", 0, "random digits to append, for sites that demand them")
	f.BoolVar(&noCapitals, "no-capitals", false, "do not capitalise the words")
	f.IntVar(&opts.MinLength, "min-length", 0, "add words until at least this long")
	return cmd
}

func trimVault(err error) string {
	s := err.Error()
	for _, p := range []string{"vault: invalid input: ", "vault: "} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}
