package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"strongroom/api/wire"
)

func requestCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "request", Short: "Ask for, approve and deny time-limited access to a credential"}
	var cred, reason string
	var dur time.Duration
	create := &cobra.Command{
		Use:   `create --cred NAME --reason "..." --for DURATION`,
		Short: "Ask for access to a credential for a while; prints the request id",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cred == "" || reason == "" || dur == 0 {
				return usagef("--cred, --reason and --for are required")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			r, err := c.CreateRequest(cmd.Context(), wire.AccessRequestBody{Credential: cred, Reason: reason, For: dur.String()})
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(r)
			}
			fmt.Println(r.ID)
			return nil
		},
	}
	create.Flags().StringVar(&cred, "cred", "", "the credential")
	create.Flags().StringVar(&reason, "reason", "", "why you need it")
	create.Flags().DurationVar(&dur, "for", 0, "how long, e.g. 2h")

	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "Requests: all of them for approvers (pending first), your own otherwise",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			rs, err := c.ListRequests(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(rs)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tCREDENTIAL\tREQUESTER\tFOR\tREASON")
			for _, r := range rs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Credential, r.Requester, r.For, r.Reason)
			}
			return tw.Flush()
		},
	}
	decide := func(verb string) *cobra.Command {
		var why string
		cmd := &cobra.Command{
			Use:   verb + " ID [--reason TEXT]",
			Short: map[string]string{"approve": "Approve a request (clerk or chairman, never your own): it becomes a grant that expires", "deny": "Deny a request"}[verb],
			Args:  nargs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := newClient(g)
				if err != nil {
					return err
				}
				res, err := c.DecideRequest(cmd.Context(), args[0], verb == "approve", why)
				if err != nil {
					return err
				}
				if g.json {
					return printAnswer(res)
				}
				if res.Request == nil {
					return fmt.Errorf("unexpected answer from the server: no request")
				}
				if res.Grant != nil {
					fmt.Printf("Approved: %s may read %s until %s (grant %s).\n", res.Request.Requester, res.Request.Credential,
						res.Grant.Until.Local().Format("15:04 on 2 January 2006"), res.Grant.ID)
				} else {
					fmt.Printf("Denied: %s's request for %s.\n", res.Request.Requester, res.Request.Credential)
				}
				return nil
			},
		}
		cmd.Flags().StringVar(&why, "reason", "", "why, in one line (recorded, and told to the person who asked)")
		return cmd
	}
	cmd.AddCommand(create, list, decide("approve"), decide("deny"))
	return cmd
}

func grantCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "grant", Short: "Time-limited grants"}
	cmd.AddCommand(&cobra.Command{
		Use:   "revoke ID",
		Short: "End a grant early (clerk, chairman or provider)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.RevokeGrant(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Printf("Grant %s revoked.\n", args[0])
			return nil
		},
	})
	return cmd
}

func reportCmdGroup(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Registers and reviews"}
	var days int
	var annual reviewFlags
	review := &cobra.Command{
		Use: "access-review [--days N] [--json] | --year [--confirm NAME ...] [--sign-off] [--json]",
		Short: "The register of admin and shared accounts: who holds access, last used, last reviewed; flags reviews due. " +
			"With --year: the annual review, confirmed login by login and signed off",
		Args: nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if annual.wanted() {
				if cmd.Flags().Changed("days") {
					return usagef("--days is the register's; the annual review (--year, --confirm, --sign-off) covers the last 12 months")
				}
				return runReview(cmd.Context(), g, &annual)
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			reg, err := c.AccessReview(cmd.Context(), days)
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(reg)
			}
			when := func(t time.Time) string {
				if t.IsZero() {
					return "never"
				}
				return t.Local().Format("2006-01-02")
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tKIND\tHOLDERS\tLAST USED\tLAST REVIEWED\t")
			for _, e := range reg {
				var hs []string
				for _, h := range e.Holders {
					hs = append(hs, h.Name+" ("+h.Via+")")
				}
				flag := ""
				if e.ReviewDue {
					flag = fmt.Sprintf("REVIEW DUE (over %d days)", days)
				}
				if e.Compromised {
					flag += " COMPROMISED"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Credential, e.Kind, strings.Join(hs, ", "), when(e.LastUsed), when(e.LastReviewed), flag)
			}
			return tw.Flush()
		},
	}
	review.Flags().IntVar(&days, "days", 90, "how often access must be reviewed")
	annual.add(review)
	cmd.AddCommand(review, healthCmd(g))
	return cmd
}

func credReviewCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "review NAME",
		Short: "Record that you checked who holds access to this account (provider, clerk or chairman)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			if err := c.ReviewCredential(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Printf("Access to %s recorded as reviewed.\n", args[0])
			return nil
		},
	}
}
