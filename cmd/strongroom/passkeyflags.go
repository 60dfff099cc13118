package main

import (
	"strings"

	"strongroom/vault"
)

// passkeyConfig turns server --public-url and --require-passkey into the
// vault's passkey settings. Passkeys are bound to a host name: with no
// --public-url (the listener's IP address) or one that is not an https://
// name, they are off, and --require-passkey is refused.
func passkeyConfig(nf *notifyFlags, requireFlag string, cfg *vault.Config) (offWhy string, err error) {
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
	if nf.defaultURL {
		if roles != nil {
			return "", usagef("--require-passkey needs --public-url, the vault's https:// address with a host name (passkeys are bound to it)")
		}
		return "no --public-url (passkeys need the vault's https:// address with a host name)", nil
	}
	rp, err := vault.NewRelyingParty(nf.publicURL)
	if err != nil {
		if roles != nil {
			return "", usagef("--require-passkey needs --public-url to be an https:// address with a host name, not an IP address")
		}
		return "--public-url is not an https:// address with a host name", nil
	}
	cfg.RelyingParty, cfg.RequirePasskey = rp, roles
	return "", nil
}
