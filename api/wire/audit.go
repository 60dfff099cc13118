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

// PruneRequest is the body of POST /v1/audit/prune.
type PruneRequest struct {
	Before time.Time `json:"before"`
}

// Pruned is the answer to a prune: 0 when nothing was old enough.
type Pruned struct {
	Seq uint64 `json:"pruned_through_seq"`
}
