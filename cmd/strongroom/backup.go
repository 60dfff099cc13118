package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"strongroom/api/client"
	"strongroom/vault"
)

func backupCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Take a backup of the running vault (a consistent snapshot, encrypted as the database is, signed manifest)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out FILE is required")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := writeStreamed(c, out, func(c *client.Client) (io.ReadCloser, error) { return c.Backup(cmd.Context()) }); err != nil {
				return err
			}
			fi, err := os.Stat(out)
			if err != nil {
				return err
			}
			fmt.Printf("Backup written to %s (%d bytes). Check it with: strongroom backup verify %s --passphrase-file F\n", out, fi.Size(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write")
	cmd.AddCommand(backupVerifyCmd(g))
	return cmd
}

// backupOptions reads what a check needs from files: never flags.
func backupOptions(passFile, key string, shareFiles []string) (vault.BackupOptions, error) {
	opt := vault.BackupOptions{VerifierKey: strings.TrimSpace(key)}
	if passFile != "" {
		p, err := readSecretFile(passFile, "passphrase")
		if err != nil {
			return opt, err
		}
		opt.Passphrase = p
	}
	for _, f := range shareFiles {
		s, err := readSecretFile(f, "share")
		if err != nil {
			return opt, err
		}
		opt.Shares = append(opt.Shares, string(s))
		wipe(s)
	}
	return opt, nil
}

func printCheck(g *globals, res *vault.BackupCheck, verb string) error {
	if g.json {
		return printJSON(res)
	}
	m := res.Manifest
	fmt.Printf("%s: vault %s, taken %s, audit head seq %d; signature and checksum good; %d audit entries verify.\n",
		verb, m.VaultID, m.Created.Format("2 Jan 2006 15:04 MST"), m.HeadSeq, res.AuditEntries)
	if res.Decrypted {
		fmt.Printf("Unsealed: %d accounts, %d credentials (%d versions) all decrypt.\n", res.Users, res.Credentials, res.Versions)
	} else {
		fmt.Println("Give --passphrase-file (or --share-file) to check that it unseals and every record decrypts.")
	}
	return nil
}

func backupVerifyCmd(g *globals) *cobra.Command {
	var passFile, key string
	var shares []string
	cmd := &cobra.Command{
		Use:   "verify FILE [--passphrase-file F | --share-file F ...] [--key VERIFIER_KEY]",
		Short: "Check a backup without restoring it (no server needed)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return usagef("cannot read %s: %v", args[0], err)
			}
			defer f.Close()
			opt, err := backupOptions(passFile, key, shares)
			if err != nil {
				return err
			}
			defer wipe(opt.Passphrase)
			res, err := vault.CheckBackup(context.Background(), f, opt)
			if err != nil {
				return &exitError{1, "backup refused: " + trimVault(err)}
			}
			return printCheck(g, res, "Backup OK")
		},
	}
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "the operator passphrase, to check that everything decrypts")
	cmd.Flags().StringArrayVar(&shares, "share-file", nil, "envelope shares instead of the passphrase; repeatable")
	cmd.Flags().StringVar(&key, "key", "", "the vault's audit verifier key: the backup must be this vault's")
	return cmd
}

func restoreCmd(g *globals) *cobra.Command {
	var from, data, passFile, key string
	var shares []string
	cmd := &cobra.Command{
		Use:   "restore --from FILE --data DIR [--passphrase-file F | --share-file F ...] [--key K]",
		Short: "Restore a backup into a new data directory (no server needed), checking it there",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || data == "" {
				return usagef("--from FILE and --data DIR are required")
			}
			f, err := os.Open(from)
			if err != nil {
				return usagef("cannot read %s: %v", from, err)
			}
			defer f.Close()
			opt, err := backupOptions(passFile, key, shares)
			if err != nil {
				return err
			}
			defer wipe(opt.Passphrase)
			res, err := vault.RestoreBackup(context.Background(), io.Reader(f), data, opt)
			if err != nil {
				return &exitError{1, "restore refused: " + trimVault(err)}
			}
			if err := printCheck(g, res, "Restored into "+data); err != nil {
				return err
			}
			if !g.json {
				fmt.Printf("Start it with: strongroom server --data %s (it starts sealed)\n", data)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the backup file")
	f.StringVar(&data, "data", "", "a new, empty data directory")
	f.StringVar(&passFile, "passphrase-file", "", "the operator passphrase, to check that everything decrypts")
	f.StringArrayVar(&shares, "share-file", nil, "envelope shares instead of the passphrase; repeatable")
	f.StringVar(&key, "key", "", "the vault's audit verifier key: the backup must be this vault's")
	return cmd
}

func credUndeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "undelete NAME",
		Short: "Bring back a retired credential with its history (within 90 days)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.UndeleteCredential(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Printf("%s is back (version %d, history kept).\n", res.Name, res.Version)
			return nil
		},
	}
}
