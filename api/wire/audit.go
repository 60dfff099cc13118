package wire

import (
	"time"

	"strongroom/audit"
)

// VerifyResult is the answer to GET /v1/audit/verify.
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

// Incident is one entry of GET /v1/audit/incidents.
type Incident struct {
	Seq     uint64             `json:"seq"`
	Time    time.Time          `json:"time"`
	Kind    audit.IncidentKind `json:"kind"`
	Actor   audit.Actor        `json:"actor"`
	Action  audit.Action       `json:"action"`
	Target  audit.Target       `json:"target"`
	Outcome string             `json:"outcome"`
	Reason  string             `json:"reason"`
	// Entries are the seqs of the entries this incident rests on; Link
	// fetches them as a verifiable export.
	Entries []uint64 `json:"entries"`
	Link    string   `json:"link"`
}

// PruneRequest is the body of POST /v1/audit/prune: the auditor asks to
// remove entries older than Before (and older than the retention).
type PruneRequest struct {
	Before time.Time `json:"before"`
}

// PrunePending is a prune request as recorded, waiting for a provider or
// the chairman (not the requester) to approve it:
// POST /v1/audit/prune/{id}/approve.
type PrunePending struct {
	ID        string    `json:"id"`
	Before    time.Time `json:"before"`
	Requester string    `json:"requester"`
	Requested time.Time `json:"requested"`
	State     string    `json:"state"`
}

// Pruned is the answer to an approved prune: entries From to Seq were
// removed (Seq 0: none was older than Cutoff) and the log now starts from
// Checkpoint, the signed checkpoint at Seq.
type Pruned struct {
	ID         string    `json:"id"`
	From       uint64    `json:"pruned_from_seq"`
	Seq        uint64    `json:"pruned_through_seq"`
	Cutoff     time.Time `json:"cutoff"`
	Checkpoint string    `json:"checkpoint,omitempty"`
}
