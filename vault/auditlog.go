package vault

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"strongroom/audit"
)

var keyAuditHead = []byte("audit.head") // seq (u64 BE) || hash (32 bytes)

func actorOf(p *Principal) audit.Actor {
	if p == nil {
		return audit.Actor{Name: "anonymous", Role: "anonymous"}
	}
	return audit.Actor{ID: p.UserID, Name: p.Name, Role: string(p.Role)}
}

var systemActor = audit.Actor{Name: "strongroom", Role: "system"}

// event is an audit entry under construction.
type event struct {
	actor   audit.Actor
	action  audit.Action
	target  audit.Target
	outcome string
	reason  string
}

// appendAudit appends one entry inside tx. It derives seq and prev from the
// transaction it runs in, so a retried batch function stays correct.
func (v *Vault) appendAudit(tx Tx, req Request, ev event) error {
	seq, prev := uint64(0), audit.ZeroHash
	if h := tx.Get(bucketMeta, keyAuditHead); h != nil {
		if len(h) != 40 {
			return errors.New("vault: audit head is malformed")
		}
		seq, prev = binary.BigEndian.Uint64(h), hex.EncodeToString(h[8:])
	}
	if ev.outcome == "" {
		ev.outcome = audit.OutcomeOK
	}
	e := audit.Entry{Time: v.now(), Actor: ev.actor, Action: ev.action, Target: ev.target,
		Outcome: ev.outcome, Reason: ev.reason,
		Client:    audit.Client{IP: req.IP, UserAgent: truncate(req.UserAgent, 200)},
		RequestID: truncate(req.ID, 100)}
	e.Seal(seq, prev)
	if err := tx.Put(bucketAudit, seqKey(e.Seq), e.Line()); err != nil {
		return fmt.Errorf("vault: audit write: %w", err)
	}
	raw, _ := hex.DecodeString(e.Hash)
	head := binary.BigEndian.AppendUint64(nil, e.Seq)
	return tx.Put(bucketMeta, keyAuditHead, append(head, raw...))
}

// record commits one audit entry on its own (for refusals and other
// outcomes that change nothing else). Its error must be returned to the
// caller: an unrecorded refusal is an audit failure.
func (v *Vault) record(ctx context.Context, req Request, ev event) error {
	err := v.write(ctx, func(tx Tx) error { return v.appendAudit(tx, req, ev) })
	if err != nil && ctx.Err() == nil {
		v.noteAuditFailure(err)
	}
	return err
}

