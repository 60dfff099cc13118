package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
	"strongroom/transfer"
)

func importCmd(g *globals) *cobra.Command {
	var format, pwFile, keyFile, csvMap, kind, tag string
	var assign []string
	var dry bool
	cmd := &cobra.Command{
		Use:   "import --format kdbx|keepass-xml|bitwarden-json|bitwarden-csv|csv FILE",
		Short: "Import credentials from KeePass, Bitwarden or a spreadsheet: all of them or none, each recorded",
		Long: `Import reads a KeePass KDBX file (4.x or 3.1; Argon2id or AES-KDF; AES-256, ChaCha20
or Twofish; password and/or key file; Argon2d files are read through keepassxc-cli when it
is installed), a KeePass XML export, an unencrypted Bitwarden JSON or CSV export, or a CSV with a header row, and stores
every login in it as a new credential, in one step: if anything goes wrong nothing is stored.
Folders and collections become tags, TOTP seeds and notes are kept, other fields are added to
the notes, and whatever is not imported (recycle bin, cards, attachments, entries with
neither a password nor a TOTP) is listed with the reason; a TOTP with no password comes in
with an empty password. A name already in the vault gets the folder or a number
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
			in := wire.ImportRequest{Format: format, Data: encodeBase64(data), Kind: kind, Tag: tag, DryRun: dry,
				CSVMap: csvMap, Assignees: assign}
			defer func() { in.Data.Wipe(); in.KeyFile.Wipe() }()
			if format == "kdbx" {
				wipeKey, err := addKDBXKey(&in, args[0], data, pwFile, keyFile)
				defer wipeKey()
				if err != nil {
					return err
				}
			} else if pwFile != "" || keyFile != "" {
				return usagef("--password-file and --key-file are for --format kdbx")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			rep, err := c.Import(cmd.Context(), in)
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(rep)
			}
			printImportReport(args[0], rep)
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

// addKDBXKey puts what opens a KDBX file into the request: its password
// (from --password-file, or prompted for) and key file; or, for an
// Argon2d file when keepassxc-cli is installed, replaces the file with the
// KeePass XML keepassxc-cli reads from it. wipeAll clears what it read.
func addKDBXKey(in *wire.ImportRequest, file string, data []byte, pwFile, keyFile string) (wipeAll func(), err error) {
	var pw, kf, xml []byte
	wipeAll = func() { wipe(pw); wipe(kf); wipe(xml) }
	if pwFile == "" && keyFile == "" {
		if pw, err = secretFromFileOrPrompt("", "password of "+file, "--password-file or --key-file"); err != nil {
			return wipeAll, err
		}
	}
	empty := false
	if pwFile != "" {
		// An empty password file is the empty password (KeePass 2 and
		// pykeepass allow one), not a mistake.
		if pw, err = readSecretFile(pwFile, "KDBX password"); err != nil {
			if raw, rerr := os.ReadFile(pwFile); rerr != nil || len(bytes.TrimRight(raw, "\r\n")) > 0 {
				return wipeAll, err
			}
			pw, empty = nil, true
		}
	}
	if keyFile != "" {
		if kf, err = os.ReadFile(keyFile); err != nil {
			return wipeAll, usagef("cannot read the key file: %v", err)
		}
	}
	if kxc, err := exec.LookPath("keepassxc-cli"); err == nil && transfer.UsesArgon2d(data) {
		// x/crypto has no Argon2d: KeePassXC itself reads the file.
		var refused string
		xml, refused = readWithKeePassXC(kxc, file, pw, empty, keyFile)
		in.Data.Wipe()
		if refused != "" {
			// The server records the refusal as it records its own.
			in.Data, in.KeePassXCRefused = wire.Secret{}, refused
			in.ConvertedFrom = "an Argon2d KDBX file keepassxc-cli could not open"
			return wipeAll, nil
		}
		in.Format, in.Data = "keepass-xml", encodeBase64(xml)
		in.ConvertedFrom = "an Argon2d KDBX file read by keepassxc-cli"
		return wipeAll, nil
	}
	in.Password, in.KeyFile, in.EmptyPassword = pw, encodeBase64(kf), empty
	return wipeAll, nil
}

// printImportReport says what an import stored (or would) and what not.
func printImportReport(file string, rep wire.ImportReport) {
	verb := "Imported"
	if rep.DryRun {
		verb = "Would import (dry run, nothing stored)"
	}
	if rep.ConvertedFrom != "" {
		fmt.Printf("%s is %s.\n", file, rep.ConvertedFrom)
	}
	fmt.Printf("%s %d credentials from %s as %s:\n", verb, len(rep.Imported), file, rep.Kind)
	for _, it := range rep.Imported {
		extra := ""
		if it.HasTOTP {
			extra = ", TOTP"
		}
		if it.History > 0 {
			extra += fmt.Sprintf(", %d earlier passwords as versions 1 to %d", it.History, it.History)
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
}

// readWithKeePassXC has keepassxc-cli decrypt a KDBX file and return it
// as KeePass XML, in memory: the plain text never touches the disk. If
// it cannot, refused is the reason's code (transfer.KeePassXCRefusals),
// read from keepassxc-cli's own message, which is never passed on: it
// could quote the file.
func readWithKeePassXC(kxc, file string, pw []byte, empty bool, keyFile string) (xml []byte, refused string) {
	xml, refused = keepassxcExport(kxc, file, pw, empty, keyFile)
	if empty && (refused == "wrong_key" || refused == "wrong_key_no_key_file") {
		// The empty password may be KeePassXC's "no password" (with a key
		// file or none at all, as pykeepass writes password='').
		return keepassxcExport(kxc, file, nil, false, keyFile)
	}
	return xml, refused
}

// keepassxcExport runs keepassxc-cli export once.
func keepassxcExport(kxc, file string, pw []byte, empty bool, keyFile string) (xml []byte, refused string) {
	args := []string{"export", "--format", "xml"}
	if keyFile != "" {
		args = append(args, "--key-file", keyFile)
	}
	if len(pw) == 0 && !empty {
		args = append(args, "--no-password")
	}
	cmd := exec.Command(kxc, append(args, file)...)
	in := append(append([]byte(nil), pw...), '\n')
	defer wipe(in)
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		wipe(out.Bytes())
		return nil, keepassxcRefusal(errOut.String(), keyFile != "")
	}
	return out.Bytes(), ""
}

// keepassxcRefusal maps keepassxc-cli 2.7's messages to a reason code.
func keepassxcRefusal(msg string, keyFile bool) string {
	switch {
	case strings.Contains(msg, "challenge") || strings.Contains(msg, "hardware key") || strings.Contains(msg, "YubiKey"):
		return "hardware_key"
	case strings.Contains(msg, "Invalid credentials") && keyFile:
		return "wrong_key"
	case strings.Contains(msg, "Invalid credentials"):
		return "wrong_key_no_key_file"
	case strings.Contains(msg, "Failed to load key file"):
		return "key_file_unreadable"
	case strings.Contains(msg, "Not a KeePass database"):
		return "not_kdbx"
	}
	return "unreadable"
}

// encodeBase64 encodes a file for the wire into bytes that can be wiped.
func encodeBase64(b []byte) wire.Secret {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(b)))
	base64.StdEncoding.Encode(out, b)
	return out
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
			totp := []byte(code)
			if code == "" {
				if totp, err = secretFromFileOrPrompt("", "a TOTP code from your authenticator", "--totp"); err != nil {
					return err
				}
			}
			defer wipe(totp)
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.Export(cmd.Context(), wire.ExportRequest{Format: format, Passphrase: pass, Password: pw, TOTP: totp})
			if err != nil {
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
