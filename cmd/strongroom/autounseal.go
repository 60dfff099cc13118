package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"strongroom/internal/tpmseal"
	"strongroom/vault"
)

// autoUnsealFlags are server --auto-unseal tpm and its settings: the
// passphrase-derived key sealed to this machine's TPM 2.0, so that the
// vault reopens by itself after a restart on the same hardware
// (SECURITY.md "Unattended restart").
type autoUnsealFlags struct {
	mode, pcrs, device string
	sealer             *tpmseal.Sealer // set by check when mode is tpm
}

// sealFile is the TPM's sealed copy, in the data directory.
const sealFile = "tpm-seal"

func (a *autoUnsealFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.mode, "auto-unseal", "", "tpm: keep a copy of the passphrase's key sealed to this machine's TPM 2.0, so the vault reopens by itself after a restart on this hardware (a stolen disk or copied database does not); unseal with the passphrase once to start it (SECURITY.md \"Unattended restart\")")
	f.StringVar(&a.pcrs, "auto-unseal-pcrs", "0,2,4,7", "with --auto-unseal tpm: the PCRs (SHA-256 bank, 0 to 15, at least one of 0 to 7) the copy is bound to: firmware, option ROMs, boot loader and Secure Boot state by default (each firmware or boot loader update then needs the passphrase once); 7 alone lets any system signed for Secure Boot unseal it")
	f.StringVar(&a.device, "tpm-device", tpmseal.DefaultDevice, "with --auto-unseal tpm: the TPM's character device, or the Unix socket of a software TPM (swtpm socket --server type=unixio,path=...)")
}

// check refuses an unknown mode, bad PCRs and a TPM that is not there,
// and gives the vault its auto-unsealer (nil: none).
func (a *autoUnsealFlags) check(data string) (vault.AutoUnsealer, error) {
	switch a.mode {
	case "":
		// Off: a copy left from when it was on would still open the vault
		// for whoever has this machine's TPM.
		if err := os.Remove(filepath.Join(data, sealFile)); err == nil {
			fmt.Println("strongroom: auto-unseal is off: removed the TPM's copy of the key (" + sealFile + ")")
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, usagef("auto-unseal is off, but its copy of the key (%s) cannot be removed: %v", sealFile, err)
		}
		return nil, nil
	case "tpm":
	default:
		return nil, usagef("--auto-unseal must be tpm (or not given)")
	}
	pcrs, err := tpmseal.ParsePCRs(a.pcrs)
	if err != nil {
		return nil, usagef("--auto-unseal-pcrs: %v", err)
	}
	if err := tpmseal.Probe(a.device); err != nil {
		return nil, usagef("--auto-unseal tpm: %s: the vault cannot reopen by itself on this machine; start without --auto-unseal, or give the TPM with --tpm-device", strings.TrimPrefix(oneLine(err), "tpmseal: "))
	}
	a.sealer = &tpmseal.Sealer{Device: a.device, File: filepath.Join(data, sealFile), PCRs: pcrs}
	return a.sealer, nil
}

// oneLine is err's text on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// atStart tries the TPM's copy once, if there is one, and says what
// happened on stdout and in the log. Without one it says how to make it.
func (a *autoUnsealFlags) atStart(ctx context.Context, v *vault.Vault, log *slog.Logger) {
	if a.sealer == nil || !v.Sealed() {
		return
	}
	if _, err := os.Stat(a.sealer.File); err != nil {
		fmt.Println("strongroom: auto-unseal: nothing sealed to this machine's TPM yet; unseal with the passphrase once and later restarts reopen by themselves")
		return
	}
	err := v.AutoUnseal(ctx, vault.Request{ID: "auto-unseal"})
	switch {
	case err == nil:
		fmt.Println("strongroom: auto-unsealed with this machine's TPM (recorded)")
		log.Info("auto-unsealed with this machine's TPM")
	case errors.Is(err, vault.ErrAutoUnsealRefused), errors.Is(err, vault.ErrAutoUnsealStale):
		fmt.Printf("strongroom: %s; still sealed: unseal with the passphrase\n", strings.TrimPrefix(oneLine(err), "vault: "))
		log.Warn("auto-unseal refused; the vault stays sealed", "err", err)
	default:
		fmt.Printf("strongroom: auto-unseal failed; still sealed: %s\n", oneLine(err))
		log.Error("auto-unseal failed; the vault stays sealed", "err", err)
	}
}
