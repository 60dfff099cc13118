package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"strongroom/audit"
)

func auditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Export and verify the access log (auditor, provider)"}
	var out string
	export := &cobra.Command{
		Use:   "export [--out F]",
		Short: "Write the whole log as JSONL (to standard output by default)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(g)
			if err != nil {
				return err
			}
			raw, err := c.do("GET", "/v1/audit", nil, nil)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = os.Stdout.Write(raw)
				return err
			}
			return os.WriteFile(out, raw, 0o600)
		},
	}
	export.Flags().StringVar(&out, "out", "", "file to write instead of standard output")
	var logFile string
	verify := &cobra.Command{
		Use:   "verify [--log F]",
		Short: "Verify the hash chain: offline on an export with --log (no server needed), else on the server",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if logFile != "" {
				return verifyOffline(g, logFile)
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			var res struct {
				OK       bool   `json:"ok"`
				Checked  uint64 `json:"checked"`
				HeadSeq  uint64 `json:"head_seq"`
				HeadHash string `json:"head_hash"`
				BadSeq   uint64 `json:"bad_seq"`
				Problem  string `json:"problem"`
				Detail   string `json:"detail"`
			}
			if _, err := c.do("GET", "/v1/audit/verify", nil, &res); err != nil {
				return err
			}
			if g.json {
				if err := printJSON(res); err != nil {
					return err
				}
			}
			if !res.OK {
				return &exitError{1, fmt.Sprintf("audit log FAILED verification at seq %d: %s: %s (%d entries checked before it)", res.BadSeq, res.Problem, res.Detail, res.Checked)}
			}
			if !g.json {
				fmt.Printf("OK: %d entries checked; head seq %d, hash %s\n", res.Checked, res.HeadSeq, res.HeadHash)
			}
			return nil
		},
	}
	verify.Flags().StringVar(&logFile, "log", "", "a JSONL export to verify offline (- for standard input)")
	cmd.AddCommand(export, verify)
	return cmd
}

func verifyOffline(g *globals, path string) error {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return usagef("cannot read --log: %v", err)
		}
		defer f.Close()
		r = f
	}
	rep, err := audit.VerifyJSONL(r)
	if err != nil {
		var ce *audit.ChainError
		if errors.As(err, &ce) {
			if g.json {
				_ = printJSON(map[string]any{"ok": false, "bad_seq": ce.Seq, "problem": ce.Kind, "detail": ce.Detail})
			}
			return &exitError{1, fmt.Sprintf("audit log FAILED verification at seq %d: %s: %s", ce.Seq, ce.Kind, ce.Detail)}
		}
		return err
	}
	if g.json {
		return printJSON(map[string]any{"ok": true, "checked": rep.Checked, "head_seq": rep.HeadSeq, "head_hash": rep.HeadHash})
	}
	fmt.Printf("OK: %d entries checked; head seq %d, hash %s\n", rep.Checked, rep.HeadSeq, rep.HeadHash)
	return nil
}
