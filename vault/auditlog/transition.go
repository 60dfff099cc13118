package auditlog

import (
	"bytes"
	"encoding/binary"

	"strongroom/vault/storage"
)

// Key transitions (audit.KeyTransition): a re-key rotates the audit signing
// key and keeps, signed by the old and the new key, the statement of the
// seq from which the new one signs. They are kept in the meta bucket under
// keyTransition + the seq (8 bytes, big-endian), oldest first, and lead
// every JSONL export and every online verification, so a verifier given
// either key can check the checkpoints signed by the other.
var keyTransition = []byte("audit.transition/")

// PutTransition keeps a signed key transition for seq, in tx.
func PutTransition(tx storage.Tx, seq uint64, signed []byte) error {
	return tx.Put(storage.BucketMeta, append(append([]byte(nil), keyTransition...), SeqKey(seq)...), signed)
}

// Transitions are the key transitions kept, oldest first (copies), up to
// those at seq upTo (0: all): an export pinned at its head leaves out a
// transition a re-key made while it was being written.
func Transitions(tx storage.Tx, upTo uint64) ([][]byte, error) {
	var out [][]byte
	err := tx.Scan(storage.BucketMeta, keyTransition, func(k, v []byte) (bool, error) {
		if !bytes.HasPrefix(k, keyTransition) {
			return false, nil
		}
		if seq := k[len(keyTransition):]; upTo > 0 && len(seq) == 8 && binary.BigEndian.Uint64(seq) > upTo {
			return false, nil
		}
		out = append(out, append([]byte(nil), v...))
		return true, nil
	})
	return out, err
}