// deny records a refusal and returns the error for it.
func (v *Vault) deny(ctx context.Context, req Request, p *Principal, action audit.Action, target audit.Target, reason string) error {
	if err := v.record(ctx, req, event{actor: actorOf(p), action: action, target: target,
		outcome: audit.OutcomeDenied, reason: reason}); err != nil {
		return err
	}
	return &ForbiddenError{Action: action, Target: target.Name}
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// VerifyResult is the outcome of an online verification.
type VerifyResult struct {
	OK       bool   `json:"ok"`
	Checked  uint64 `json:"checked"`
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	BadSeq   uint64 `json:"bad_seq,omitempty"`
	// CheckpointsMatched counts the vault's stored signed checkpoints the log extends.
	CheckpointsMatched int    `json:"checkpoints_matched"`
	Problem            string `json:"problem,omitempty"`
	Detail             string `json:"detail,omitempty"`
}

// VerifyAudit checks the stored chain from seq 1, that each entry is stored
// under its own seq, and that the chain ends at the head the vault recorded
// (a cut tail is caught). The verification and its result are recorded.
func (v *Vault) VerifyAudit(ctx context.Context, req Request, p *Principal) (VerifyResult, error) {
	target := audit.Target{Kind: "audit"}
	if !mayReadLog(p) {
		return VerifyResult{}, v.deny(ctx, req, p, audit.AuditVerify, target, "role may not read the audit log")
	}
	res, err := v.verifyStored(ctx)
	if err != nil {
		return res, err
	}
	ev := event{actor: actorOf(p), action: audit.AuditVerify, target: target,
		reason: fmt.Sprintf("%d entries checked", res.Checked)}
	if !res.OK {
		ev.outcome = audit.OutcomeError
		ev.reason = fmt.Sprintf("seq %d: %s", res.BadSeq, res.Problem)
	}
	return res, v.record(ctx, req, ev)
}

// verifyStored checks the stored log with the offline verifier, fed in
// chunks of short read transactions up to the head pinned when it began:
// seq 1 (or the anchor) to that head, each entry under its own seq, with
// the vault's own signed checkpoints, ending exactly at the recorded head
// (a cut tail is caught). A prune that moves the log's start meanwhile
// makes it start again.
func (v *Vault) verifyStored(ctx context.Context) (VerifyResult, error) {
	for attempt := 0; ; attempt++ {
		res, floor, err := v.verifyOnce(ctx)
		if err != nil || res.OK || attempt == 2 {
			return res, err
		}
		var now uint64
		if err := v.store.View(ctx, func(tx Tx) (err error) { _, now, err = logStart(tx); return err }); err != nil || now == floor {
			return res, nil
		}
	}
}

// logState is what a verification pins in its first transaction.
type logState struct {
	verifier string
	cps      [][]byte
	anchor   []byte
	floor    uint64
	headSeq  uint64
	headHash string
	headSet  bool
	startErr error
}

func (v *Vault) verifyOnce(ctx context.Context) (VerifyResult, uint64, error) {
	var st logState
	err := v.store.View(ctx, func(tx Tx) error {
		err := tx.Scan(bucketCheckpoints, nil, func(_, val []byte) (bool, error) {
			st.cps = append(st.cps, val)
			return true, nil
		})
		st.verifier = string(tx.Get(bucketMeta, keyVerifier))
		st.anchor, st.floor, st.startErr = logStart(tx)
		if h := tx.Get(bucketMeta, keyAuditHead); len(h) == 40 {
			st.headSeq, st.headHash, st.headSet = binary.BigEndian.Uint64(h), hex.EncodeToString(h[8:]), true
		}
		return err
	})
	if err != nil {
		return VerifyResult{}, 0, err
	}
	res, err := v.verifyChain(ctx, &st)
	if err != nil {
		return failedVerify(err), st.floor, ctx.Err()
	}
	return res, st.floor, nil
}

func (v *Vault) verifyChain(ctx context.Context, st *logState) (VerifyResult, error) {
	// The same verifier an auditor runs offline, fed with the vault's own
	// signed checkpoints: a consistent rewrite of the whole chain in the
	// database no longer reaches their heads.
	ver, err := audit.NewVerifier(st.verifier, st.cps)
	if err != nil || st.startErr != nil {
		return VerifyResult{}, firstErr(st.startErr, err)
	}
	if st.anchor != nil {
		line, _ := json.Marshal(map[string]string{"anchor": string(st.anchor)})
		if err := ver.Add(line); err != nil {
			return VerifyResult{}, err
		}
	}
	after, last := st.floor, uint64(0)
	for {
		chunk, err := v.since(ctx, after, st.headSeq, auditChunk)
		if err != nil {
			return VerifyResult{}, err
		}
		for _, l := range chunk {
			if err := ver.Add(l.line); err != nil {
				return VerifyResult{}, err
			}
			if e, _ := audit.ParseLine(l.line); e.Seq != l.seq {
				return VerifyResult{}, &audit.ChainError{Seq: e.Seq, Kind: audit.ProblemOrder, Detail: "entry is stored under another seq"}
			}
			after, last = l.seq, l.seq
		}
		if len(chunk) < auditChunk || !st.headSet {
			break
		}
	}
	rep, err := ver.Finish()
	if err != nil {
		return VerifyResult{}, err
	}
	res := VerifyResult{OK: true, Checked: rep.Checked, HeadSeq: rep.HeadSeq, HeadHash: rep.HeadHash, CheckpointsMatched: rep.CheckpointsMatched}
	if st.headSet && (st.headSeq != res.HeadSeq || st.headHash != res.HeadHash) {
		return VerifyResult{}, &audit.ChainError{Seq: last + 1, Kind: audit.ProblemMissing,
			Detail: fmt.Sprintf("the log ends at seq %d but the vault recorded its head at seq %d (entries cut or rewritten)", res.HeadSeq, st.headSeq)}
	}
	return res, nil
}

// failedVerify is the result for the first failure err.
func failedVerify(err error) VerifyResult {
	var res VerifyResult
	var ce *audit.ChainError
	if errors.As(err, &ce) {
		res.BadSeq, res.Problem, res.Detail = ce.Seq, ce.Kind, ce.Detail
	} else {
		res.Problem, res.Detail = audit.ProblemUnreadable, err.Error()
	}
	return res
}
