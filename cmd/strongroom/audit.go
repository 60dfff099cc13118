package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"strongroom/api/client"
	"strongroom/api/wire"
)

func auditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Export and verify the access log (auditor, provider)"}
	var out, from, to, actor, action, target, outcome, format string
	export := &cobra.Command{
		Use:   "export [--from T --to T --actor U --action A --target N --outcome O --format jsonl|csv] [--out F]",
		Short: "Write the log (JSONL: filtered-out entries as redacted lines, still verifiable; CSV: matches only)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"from": from, "to": to, "actor": actor, "action": action, "target": target, "outcome": outcome, "format": format} {
				if v != "" {
					q.Set(k, v)
				}
			}
			return fetchTo(g, out, func(c *client.Client) (io.ReadCloser, error) { return c.ExportAudit(cmd.Context(), q) })
		},
	}
	ef := export.Flags()
	ef.StringVar(&out, "out", "", "file to write instead of standard output")
	ef.StringVar(&from, "from", "", "first time included (2026-04-01 or RFC 3339)")
	ef.StringVar(&to, "to", "", "first time excluded")
	ef.StringVar(&actor, "actor", "", "who acted (name or id)")
	ef.StringVar(&action, "action", "", "action, e.g. cred.read or cred.*")
	ef.StringVar(&target, "target", "", "what was touched (name or id)")
	ef.StringVar(&outcome, "outcome", "", "ok, denied or error")
	ef.StringVar(&format, "format", "jsonl", "jsonl or csv")
	var off offlineVerify
	verify := &cobra.Command{
		Use:   "verify [--log F --key K [--vault-id ID] [--checkpoint F ...] [--witness W ...] [--max-age D]]",
		Short: "Verify the log: offline on an export with --log (no server, no database), else on the server",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if off.log != "" {
				return verifyOffline(g, off)
			}
			if off.key != "" || off.vaultID != "" || len(off.checkpoints) > 0 || len(off.witnesses) > 0 || off.maxAge != 0 {
				return usagef("--key, --vault-id, --checkpoint, --witness and --max-age go with --log (offline verification)")
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				if err := printJSON(verifyOutput(res)); err != nil {
					return err
				}
			}
			if !res.OK {
				return &exitError{1, fmt.Sprintf("audit log FAILED verification at seq %d: %s: %s (%d entries checked before it)", res.BadSeq, res.Problem, res.Detail, res.Checked)}
			}
			if !g.json {
				fmt.Printf("OK: %d entries checked; head seq %d, hash %s; %d stored signed checkpoints matched\n",
					res.Checked, res.HeadSeq, res.HeadHash, res.CheckpointsMatched)
			}
			return nil
		},
	}
	vf := verify.Flags()
	vf.StringVar(&off.log, "log", "", "a JSONL export to verify offline (- for standard input)")
	vf.StringVar(&off.key, "key", "", "the vault's audit verifier key (printed at init and on every envelope)")
	vf.StringVar(&off.vaultID, "vault-id", "", "the vault ID printed on the envelopes: every checkpoint's origin must name it")
	vf.StringArrayVar(&off.checkpoints, "checkpoint", nil, "a signed checkpoint you kept (cosigned ones too); repeatable")
	vf.StringArrayVar(&off.witnesses, "witness", nil, "a witness verifier key whose cosignature must cover the export's head; repeatable")
	vf.DurationVar(&off.maxAge, "max-age", 0, "fail when the export's closing (or a witness's cosignature) is older than this, e.g. 24h")
	cmd.AddCommand(export, verify, checkpointCmd(g), incidentsCmd(g), subjectCmd(g), reportCmd(g), pruneCmd(g),
		pruneApproveCmd(g), witnessKeyCmd(), witnessCmd())
	return cmd
}

// verifyOutput is what audit verify --json prints: the server's answer,
// with bad_seq, problem and detail always present.
func verifyOutput(r wire.VerifyResult) any {
	return struct {
		OK       bool   `json:"ok"`
		Checked  uint64 `json:"checked"`
		HeadSeq  uint64 `json:"head_seq"`
		HeadHash string `json:"head_hash"`
		BadSeq   uint64 `json:"bad_seq"`
		Matched  int    `json:"checkpoints_matched"`
		Problem  string `json:"problem"`
		Detail   string `json:"detail"`
	}{r.OK, r.Checked, r.HeadSeq, r.HeadHash, r.BadSeq, r.CheckpointsMatched, r.Problem, r.Detail}
}

// fetchTo streams an answer (open asks for it) to a file (mode 0600) or
// standard output.
func fetchTo(g *globals, out string, open func(*client.Client) (io.ReadCloser, error)) error {
	c, err := newClient(g)
	if err != nil {
		return err
	}
	if out == "" {
		return copyFrom(os.Stdout, c, open)
	}
	return writeStreamed(c, out, open)
}

