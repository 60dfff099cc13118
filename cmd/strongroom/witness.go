package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"strongroom/audit"
)

// An auditor's witness key and what it is for (SECURITY.md "Witnesses"):
// the auditor cosigns the closing checkpoint of an export it verified, keeps
// the cosigned checkpoint beside the export, and later verifications with
// --witness require it. The vault never sees the witness key.

func witnessKeyCmd() *cobra.Command {
	var out, name string
	cmd := &cobra.Command{
		Use:   "witness-key --out FILE [--name NAME]",
		Short: "Make your own witness key (kept by you, never sent to the vault); prints its verifier key",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out FILE is required: the witness key is written there (mode 0600)")
			}
			skey, vkey, err := audit.GenerateWitnessKey(rand.Reader, name)
			if err != nil {
				return usagef("%v", err)
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return usagef("cannot create --out (an existing key is never overwritten): %v", err)
			}
			_, err = f.Write(skey)
			wipe(skey)
			if err == nil {
				_, err = f.Write([]byte("\n"))
			}
			if err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Println(vkey)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the witness signer key to (mode 0600; refused if it exists)")
	cmd.Flags().StringVar(&name, "name", "strongroom-witness", "the witness's name (no spaces or '+'), e.g. auditor.example/w1")
	return cmd
}

func witnessCmd() *cobra.Command {
	var keyFile, out string
	var off offlineVerify
	cmd := &cobra.Command{
		Use:   "witness --key FILE --vault-key K --log F [--checkpoint F ...] [--max-age D] [--out F]",
		Short: "Verify an export, then cosign its closing checkpoint with your witness key (keep the result beside the export)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyFile == "" || off.key == "" || off.log == "" {
				return usagef("--key (your witness key file), --vault-key and --log are required")
			}
			raw, err := os.ReadFile(keyFile)
			if err != nil {
				return usagef("cannot read --key: %v", err)
			}
			signer, err := audit.NewWitnessSigner(raw, time.Now)
			wipe(raw)
			if err != nil {
				return usagef("--key: %v", err)
			}
			rep, closing, err := off.run()
			if err != nil {
				return err
			}
			cosigned, err := audit.Cosign(closing, rep.ClosingKey, signer)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = os.Stdout.Write(cosigned)
				return err
			}
			if err := os.WriteFile(out, cosigned, 0o600); err != nil {
				return err
			}
			fmt.Printf("Cosigned the export's closing checkpoint (seq %d, closed at %s) as %s; kept in %s.\n",
				rep.HeadSeq, rep.ClosingTime.Format(time.RFC3339), signer.Name(), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "", "your witness signer key file (from audit witness-key)")
	f.StringVar(&off.key, "vault-key", "", "the vault's audit verifier key (printed at init and on every envelope)")
	f.StringVar(&off.log, "log", "", "the JSONL export to verify and witness (- for standard input)")
	f.StringArrayVar(&off.checkpoints, "checkpoint", nil, "a checkpoint you kept, e.g. the one you last cosigned: the export must extend it; repeatable")
	f.StringVar(&off.vaultID, "vault-id", "", "the vault ID printed on the envelopes: every checkpoint must name it")
	f.DurationVar(&off.maxAge, "max-age", 0, "refuse an export closed longer ago than this")
	f.StringVar(&out, "out", "", "file for the cosigned checkpoint (default: standard output)")
	return cmd
}

// offlineVerify is audit verify --log's inputs.
type offlineVerify struct {
	log, key    string
	vaultID     string
	checkpoints []string
	witnesses   []string
	maxAge      time.Duration
}

// run verifies the export and returns its report and signed closing
// checkpoint; every failure is an *exitError naming the seq and kind.
func (o offlineVerify) run() (audit.Report, []byte, error) {
	if (len(o.witnesses) > 0 || o.maxAge != 0) && o.key == "" {
		return audit.Report{}, nil, usagef("--witness and --max-age need --key (the vault's verifier key)")
	}
	var r io.Reader = os.Stdin
	if o.log != "-" {
		f, err := os.Open(o.log)
		if err != nil {
			return audit.Report{}, nil, usagef("cannot read --log: %v", err)
		}
		defer f.Close()
		r = f
	}
	var cps [][]byte
	for _, p := range o.checkpoints {
		b, err := os.ReadFile(p)
		if err != nil {
			return audit.Report{}, nil, usagef("cannot read --checkpoint %s: %v", p, err)
		}
		cps = append(cps, b)
	}
	rep, err := verifyExport(r, o, cps)
	if err == nil && o.key != "" && !rep.Closed {
		err = &audit.ChainError{Seq: rep.HeadSeq, Kind: "unsigned tail",
			Detail: "the export does not end with the vault's signed checkpoint, so entries could have been added after it (export it again from the vault)"}
	}
	if err == nil && o.maxAge != 0 {
		err = rep.CheckAge(time.Now(), o.maxAge)
	}
	if err != nil {
		var ce *audit.ChainError
		if !errors.As(err, &ce) {
			return rep, nil, err
		}
		where := fmt.Sprintf("at seq %d", ce.Seq)
		if ce.Seq == 0 {
			where = "in a checkpoint"
		}
		return rep, nil, &verifyFailure{ce, fmt.Sprintf("audit log FAILED verification %s: %s: %s", where, ce.Kind, ce.Detail)}
	}
	return rep, rep.ClosingNote, nil
}

