package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
)

func initCmd(g *globals) *cobra.Command {
	var shares, threshold int
	var holders []string
	var admin, council, passFile, out string
	cmd := &cobra.Command{
		Use:   "init --holder NAME ... --admin NAME --passphrase-file F --out DIR",
		Short: "Initialise a new vault: root key, envelopes for the holders, first provider account",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out DIR is required: the envelopes are shown only once")
			}
			if len(holders) != shares {
				return usagef("name one --holder per share: --shares %d but %d holders", shares, len(holders))
			}
			if admin == "" {
				return usagef("--admin NAME is required (the first IT provider account)")
			}
			pass, err := secretFromFileOrPrompt(passFile, "operator passphrase", "--passphrase-file")
			if err != nil {
				return err
			}
			defer wipe(pass)
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.Init(cmd.Context(), wire.InitRequest{Council: council, Shares: shares, Threshold: threshold,
				Holders: holders, Admin: admin, Passphrase: pass})
			if err != nil {
				return err
			}
			paths, pdfs, err := writeEnvelopes(out, res.Envelopes)
			if err != nil {
				return fmt.Errorf("%v (the vault is initialised; re-key to issue new envelopes)", err)
			}
			if g.json {
				return printJSON(initOutput(res, paths, pdfs))
			}
			fmt.Printf("Vault initialised. It is sealed: unseal it with the passphrase.\n\n")
			fmt.Printf("Vault ID:            %s\n", res.VaultID)
			fmt.Printf("Audit verifier key:  %s\n\n", res.VerifierKey)
			fmt.Printf("First IT provider account (shown once; the password must be changed at first login):\n")
			fmt.Printf("  name:              %s\n  one-time password: %s\n  TOTP enrolment:    %s\n\n", res.Admin.Name, res.Admin.Password, res.Admin.TOTPURI)
			printEnvelopes(threshold, shares, res.Envelopes, paths, pdfs)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&shares, "shares", 3, "number of envelope shares")
	f.IntVar(&threshold, "threshold", 2, "shares needed to open the vault")
	f.StringArrayVar(&holders, "holder", nil, "holder of a share, once per share (the chairman first)")
	f.StringVar(&admin, "admin", "", "name of the first IT provider account")
	f.StringVar(&council, "council", "", "council name, printed on the envelopes")
	f.StringVar(&passFile, "passphrase-file", "", "file holding the operator passphrase")
	f.StringVar(&out, "out", "", "directory to write the envelopes to")
	return cmd
}

// initOutput is what init --json prints, keys in the order they have
// always had (a map's, sorted).
func initOutput(res wire.InitResponse, paths, pdfs []string) any {
	type admin struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		TOTPURI  string `json:"totp_uri"`
	}
	return struct {
		Admin       admin    `json:"admin"`
		Envelopes   []string `json:"envelopes"`
		PDFs        []string `json:"pdfs"`
		VaultID     string   `json:"vault_id"`
		VerifierKey string   `json:"verifier_key"`
	}{admin{res.Admin.Name, res.Admin.Password, res.Admin.TOTPURI}, paths, pdfs, res.VaultID, res.VerifierKey}
}

// writeEnvelopes writes, per holder, the printable PDF and its text twin
// (mode 0600) and returns their paths.
func writeEnvelopes(dir string, envs []wire.Envelope) (txts, pdfs []string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("cannot create %s: %v", dir, err)
	}
	for _, env := range envs {
		base := filepath.Join(dir, fmt.Sprintf("envelope-%d-%s", env.Index, slug(env.Holder)))
		if err := os.WriteFile(base+".txt", []byte(env.Text), 0o600); err != nil {
			return nil, nil, fmt.Errorf("writing the envelope for %s: %v", env.Holder, err)
		}
		if err := os.WriteFile(base+".pdf", env.PDF, 0o600); err != nil {
			return nil, nil, fmt.Errorf("writing the envelope for %s: %v", env.Holder, err)
		}
		txts, pdfs = append(txts, base+".txt"), append(pdfs, base+".pdf")
	}
	return txts, pdfs, nil
}

