package auditlog

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/storage"
)

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

// Verify checks the stored chain from seq 1, that each entry is stored
// under its own seq, and that the chain ends at the head the vault recorded
// (a cut tail is caught). The verification and its result are recorded.
func (l *Log) Verify(ctx context.Context, req Request, p *access.Principal) (VerifyResult, error) {
	target := audit.Target{Kind: "audit"}
	if !access.MayReadLog(p) {
		return VerifyResult{}, l.Deny(ctx, req, p, audit.AuditVerify, target, "role may not read the audit log")
	}
	res, err := l.VerifyStored(ctx)
	if err != nil {
		return res, err
	}
	ev := Event{Actor: ActorOf(p), Action: audit.AuditVerify, Target: target,
		Reason: fmt.Sprintf("%d entries checked", res.Checked)}
	if !res.OK {
		ev.Outcome = audit.OutcomeError
		ev.Reason = fmt.Sprintf("seq %d: %s", res.BadSeq, res.Problem)
	}
	return res, l.Record(ctx, req, ev)
}

// VerifyStored checks the stored log with the offline verifier, fed in
// chunks of short read transactions up to the head pinned when it began:
// seq 1 (or the anchor) to that head, each entry under its own seq, with
// the vault's own signed checkpoints, ending exactly at the recorded head
// (a cut tail is caught). A prune that moves the log's start meanwhile
// makes it start again.
func (l *Log) VerifyStored(ctx context.Context) (VerifyResult, error) {
	for attempt := 0; ; attempt++ {
		res, floor, err := l.verifyOnce(ctx)
		if err != nil || res.OK || attempt == 2 {
			return res, err
		}
		var now uint64
		if err := l.store.View(ctx, func(tx storage.Tx) (err error) { _, now, err = logStart(tx); return err }); err != nil || now == floor {
			return res, nil
		}
	}
}

// logState is what a verification pins in its first transaction.
type logState struct {
	verifier string
	cps      [][]byte
	trans    [][]byte
	anchor   []byte
	floor    uint64
	headSeq  uint64
	headHash string
	headSet  bool
	startErr error
}

func (l *Log) verifyOnce(ctx context.Context) (VerifyResult, uint64, error) {
	var st logState
	err := l.store.View(ctx, func(tx storage.Tx) error {
		err := tx.Scan(storage.BucketCheckpoints, nil, func(_, val []byte) (bool, error) {
			st.cps = append(st.cps, append([]byte(nil), val...)) // valid only inside tx
			return true, nil
		})
		st.verifier = string(tx.Get(storage.BucketMeta, KeyVerifier))
		st.anchor, st.floor, st.startErr = logStart(tx)
		var terr error
		if st.trans, terr = Transitions(tx, 0); terr != nil {
			return terr
		}
		if h := tx.Get(storage.BucketMeta, keyHead); len(h) == 40 {
			st.headSeq, st.headHash, st.headSet = binary.BigEndian.Uint64(h), hex.EncodeToString(h[8:]), true
		}
		return err
	})
	if err != nil {
		return VerifyResult{}, 0, err
	}
	res, err := l.verifyChain(ctx, &st)
	if err != nil {
		return failedVerify(err), st.floor, ctx.Err()
	}
	return res, st.floor, nil
}

func (l *Log) verifyChain(ctx context.Context, st *logState) (VerifyResult, error) {
	// The same verifier an auditor runs offline, fed with the vault's own
	// signed checkpoints: a consistent rewrite of the whole chain in the
	// database no longer reaches their heads.
	ver, err := audit.NewVerifier(st.verifier, st.cps)
	if err != nil || st.startErr != nil {
		return VerifyResult{}, errors.Join(st.startErr, err)
	}
	for _, t := range st.trans {
		if err := ver.Add(audit.TransitionLine(t)); err != nil {
			return VerifyResult{}, err
		}
	}
	if st.anchor != nil {
		if err := ver.Add(audit.AnchorLine(st.anchor)); err != nil {
			return VerifyResult{}, err
		}
	}
	after, last := st.floor, uint64(0)
	for {
		chunk, err := l.since(ctx, after, st.headSeq, l.chunk)
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
		if len(chunk) < l.chunk || !st.headSet {
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