// verifyExport runs the offline verifier on the export r.
func verifyExport(r io.Reader, o offlineVerify, cps [][]byte) (audit.Report, error) {
	v, err := audit.NewVaultVerifier(strings.ToLower(strings.TrimSpace(o.vaultID)), strings.TrimSpace(o.key), cps, o.witnesses...)
	if err != nil {
		return audit.Report{}, err
	}
	return v.Read(r)
}

// verifyFailure is a failed verification: exit code 1, and --json prints it.
type verifyFailure struct {
	ce  *audit.ChainError
	msg string
}

func (e *verifyFailure) Error() string { return e.msg }

func verifyOffline(g *globals, o offlineVerify) error {
	rep, _, err := o.run()
	var vf *verifyFailure
	if errors.As(err, &vf) {
		if g.json {
			_ = printJSON(struct {
				BadSeq  uint64 `json:"bad_seq"`
				Detail  string `json:"detail"`
				OK      bool   `json:"ok"`
				Problem string `json:"problem"`
			}{vf.ce.Seq, vf.ce.Detail, false, vf.ce.Kind})
		}
		return &exitError{1, vf.msg}
	}
	if err != nil {
		return err
	}
	if g.json {
		// Keys in the order they have always had (a map's, sorted).
		return printJSON(struct {
			Checked            uint64              `json:"checked"`
			CheckpointsMatched int                 `json:"checkpoints_matched"`
			Closed             bool                `json:"closed"`
			ClosingTime        *time.Time          `json:"closing_time,omitempty"`
			HeadHash           string              `json:"head_hash"`
			HeadSeq            uint64              `json:"head_seq"`
			OK                 bool                `json:"ok"`
			Redacted           uint64              `json:"redacted"`
			StartSeq           uint64              `json:"start_seq"`
			Witnessed          []audit.Cosignature `json:"witnessed,omitempty"`
		}{rep.Checked, rep.CheckpointsMatched, rep.Closed, rep.ClosingTime, rep.HeadHash, rep.HeadSeq, true, rep.Redacted, rep.StartSeq, rep.Witnessed})
	}
	printVerified(rep, o)
	return nil
}

func printVerified(rep audit.Report, o offlineVerify) {
	fmt.Printf("OK: %d entries checked (%d redacted), seq %d to %d; %d of %d kept checkpoints matched; head hash %s\n",
		rep.Checked, rep.Redacted, rep.StartSeq, rep.HeadSeq, rep.CheckpointsMatched, len(o.checkpoints), rep.HeadHash)
	if rep.Closed {
		fmt.Println("The export is closed by the vault's signature over its last entry: nothing was added after it.")
		fmt.Printf("Closed at %s (%s ago): an export cut back to an earlier checkpoint shows that checkpoint's time.\n",
			rep.ClosingTime.Format(time.RFC3339), time.Since(*rep.ClosingTime).Truncate(time.Second))
	}
	for _, c := range rep.Witnessed {
		name, _, _ := strings.Cut(c.Witness, "+")
		fmt.Printf("Witnessed: %s cosigned the head at %s (%s ago).\n", name, c.Time.Format(time.RFC3339), time.Since(c.Time).Truncate(time.Second))
	}
	for _, k := range rep.Transitions {
		fmt.Printf("Key transition at seq %d: the audit key %s replaced %s (signed by both).\n", k.Seq, k.New, k.Old)
	}
	if rep.FollowedForward {
		fmt.Println("Note: followed a key transition to a newer key than --key: it is only as trustworthy as --key; check the newest key against the current envelopes.")
	}
	if rep.CheckpointsBefore > 0 {
		fmt.Printf("(%d checkpoints are older than where this pruned log starts)\n", rep.CheckpointsBefore)
	}
	if o.key == "" {
		fmt.Println("Note: without --key and --checkpoint this proves the chain is whole, not that it was never rewritten; a closing line was read for its form, size and head, not its signature.")
	} else if len(o.witnesses) == 0 {
		fmt.Println("Note: without --witness this rests on the vault's key alone, which K envelopes can recover.")
	}
}