// copyFrom copies the answer open asks for to w, never holding it whole.
func copyFrom(w io.Writer, c *client.Client, open func(*client.Client) (io.ReadCloser, error)) error {
	body, err := open(c)
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(w, body)
	return err
}

// writeStreamed streams an answer into out through out.partial, renamed
// only once complete, so a cut transfer never looks like a whole file.
func writeStreamed(c *client.Client, out string, open func(*client.Client) (io.ReadCloser, error)) error {
	tmp := out + ".partial"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := copyFrom(f, c, open); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func checkpointCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "checkpoint",
		Short: "Print a signed checkpoint of the log now (keep it: later exports must extend it)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fetchTo(g, "", func(c *client.Client) (io.ReadCloser, error) { return c.Checkpoint(cmd.Context()) })
		},
	}
}

func incidentsCmd(g *globals) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "incidents [--from T --to T] [--json]",
		Short: "List security incidents: denied reads, failed logins and lockouts, recoveries, break-glass, failed verifications",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			list, err := c.Incidents(cmd.Context(), from, to)
			if err != nil {
				return err
			}
			if g.json {
				return printAnswer(list)
			}
			if len(list) == 0 {
				fmt.Println("No incidents.")
				return nil
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tWHEN\tKIND\tWHO\tWHAT\tREASON")
			for _, in := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s %s\t%s\n", in.Seq, in.Time.Local().Format("2006-01-02 15:04"), in.Kind,
					in.Actor.Name, in.Action, in.Target.Name, in.Reason)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first time included")
	cmd.Flags().StringVar(&to, "to", "", "first time excluded")
	return cmd
}

func subjectCmd(g *globals) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "subject USER [--format jsonl|csv] [--out F]",
		Short: "Subject access request: every entry by or about a person (JSONL keeps the rest as redacted lines)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return fetchTo(g, out, func(c *client.Client) (io.ReadCloser, error) { return c.SubjectAudit(cmd.Context(), args[0], format) })
		},
	}
	cmd.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	cmd.Flags().StringVar(&out, "out", "", "file to write instead of standard output")
	return cmd
}

func reportCmd(g *globals) *cobra.Command {
	var from, to, format, out string
	cmd := &cobra.Command{
		Use:   "report --from T --to T [--format html|csv] [--out F]",
		Short: "Access report for a period: who read what, every denial and break-glass",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"format": {format}}
			if from != "" {
				q.Set("from", from)
			}
			if to != "" {
				q.Set("to", to)
			}
			return fetchTo(g, out, func(c *client.Client) (io.ReadCloser, error) { return c.AuditReport(cmd.Context(), q) })
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first time included (2026-04-01 or RFC 3339)")
	cmd.Flags().StringVar(&to, "to", "", "first time excluded")
	cmd.Flags().StringVar(&format, "format", "html", "html or csv")
	cmd.Flags().StringVar(&out, "out", "", "file to write instead of standard output")
	return cmd
}

func pruneCmd(g *globals) *cobra.Command {
	var before string
	cmd := &cobra.Command{
		Use:   "prune --before T",
		Short: "Ask (as the auditor) to remove entries older than T and than the retention; a provider or the chairman approves",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := time.Parse(time.RFC3339, before)
			if err != nil {
				if t, err = time.Parse("2006-01-02", before); err != nil {
					return usagef("--before must be a date (2020-04-01) or an RFC 3339 time")
				}
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.RequestPrune(cmd.Context(), t)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(res)
			}
			fmt.Printf("Prune request %s recorded: entries older than %s, and never any younger than the retention.\n", res.ID, res.Before.Format(time.RFC3339))
			fmt.Printf("Nothing is removed yet. A provider or the chairman (not you) approves it with: strongroom audit prune-approve %s\n", res.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "remove entries older than this (the retention may keep more)")
	return cmd
}

func pruneApproveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "prune-approve ID",
		Short: "Approve and perform the auditor's prune request ID (a provider or the chairman, not its requester)",
		Args:  nargs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			res, err := c.ApprovePrune(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(res)
			}
			if res.Seq == 0 {
				fmt.Printf("Approved; no entry is older than %s, so nothing was removed.\n", res.Cutoff.Format(time.RFC3339))
			} else {
				fmt.Printf("Approved: removed entries %d to %d (older than %s); the log now starts from a signed checkpoint at seq %d.\n",
					res.From, res.Seq, res.Cutoff.Format(time.RFC3339), res.Seq)
			}
			return nil
		},
	}
}
