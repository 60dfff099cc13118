package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"strongroom/api/client"
	"strongroom/api/wire"
)

// loginBrowser is `login --user NAME --browser`: the sign-in is approved
// in the web interface by the person named (RFC 8628 device
// authorisation), for a person whose only second factor is one a terminal
// cannot offer. It prints the link and the code, then polls until the
// answer; Ctrl-C stops it.
func loginBrowser(ctx context.Context, c *client.Client, out io.Writer, user string) (wire.LoginResponse, error) {
	ds, err := c.StartDevice(ctx, user)
	if err != nil {
		return wire.LoginResponse{}, err
	}
	fmt.Fprintf(out, "To sign in as %s, open this page in a browser where you are signed in to Strongroom as %s:\n\n    %s\n\n"+
		"and type this code:\n\n    %s\n\nThe code works for %d minutes. Waiting for you to approve it (Ctrl-C stops)...\n",
		user, user, ds.VerificationURI, ds.UserCode, max(ds.ExpiresIn/60, 1))
	interval := time.Duration(max(ds.Interval, 1)) * time.Second
	deadline := time.Now().Add(time.Duration(ds.ExpiresIn)*time.Second + time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return wire.LoginResponse{}, &exitError{code: 130, msg: "stopped: not signed in"}
		case <-time.After(interval):
		}
		res, err := c.PollDevice(ctx, ds.DeviceCode)
		if ctx.Err() != nil {
			return wire.LoginResponse{}, &exitError{code: 130, msg: "stopped: not signed in"}
		}
		var ae *client.APIError
		if err == nil || !errors.As(err, &ae) {
			return res, err
		}
		if ae.Status == 429 { // the server's request budget: wait longer, as for slow_down
			interval += 5 * time.Second
			continue
		}
		switch ae.Code {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5
		case "access_denied":
			return res, &exitError{code: 1, msg: "the sign-in was refused in the web interface"}
		case "expired_token", "invalid_grant":
			return res, &exitError{code: 1, msg: "the code expired or is no longer valid: run 'strongroom login --user NAME --browser' again"}
		default:
			return res, err
		}
	}
	return wire.LoginResponse{}, &exitError{code: 1, msg: "the code expired before it was approved: run 'strongroom login --user NAME --browser' again"}
}

// whoamiCmd says whose session the saved token is.
func whoamiCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Say who you are signed in as",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			w, err := c.Whoami(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(w)
			}
			fmt.Printf("Signed in as %s (%s).\n", w.Name, w.Role)
			return nil
		},
	}
}
