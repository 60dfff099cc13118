package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"strongroom/transfer"
	"strongroom/vault"
)

func importCmd(g *globals) *cobra.Command {
	var format, pwFile, keyFile, csvMap, kind, tag string
	var assign []string
	var dry bool
	cmd := &cobra.Command{
		Use:   "import --format kdbx|keepass-xml|bitwarden-json|bitwarden-csv|csv FILE",
		Short: "Import credentials from KeePass, Bitwarden or a spreadsheet: all of them or none, each recorded",
		Long: `Import reads a KeePass KDBX file (4.x or 3.1; Argon2id or AES-KDF; password and/or key
file; Argon2d files are read through keepassxc-cli when it is installed), a KeePass XML
export, an unencrypted Bitwarden JSON or CSV export, or a CSV with a header row, and stores
every login in it as a new credential, in one step: if anything goes wrong nothing is stored.
Folders and collections become tags, TOTP seeds and notes are kept, other fields are added to
the notes, and whatever is not imported (recycle bin, cards, attachments, entries with no
password) is listed with the reason. A name already in the vault gets the folder or a number
appended. For a generic CSV, columns are found by their usual names; --map names them
(--map title=Account,password=Pass,username=Login,url=Site,notes=Notes,totp=OTP,folder=Group).`,
		Args: nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !contains(transfer.Formats, format) {
				return usagef("--format must be one of %s", strings.Join(transfer.Formats, ", "))
			}
			if _, err := transfer.ParseCSVMap(csvMap); err != nil {
				return usagef("--map: %s", strings.TrimPrefix(err.Error(), "transfer: csv: "))
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usagef("cannot read %s: %v", args[0], err)
			}
			defer wipe(data)
			if len(data) > transfer.MaxFileSize {
				return usagef("%s is larger than %d MiB", args[0], transfer.MaxFileSize>>20)
			}
			req := map[string]any{"format": format, "data": base64.StdEncoding.EncodeToString(data),
				"kind": kind, "tag": tag, "dry_run": dry, "csv_map": csvMap}
			if len(assign) > 0 {
				req["assignees"] = assign
			}
			if format == "kdbx" {
				var pw, kf []byte
				if pwFile == "" && keyFile == "" {
					if pw, err = secretFromFileOrPrompt("", "password of "+args[0], "--password-file or --key-file"); err != nil {
						return err
					}
				}
				if pwFile != "" {
					if pw, err = readSecretFile(pwFile, "KDBX password"); err != nil {
						return err
					}
				}
				defer wipe(pw)
				if keyFile != "" {
					if kf, err = os.ReadFile(keyFile); err != nil {
						return usagef("cannot read the key file: %v", err)
					}
					defer wipe(kf)
				}
				if kxc, err := exec.LookPath("keepassxc-cli"); err == nil && transfer.UsesArgon2d(data) {
					// x/crypto has no Argon2d: KeePassXC itself reads the file.
					xml, err := readWithKeePassXC(kxc, args[0], pw, keyFile)
					if err != nil {
						return err
					}
					defer wipe(xml)
					req["format"], req["data"] = "keepass-xml", base64.StdEncoding.EncodeToString(xml)
					req["converted_from"] = "an Argon2d KDBX file read by keepassxc-cli"
				} else {
					req["password"] = string(pw)
					req["key_file"] = base64.StdEncoding.EncodeToString(kf)
				}
			} else if pwFile != "" || keyFile != "" {
				return usagef("--password-file and --key-file are for --format kdbx")
			}
			var rep vault.ImportReport
			raw, err := call(g, "POST", "/v1/import", req, &rep)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
			}
			verb := "Imported"
			if rep.DryRun {
				verb = "Would import (dry run, nothing stored)"
			}
			if rep.ConvertedFrom != "" {
				fmt.Printf("%s is %s.\n", args[0], rep.ConvertedFrom)
			}
			fmt.Printf("%s %d credentials from %s as %s:\n", verb, len(rep.Imported), args[0], rep.Kind)
			for _, it := range rep.Imported {
				extra := ""
				if it.HasTOTP {
					extra = ", TOTP"
				}
				if it.Note != "" {
					extra += "; " + it.Note
				}
				fmt.Printf("  %-32s tags %s (%s%s)\n", it.Name, strings.Join(it.Tags, ", "), it.Source, extra)
			}
			if len(rep.Skipped) > 0 {
				fmt.Printf("Not imported (%d):\n", len(rep.Skipped))
				for _, s := range rep.Skipped {
					fmt.Printf("  %s %q: %s\n", s.Source, s.Title, s.Reason)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "kdbx, keepass-xml, bitwarden-json, bitwarden-csv or csv")
	f.StringVar(&pwFile, "password-file", "", "file holding the KDBX file's password (prompted for at a terminal)")
	f.StringVar(&keyFile, "key-file", "", "the KDBX file's key file, if it has one")
	f.StringVar(&csvMap, "map", "", "for csv: field=Column pairs, e.g. title=Account,password=Pass")
	f.StringVar(&kind, "kind", "shared", "kind of the imported credentials: admin, shared or personal")
	f.StringSliceVar(&assign, "assign", nil, "who may read them (repeatable; default you)")
	f.StringVar(&tag, "tag", "imported", "a tag added to every imported credential")
	f.BoolVar(&dry, "dry-run", false, "check the file and show what would be imported, storing nothing")
	return cmd
}

// readWithKeePassXC has keepassxc-cli decrypt a KDBX file and return it
// as KeePass XML, in memory: the plain text never touches the disk.
func readWithKeePassXC(kxc, file string, pw []byte, keyFile string) ([]byte, error) {
	args := []string{"export", "-q", "--format", "xml"}
	if keyFile != "" {
		args = append(args, "--key-file", keyFile)
	}
	if len(pw) == 0 {
		args = append(args, "--no-password")
	}
	cmd := exec.Command(kxc, append(args, file)...)
	in := append(append([]byte(nil), pw...), '\n')
	defer wipe(in)
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(strings.SplitN(errOut.String(), "\n", 2)[0])
		if msg == "" {
			msg = err.Error()
		}
		wipe(out.Bytes())
		return nil, usagef("keepassxc-cli could not open %s (it uses Argon2d, which keepassxc-cli reads for us): %s", file, msg)
	}
	return out.Bytes(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func exportCmd(g *globals) *cobra.Command {
	var format, out, passFile, pwFile, code string
	cmd := &cobra.Command{
		Use:   "export --format kdbx --out FILE --passphrase-file F",
		Short: "Export admin and shared credentials (and your personal ones) to a KeePass KDBX 4 file (IT provider; asks for your password and a TOTP code again)",
		Long: `Export writes every live admin and shared credential, and your own personal ones, to a KDBX 4
file (Argon2id, AES-256) that KeePassXC and KeePass open, protected by the passphrase in
--passphrase-file (as strong as an account password: three random words). Other people's
personal credentials are never exported. Only the IT provider may export, and only after
giving their password and a fresh TOTP code again; every credential exported is recorded.`,
		Args: nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "kdbx" {
				return usagef("--format kdbx is the export format")
			}
			if out == "" || passFile == "" {
				return usagef("--out FILE and --passphrase-file F are required")
			}
			pass, err := readSecretFile(passFile, "export passphrase")
			if err != nil {
				return err
			}
			defer wipe(pass)
			pw, err := secretFromFileOrPrompt(pwFile, "your password (re-authentication)", "--password-file")
			if err != nil {
				return err
			}
			defer wipe(pw)
			if code == "" {
				c, err := secretFromFileOrPrompt("", "a TOTP code from your authenticator", "--totp")
				if err != nil {
					return err
				}
				code = string(c)
			}
			var res struct {
				File string `json:"file"`
				vault.ExportReport
			}
			if _, err := call(g, "POST", "/v1/export", map[string]string{"format": format, "passphrase": string(pass),
				"password": string(pw), "totp": code}, &res); err != nil {
				return err
			}
			file, err := base64.StdEncoding.DecodeString(res.File)
			if err != nil {
				return fmt.Errorf("unexpected answer from the server: %v", err)
			}
			tmp := out + ".partial"
			if err := os.WriteFile(tmp, file, 0o600); err != nil {
				return err
			}
			if err := os.Rename(tmp, out); err != nil {
				return err
			}
			if g.json {
				return printJSON(res.ExportReport)
			}
			fmt.Printf("Exported %d credentials to %s (KDBX 4, Argon2id; opens in KeePassXC with the passphrase).\n", res.Exported, out)
			if res.OthersPersonal > 0 {
				fmt.Printf("%d personal credentials of other people were left out: they are theirs alone.\n", res.OthersPersonal)
			}
			fmt.Println("Keep the file as safe as the vault, and delete it when done: every credential in it is now outside the audit.")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "kdbx", "export format (kdbx)")
	f.StringVar(&out, "out", "", "file to write")
	f.StringVar(&passFile, "passphrase-file", "", "file holding the passphrase that will protect the export")
	f.StringVar(&pwFile, "password-file", "", "file holding your account password (prompted for at a terminal)")
	f.StringVar(&code, "totp", "", "a current TOTP code (prompted for at a terminal)")
	return cmd
}
