package main

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"text/tabwriter"

	"strongroom/api/wire"
)

// TestPrintCredential: cred get prints what it printed through
// text/tabwriter, without handing the secret to tabwriter's buffers.
func TestPrintCredential(t *testing.T) {
	info := wire.CredentialInfo{Name: "Facebook page", Kind: "shared", Username: "drayton.bassett.pc", Version: 3,
		Assignees: []string{"Clerk", "Chairman"}}
	for _, cred := range []wire.Credential{
		{CredentialInfo: info, Password: wire.Secret("hunter2")},
		{CredentialInfo: wire.CredentialInfo{Name: "x", Version: 1}, Password: wire.Secret("pw")},
		{CredentialInfo: info, Password: wire.Secret("pw"), TOTPURI: wire.Secret("otpauth://totp/x?secret=AB"), Notes: wire.Secret("one line")},
		{CredentialInfo: info, Password: wire.Secret("pw"), Notes: wire.Secret("PIN 4471\nsecond line\n\nlast")},
		{CredentialInfo: wire.CredentialInfo{Name: "n", URL: "https://example.org", Version: 1}, Password: wire.Secret("p\nq"), Notes: wire.Secret("r\ns")},
	} {
		var got bytes.Buffer
		if err := printCredential(&got, cred); err != nil {
			t.Fatal(err)
		}
		if want := viaTabwriter(cred); got.String() != want {
			t.Errorf("got\n%s\nwant\n%s", got.String(), want)
		}
	}
}

// viaTabwriter is how cred get printed before.
func viaTabwriter(c wire.Credential) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{{"name", c.Name}, {"kind", c.Kind}, {"url", c.URL}, {"username", c.Username},
		{"password", string(c.Password)}, {"version", strconv.Itoa(c.Version)}, {"totp_uri", string(c.TOTPURI)}, {"notes", string(c.Notes)}} {
		if kv[1] != "" {
			fmt.Fprintf(tw, "%s:\t%v\n", kv[0], kv[1])
		}
	}
	fmt.Fprintf(tw, "assignees:\t%s\n", joinNames(c.Assignees))
	tw.Flush()
	return b.String()
}
