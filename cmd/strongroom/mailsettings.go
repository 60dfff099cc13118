package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
	"strongroom/internal/notify"
)

// notifyCmd is `strongroom notify`: the council's switches for each kind
// of the vault's e-mail.
func notifyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "notify", Short: "The council's e-mail settings: which kinds of message the vault sends"}
	settings := &cobra.Command{
		Use:   "settings [--json]",
		Short: "Show each kind of e-mail and whether it is sent",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			s, err := c.MailSettings(cmd.Context())
			if err != nil {
				return err
			}
			return printMailSettings(g, s)
		},
	}
	set := &cobra.Command{
		Use:   "set KIND on|off",
		Short: "Switch one kind of e-mail on or off for the council (IT provider; recorded in the audit log)",
		Args:  nargs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := notify.ParseKind(args[0]); err != nil {
				return usagef("KIND must be one of %s", notify.KindList())
			}
			if args[1] != "on" && args[1] != "off" {
				return usagef("the second argument must be on or off")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			s, err := c.SetMail(cmd.Context(), args[0], args[1] == "on")
			if err != nil {
				return err
			}
			return printMailSettings(g, s)
		},
	}
	cmd.AddCommand(settings, set)
	return cmd
}

func printMailSettings(g *globals, s *wire.MailSettings) error {
	if g.json {
		return printAnswer(s)
	}
	for _, k := range s.Kinds {
		state := "on"
		switch {
		case !k.On:
			state = "off (switched off by the council)"
		case k.ServerOff:
			state = "off (switched off by the server's --mail-off)"
		}
		fmt.Printf("%-12s %s\n", k.Kind, state)
	}
	return nil
}
