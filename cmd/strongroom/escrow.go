package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"strongroom/api/client"
	"strongroom/api/wire"
)

func escrowCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "escrow", Short: "The sealed envelopes: check one, or re-key and issue new ones"}
	var shareFile string
	check := &cobra.Command{
		Use:   "check --share-file F",
		Short: "Say whether an envelope is a valid, current share (nothing is unsealed)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if shareFile == "" {
				return usagef("--share-file is required")
			}
			share, err := readSecretFile(shareFile, "share")
			if err != nil {
				return err
			}
			defer wipe(share)
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.CheckShare(cmd.Context(), wire.ShareRequest{Share: share})
			if err != nil {
				var ae *client.APIError
				if errors.As(err, &ae) {
					return &exitError{1, ae.Message} // the contract: a bad share is exit 1 with the reason
				}
				return err
			}
			if g.json {
				return printJSON(res)
			}
			fmt.Println(res.Message)
			return nil
		},
	}
	check.Flags().StringVar(&shareFile, "share-file", "", "the .txt envelope, or a file holding only the share (as printed or decoded from the QR code)")
	cmd.AddCommand(check, rekeyCmd(g))
	return cmd
}

func rekeyCmd(g *globals) *cobra.Command {
	var out, passFile string
	var shares, threshold int
	var holders, quorum []string
	var rewrap bool
	cmd := &cobra.Command{
		Use:   "rekey --out DIR [--shares N --threshold K --holder NAME ...] [--passphrase-file F] [--share-file F ...] [--rewrap]",
		Short: "New root key and new envelopes (generation + 1); the old envelopes stop working",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out DIR is required: the new envelopes are shown only once")
			}
			if len(holders) > 0 && shares != 0 && shares != len(holders) {
				return usagef("name one --holder per share: --shares %d but %d holders", shares, len(holders))
			}
			pass, err := secretFromFileOrPrompt(passFile, "operator passphrase", "--passphrase-file")
			if err != nil {
				return err
			}
			defer wipe(pass)
			in := wire.RekeyRequest{Shares: shares, Threshold: threshold, Holders: holders, Passphrase: pass}
			defer func() {
				for _, s := range in.Quorum {
					s.Wipe()
				}
			}()
			for _, f := range quorum {
				s, err := readSecretFile(f, "share")
				if err != nil {
					return err
				}
				in.Quorum = append(in.Quorum, s)
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.Rekey(cmd.Context(), in)
			if err != nil {
				return err
			}
			txts, pdfs, err := writeEnvelopes(out, res.Envelopes)
			if err != nil {
				return fmt.Errorf("%v (the re-key is done; re-key again to issue envelopes)", err)
			}
			if rewrap {
				rw, err := c.Rewrap(cmd.Context())
				if err != nil {
					return fmt.Errorf("%w (the re-key is done and its envelopes written; run escrow rekey --rewrap again later to finish)", err)
				}
				if !g.json {
					fmt.Printf("Rewrapped: %d records sealed again under data key term %d; older terms dropped: %v.\n", rw.Resealed, rw.Term, rw.Dropped)
				}
			}
			if g.json {
				return printJSON(struct {
					Envelopes  []string `json:"envelopes"`
					Generation uint32   `json:"generation"`
					PDFs       []string `json:"pdfs"`
				}{txts, res.Generation, pdfs})
			}
			fmt.Printf("Re-keyed: generation %d. Every earlier envelope is now refused as superseded.\n", res.Generation)
			printEnvelopes(res.Threshold, len(res.Envelopes), res.Envelopes, txts, pdfs)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory to write the new envelopes to")
	f.IntVar(&shares, "shares", 0, "number of shares (default: as now)")
	f.IntVar(&threshold, "threshold", 0, "shares needed (default: as now)")
	f.StringArrayVar(&holders, "holder", nil, "holder of a share, once per share (default: as now)")
	f.StringVar(&passFile, "passphrase-file", "", "file holding the operator passphrase")
	f.StringArrayVar(&quorum, "share-file", nil, "a current envelope, for a re-key by a quorum of holders; repeatable")
	f.BoolVar(&rewrap, "rewrap", false, "then seal every record again under the new data key and drop the old ones (in chunks; run again to resume)")
	return cmd
}

func recoverCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "recover", Short: "After an emergency recovery"}
	var passFile string
	set := &cobra.Command{
		Use:   "set-passphrase --passphrase-file F",
		Short: "Set a new operator passphrase (the chairman during recovery, or a provider)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			pass, err := secretFromFileOrPrompt(passFile, "new operator passphrase", "--passphrase-file")
			if err != nil {
				return err
			}
			defer wipe(pass)
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.SetPassphrase(cmd.Context(), wire.PassphraseRequest{Passphrase: pass}); err != nil {
				return err
			}
			fmt.Println("New operator passphrase set. Now re-key: strongroom escrow rekey --out DIR")
			return nil
		},
	}
	set.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the new passphrase")
	cmd.AddCommand(set)
	return cmd
}

func breakglassCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   `breakglass --reason "..."`,
		Short: "Chairman, after an emergency recovery: read admin credentials for a limited time, every read recorded",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reason == "" {
				return usagef("--reason is required: say why the glass is broken")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.BreakGlass(cmd.Context(), reason)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(res)
			}
			fmt.Printf("Break-glass open until %s. Read admin credentials with: strongroom cred get NAME (each read is recorded with your reason)\n",
				res.Expires.Local().Format("15:04 on 2 January 2006"))
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the glass is broken (recorded with every read)")
	return cmd
}
