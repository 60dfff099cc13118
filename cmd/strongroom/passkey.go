package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
)

// passkeyCmd lists and removes the caller's passkeys. Registering one
// needs a browser (the web interface's Passkeys page): WebAuthn is the
// browser's.
func passkeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "passkey", Short: "Your passkeys and security keys (add them in the web interface)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list [--json]",
		Short: "List your passkeys: name, ID, when added and last used",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.Passkeys(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(res)
			}
			if len(res.Passkeys) == 0 {
				fmt.Println("You have no passkey. Add one on the Passkeys page of the web interface.")
			}
			for _, k := range res.Passkeys {
				used := "not used yet"
				if !k.LastUsed.IsZero() {
					used = "last used " + k.LastUsed.Format("2006-01-02 15:04 MST")
				}
				fmt.Printf("%s  %s  added %s, %s\n", k.ID, k.Name, k.Created.Format("2006-01-02"), used)
			}
			return nil
		},
	})
	var rf reauthFlags
	rm := &cobra.Command{
		Use:   "remove ID [--password-file F --totp CODE]",
		Short: "Remove one of your passkeys (ID from passkey list); asks you to confirm it is you first",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ra, err := rf.open()
			if err != nil {
				return err
			}
			defer ra.wipe()
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if _, err := withReauth(cmd.Context(), c, ra, func() (wire.Passkeys, error) {
				return wire.Passkeys{}, c.RemovePasskey(cmd.Context(), args[0])
			}); err != nil {
				return err
			}
			fmt.Println("Passkey removed; it can no longer be used to sign in.")
			return nil
		},
	}
	rf.add(rm.Flags())
	cmd.AddCommand(rm)
	return cmd
}
