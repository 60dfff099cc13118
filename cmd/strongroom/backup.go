package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"strongroom/api/client"
	"strongroom/escrow"
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
			fmt.Printf("Backup written to %s (%d bytes). Check it with: strongroom backup verify %s --key VERIFIER_KEY --passphrase-file F\n", out, fi.Size(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write")
	cmd.AddCommand(backupVerifyCmd(g))
	return cmd
}

// backupKeys are the files and flag a backup check takes the vault's
// verifier key from: never the backup itself.
type backupKeys struct {
	key, envelope, passFile string
	shareFiles              []string
}

func (k *backupKeys) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&k.passFile, "passphrase-file", "", "the operator passphrase, to check that everything decrypts")
	f.StringArrayVar(&k.shareFiles, "share-file", nil, "envelope files (or shares) instead of the passphrase; repeatable; a text envelope also gives the verifier key")
	f.StringVar(&k.key, "key", "", "the vault's audit verifier key (printed by init and on every envelope): the backup must be signed by it")
	f.StringVar(&k.envelope, "envelope", "", "a text envelope to take the vault's verifier key from (its share is not used)")
}

// errNoBackupKey is the refusal when no verifier key was given.
var errNoBackupKey = usagef("a backup is checked only against the vault's own verifier key: give --key KEY (printed by init and on every envelope), --envelope FILE or --share-file FILE (a text envelope)")

// options reads what a check needs from files, never flags (but the public
// key): the verifier key from --key, --envelope or the text envelopes given
// as --share-file, which must agree.
func (k *backupKeys) options() (vault.BackupOptions, error) {
	var opt vault.BackupOptions
	keys := map[string]string{} // key -> where it came from
	if key := strings.TrimSpace(k.key); key != "" {
		keys[key] = "--key"
	}
	if k.envelope != "" {
		text, err := readSecretFile(k.envelope, "envelope")
		if err != nil {
			return opt, err
		}
		key, err := escrow.ReadVerifierKey(string(text))
		wipe(text)
		if err != nil {
			return opt, usagef("%s has no audit verifier key line; give --key KEY", k.envelope)
		}
		keys[key] = k.envelope
	}
	for _, f := range k.shareFiles {
		s, err := readSecretFile(f, "share")
		if err != nil {
			return opt, err
		}
		if key, err := escrow.ReadVerifierKey(string(s)); err == nil {
			keys[key] = f
		}
		opt.Shares = append(opt.Shares, string(s))
		wipe(s)
	}
	if len(keys) > 1 {
		return opt, usagef("the verifier keys given differ (%s); give the vault's current one", strings.Join(slices.Sorted(maps.Values(keys)), ", "))
	}
	for key := range keys {
		opt.VerifierKey = key
	}
	if opt.VerifierKey == "" {
		return opt, errNoBackupKey
	}
	if k.passFile != "" {
		p, err := readSecretFile(k.passFile, "passphrase")
		if err != nil {
			return opt, err
		}
		opt.Passphrase = p
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
	var keys backupKeys
	cmd := &cobra.Command{
		Use:   "verify FILE (--key VERIFIER_KEY | --envelope F | --share-file F ...) [--passphrase-file F]",
		Short: "Check a backup without restoring it (no server needed)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opt, err := keys.options()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				wipe(opt.Passphrase)
				return usagef("cannot read %s: %v", args[0], err)
			}
			defer f.Close()
			defer wipe(opt.Passphrase)
			res, err := vault.CheckBackup(context.Background(), f, opt)
			if err != nil {
				return &exitError{1, "backup refused: " + trimVault(err)}
			}
			return printCheck(g, res, "Backup OK")
		},
	}
	keys.flags(cmd)
	return cmd
}

func restoreCmd(g *globals) *cobra.Command {
	var from, data string
	var keys backupKeys
	cmd := &cobra.Command{
		Use:   "restore --from FILE --data DIR (--key K | --envelope F | --share-file F ...) [--passphrase-file F]",
		Short: "Restore a backup into a new data directory (no server needed), checking it there",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || data == "" {
				return usagef("--from FILE and --data DIR are required")
			}
			opt, err := keys.options()
			if err != nil {
				return err
			}
			f, err := os.Open(from)
			if err != nil {
				wipe(opt.Passphrase)
				return usagef("cannot read %s: %v", from, err)
			}
			defer f.Close()
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
	keys.flags(cmd)
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
