package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

type accessRequest struct {
	ID         string        `json:"id"`
	Credential string        `json:"credential"`
	Requester  string        `json:"requester"`
	Reason     string        `json:"reason"`
	For        time.Duration `json:"for_ns"`
	Created    time.Time     `json:"created"`
	Status     string        `json:"status"`
	DecidedBy  string        `json:"decided_by"`
	GrantID    string        `json:"grant_id"`
}

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
			var r accessRequest
			raw, err := call(g, "POST", "/v1/requests", map[string]string{"credential": cred, "reason": reason, "for": dur.String()}, &r)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
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
			var rs []accessRequest
			raw, err := call(g, "GET", "/v1/requests", nil, &rs)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
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
		return &cobra.Command{
			Use:   verb + " ID",
			Short: map[string]string{"approve": "Approve a request (clerk or chairman, never your own): it becomes a grant that expires", "deny": "Deny a request"}[verb],
			Args:  nargs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := newClient(g)
				if err != nil {
					return err
				}
				var res struct {
					Request accessRequest `json:"request"`
					Grant   *struct {
						ID    string    `json:"id"`
						Until time.Time `json:"until"`
					} `json:"grant"`
				}
				raw, err := c.do("POST", "/v1/requests/"+url.PathEscape(args[0])+"/"+verb, nil, &res)
				if err != nil {
					return err
				}
				if g.json {
					_, err = os.Stdout.Write(append(raw, '\n'))
					return err
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
			if _, err := call(g, "POST", "/v1/grants/"+url.PathEscape(args[0])+"/revoke", nil, nil); err != nil {
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
	review := &cobra.Command{
		Use:   "access-review [--days N] [--json]",
		Short: "The register of admin and shared accounts: who holds access, last used, last reviewed; flags reviews due",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var reg []struct {
				Credential   string    `json:"credential"`
				Kind         string    `json:"kind"`
				LastUsed     time.Time `json:"last_used"`
				LastReviewed time.Time `json:"last_reviewed"`
				ReviewDue    bool      `json:"review_due"`
				Compromised  bool      `json:"compromised"`
				Holders      []struct {
					Name, Via string
				} `json:"holders"`
			}
			raw, err := call(g, "GET", fmt.Sprintf("/v1/report/access-review?days=%d", days), nil, &reg)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(raw)
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
	cmd.AddCommand(review)
	return cmd
}

func credReviewCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "review NAME",
		Short: "Record that you checked who holds access to this account (provider, clerk or chairman)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := call(g, "POST", "/v1/creds/"+url.PathEscape(args[0])+"/review", nil, nil); err != nil {
				return err
			}
			fmt.Printf("Access to %s recorded as reviewed.\n", args[0])
			return nil
		},
	}
}
