package main

import (
	"fmt"
	"os"
	"strings"

	"strongroom/vault"
)

// passkeyConfig turns server --public-url, --require-passkey and
// --passwordless into the vault's passkey settings. Passkeys are bound to
// a host name: with no --public-url (the listener's IP address) or one
// that is not an https:// name, they are off (said on stderr), and
// --require-passkey and --passwordless are refused.
func passkeyConfig(nf *notifyFlags, requireFlag string, passwordless bool, cfg *vault.Config) error {
	off, err := relyingParty(nf, requireFlag, passwordless, cfg)
	if off != "" {
		fmt.Fprintln(os.Stderr, "strongroom: passkeys off: "+off)
	}
	return err
}

func relyingParty(nf *notifyFlags, requireFlag string, passwordless bool, cfg *vault.Config) (offWhy string, err error) {
	var roles []vault.Role
	if requireFlag != "" {
		for _, s := range strings.Split(requireFlag, ",") {
			r, err := vault.ParseRole(strings.TrimSpace(s))
			if err != nil {
				return "", usagef("--require-passkey is a comma-separated list of roles (provider, clerk, chairman, auditor, member), such as provider,chairman")
			}
			roles = append(roles, r)
		}
	}
	need := ""
	switch {
	case roles != nil:
		need = "--require-passkey"
	case passwordless:
		need = "--passwordless"
	}
	if nf.defaultURL {
		if need != "" {
			return "", usagef("%s needs --public-url, the vault's https:// address with a host name (passkeys are bound to it)", need)
		}
		return "no --public-url (passkeys need the vault's https:// address with a host name)", nil
	}
	rp, err := vault.NewRelyingParty(nf.publicURL)
	if err != nil {
		if need != "" {
			return "", usagef("%s needs --public-url to be an https:// address with a host name, not an IP address", need)
		}
		return "--public-url is not an https:// address with a host name", nil
	}
	cfg.RelyingParty, cfg.RequirePasskey, cfg.Passwordless = rp, roles, passwordless
	return "", nil
}