func printEnvelopes(threshold, shares int, envs []wire.Envelope, txts, pdfs []string) {
	fmt.Printf("Envelopes (%d of %d open the vault). Print each PDF, seal it, give it to its holder, then delete these files:\n", threshold, shares)
	for i := range txts {
		fmt.Printf("  %-12s %s  (text twin %s)\n", envs[i].Holder, pdfs[i], txts[i])
	}
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func unsealCmd(g *globals) *cobra.Command {
	var passFile string
	var shareFiles []string
	var reset bool
	cmd := &cobra.Command{
		Use:   "unseal [--passphrase-file F | --share-file F ... | --reset]",
		Short: "Unseal with the operator passphrase, or with envelope shares (emergency)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if passFile != "" && len(shareFiles) > 0 {
				return usagef("give --passphrase-file or --share-file, not both")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var res wire.UnsealResponse
			switch {
			case reset:
				res, err = c.Unseal(ctx, wire.UnsealRequest{Reset: true})
			case len(shareFiles) > 0:
				for _, f := range shareFiles {
					share, rerr := readSecretFile(f, "share")
					if rerr != nil {
						return rerr
					}
					res, err = c.Unseal(ctx, wire.UnsealRequest{Share: share})
					wipe(share)
					if err != nil {
						return err
					}
					if !g.json && res.Sealed {
						fmt.Printf("Share accepted: %d of %d (given so far: %s)\n", res.Progress, res.Threshold, strings.Join(res.Holders, ", "))
					}
				}
			default:
				pass, perr := secretFromFileOrPrompt(passFile, "operator passphrase", "--passphrase-file")
				if perr != nil {
					return perr
				}
				res, err = c.Unseal(ctx, wire.UnsealRequest{Passphrase: pass})
				wipe(pass)
			}
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(res)
			}
			switch {
			case res.Sealed:
				fmt.Printf("Vault is sealed: %d of %d shares given.\n", res.Progress, res.Threshold)
			case res.Recovery != nil:
				fmt.Printf("Vault unsealed by emergency recovery (%s). This is recorded and reported.\n", strings.Join(res.Recovery.Holders, ", "))
				fmt.Println("Next: set a new passphrase (strongroom recover set-passphrase), then re-key (strongroom escrow rekey).")
				fmt.Println("Until the re-key, routine changes are refused.")
			default:
				fmt.Println("Vault unsealed.")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&passFile, "passphrase-file", "", "file holding the operator passphrase")
	f.StringArrayVar(&shareFiles, "share-file", nil, "an envelope (.txt) or a file holding only the share; repeatable")
	f.BoolVar(&reset, "reset", false, "forget the shares given so far")
	return cmd
}

func sealCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "seal",
		Short: "Seal the vault now: every key leaves memory",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.Seal(cmd.Context()); err != nil {
				return err
			}
			fmt.Println("Vault sealed.")
			return nil
		},
	}
}

func statusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show whether the vault is initialised and sealed",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(st)
			}
			fmt.Printf("Initialised: %v\nSealed:      %v\n", st.Initialized, st.Sealed)
			if st.Recovery != nil {
				fmt.Printf("RECOVERY:    %s\n", st.Recovery.Message)
			}
			if st.Initialized {
				fmt.Printf("Vault ID:    %s\nThreshold:   %d of %d envelope shares (generation %d)\n", st.VaultID, st.Threshold, st.Shares, st.Generation)
				if st.Sealed {
					fmt.Printf("Progress:    %d of %d shares given\n", st.Progress, st.Threshold)
				}
				fmt.Printf("Verifier key: %s\n  from %s\n", st.VerifierKey, st.VerifierKeySource)
			}
			for _, d := range st.Delivery {
				fmt.Printf("Delivery %s: %d delivered, %d waiting, %d failed attempts (%d in a row), %d refused",
					d.Name, d.Delivered, d.Pending, d.Failures, d.Failing, d.Refused)
				if d.Waiting {
					fmt.Print("; waiting for the vault to be unsealed")
				}
				if d.Failing > 0 && d.LastError != "" {
					fmt.Printf("; last: %s", d.LastError)
				}
				fmt.Println()
			}
			printBackups(st.Backups)
			return nil
		},
	}
}

// printBackups says how the scheduled backups and their off-site copies
// went since the server started (shown to a signed-in provider or clerk).
func printBackups(b *wire.Backups) {
	if b == nil {
		return
	}
	when := func(t time.Time) string { return t.Local().Format("2 Jan 2006 15:04 MST") }
	switch {
	case b.LastError != "":
		fmt.Printf("Backups:     LAST FAILED: %s\n", b.LastError)
	case b.LastFile != "":
		fmt.Printf("Backups:     last %s at %s\n", b.LastFile, when(b.LastAt))
	default:
		fmt.Println("Backups:     none yet since the server started")
	}
	switch {
	case !b.CopyCommand:
		fmt.Println("Off-site:    no --backup-copy command: the backups stay on this machine")
	case b.CopyFile == "":
		fmt.Println("Off-site:    no copy yet since the server started")
	case b.CopyOK:
		fmt.Printf("Off-site:    %s copied at %s\n", b.CopyFile, when(b.CopyAt))
	default:
		fmt.Printf("Off-site:    COPY FAILED for %s at %s: %s\n", b.CopyFile, when(b.CopyAt), b.CopyError)
	}
}
