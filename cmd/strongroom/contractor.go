package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"strongroom/api/wire"
)

// contractFlags are user add's flags for a contractor's account: the
// agreement it works under and the credentials that agreement covers.
type contractFlags struct {
	contractor bool
	agreement  string
	scope      []string
}

func (cf *contractFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&cf.contractor, "contractor", false, "a contractor working under an agreement (needs --role member, --agreement, --scope and --expires)")
	f.StringVar(&cf.agreement, "agreement", "", "the contractor's agreement reference")
	f.StringSliceVar(&cf.scope, "scope", nil, "the credentials the agreement covers (CRED[,CRED…], or repeat the flag)")
}

// apply checks the flags against the rest of the command line and puts
// them in the request; bad usage is a usageError.
func (cf *contractFlags) apply(f *pflag.FlagSet, role string, in *wire.UserRequest) error {
	if !cf.contractor {
		if f.Changed("agreement") || f.Changed("scope") {
			return usagef("--agreement and --scope are for a contractor's account: add --contractor")
		}
		return nil
	}
	switch {
	case role != "member":
		return usagef("--contractor needs --role member")
	case strings.TrimSpace(cf.agreement) == "":
		return usagef("--contractor needs --agreement REF (the agreement's reference)")
	case len(cf.scope) == 0:
		return usagef("--contractor needs --scope CRED[,CRED…] (the credentials the agreement covers)")
	case in.Expires.IsZero():
		return usagef("--contractor needs --expires DATE (when the agreement ends)")
	}
	for _, s := range cf.scope {
		if strings.TrimSpace(s) == "" {
			return usagef("--scope has an empty credential name")
		}
	}
	in.Contractor, in.Agreement, in.Scope = true, cf.agreement, cf.scope
	return nil
}

func userCompleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "complete NAME [--json]",
		Short: "Work completed: end a contractor's account, grants and sessions at once, and list what to rotate",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			rep, err := c.Complete(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(rep)
			}
			fmt.Printf("%s: work completed; account ended, sessions ended, %d grants revoked.\n", rep.User, rep.GrantsRevoked)
			return printRotate(rep)
		},
	}
}

// printRotate prints what an ended account could read, to rotate.
func printRotate(rep wire.OffboardReport) error {
	if len(rep.Rotate) == 0 {
		fmt.Printf("They could read no credential in the last %d days.\n", rep.Days)
		return nil
	}
	fmt.Printf("Rotate these (they could read them in the last %d days):\n", rep.Days)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, r := range rep.Rotate {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", strings.ToUpper(r.Action), r.Credential, r.Kind, r.Why)
	}
	return tw.Flush()
}

// userState is how user list names an account's state.
func userState(u wire.User) string {
	switch {
	case u.Contractor && !u.Completed.IsZero():
		return "work completed"
	case u.Overdue:
		return "ended: overdue for completion"
	case u.Disabled:
		return "disabled"
	case u.Locked:
		return "locked"
	case u.MustChange:
		return "awaiting first login"
	}
	return "active"
}

// contractText is how user list shows a contractor's agreement.
func contractText(u wire.User) string {
	if !u.Contractor {
		return ""
	}
	return "agreement " + u.Agreement + ", scope: " + strings.Join(u.Scope, ", ")
}
