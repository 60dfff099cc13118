package auditlog

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"strongroom/audit"
	"strongroom/vault/storage"
)

// CheckStored walks the whole stored log in tx, from its start (seq 1, or
// the entry after its anchor) to the head the log records: every entry
// under its own seq, each chained to the one before, ending exactly at the
// head. With the state seal's pin on an entry's hash (barrier.CheckState),
// this proves every stored entry is the one the vault wrote. It runs in
// the unseal's own transaction, so it reads the log in one go: about a
// second per million entries (docs/benchmarks.md).
func CheckStored(tx storage.Tx) error {
	anchor, floor, err := logStart(tx)
	if err != nil {
		return err
	}
	chain := &audit.Chain{}
	if anchor != nil {
		cp, err := openAnchor(tx, anchor)
		if err != nil {
			return err
		}
		chain = audit.NewChainAt(cp.Size, cp.Head)
	}
	next := floor + 1
	err = tx.Scan(storage.BucketAudit, nil, func(k, v []byte) (bool, error) {
		if len(k) != 8 || binary.BigEndian.Uint64(k) == 0 {
			return false, &audit.ChainError{Seq: next, Kind: audit.ProblemUnreadable, Detail: "a key that is no entry's seq is stored in the log"}
		}
		if binary.BigEndian.Uint64(k) <= floor {
			return true, nil // covered by the anchor, still being deleted by a prune
		}
		if seq := binary.BigEndian.Uint64(k); seq != next {
			return false, &audit.ChainError{Seq: next, Kind: audit.ProblemMissing, Detail: fmt.Sprintf("the next stored entry is %d", seq)}
		}
		if err := chain.Add(v); err != nil {
			return false, err
		}
		if s, _ := chain.Head(); s != next {
			return false, &audit.ChainError{Seq: next, Kind: audit.ProblemOrder, Detail: "entry is stored under another seq"}
		}
		next++
		return true, nil
	})
	if err != nil {
		return err
	}
	seq, hash := uint64(0), audit.ZeroHash
	if h := tx.Peek(storage.BucketMeta, keyHead); h != nil {
		if len(h) != 40 {
			return fmt.Errorf("vault: the audit head is malformed")
		}
		seq, hash = binary.BigEndian.Uint64(h), hex.EncodeToString(h[8:])
	}
	if last, lastHash := chain.Head(); last != seq || (seq > floor && lastHash != hash) {
		return &audit.ChainError{Seq: last + 1, Kind: audit.ProblemMissing, Detail: fmt.Sprintf("the log ends at %d but its head names %d", last, seq)}
	}
	return nil
}
