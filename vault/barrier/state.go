package barrier

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"strongroom/audit"
	"strongroom/vault/storage"
)

// The state seal (SECURITY.md "The state seal") commits to every record
// the vault relies on: for each bucket, the number of records and the XOR
// of HMAC-SHA256(state key, 0x01 || u16 len(bucket) || bucket || u32
// len(key) || key || value) over them, together with the audit log's head
// at the last write made with the keys. It is kept at meta/state as
//
//	"SRS1" || gen (u64) || audit seq (u64) || audit hash (32) || per sealed bucket, in storage.Buckets order: count (u64) || xor (32) || tag (32)
//
// where tag = HMAC-SHA256(state key, 0x02 || everything before it). The
// state key is keyring term 0: a random key made at init and again at each
// re-key, sealed with the data keys under the root key, never used to seal
// a record. Every write made with the keys folds what it changed into the
// seal in its own transaction; unseal recomputes the seal from every
// record and refuses a database that does not match it.

// KeyState is where the state seal is kept (bucket meta).
const KeyState = "state"

// Meta keys outside the state seal: the seal itself, the audit head (the
// seal pins it instead, and entries appended while sealed move it) and the
// outbox positions of notifiers (moved while sealed).
const (
	keyAuditHead  = "audit.head"
	prefixOutbox  = "outbox/"
	stateMagic    = "SRS1"
	stateTermKeys = 0 // the keyring term that holds the state key
)

// ErrRolledBack is the class of every failed state check: a record was
// put back to an earlier copy, deleted, added or edited outside the vault.
var ErrRolledBack = errors.New("vault: the database was changed outside the vault")

// ErrSealedWrite refuses, without the keys, any write but an audit entry
// of the kinds the vault writes while sealed (WrittenWhileSealed). It is
// ErrSealed to callers.
var ErrSealedWrite = fmt.Errorf("%w: only refusals and envelope steps can be recorded without the keys", ErrSealed)

// WrittenWhileSealed says e is an entry of a kind the vault writes
// without its keys: a refusal or failure of any kind, an envelope step (a
// share given, an envelope checked, the shares forgotten), a seal asked of
// a sealed vault, or a restore recorded offline. Every other entry is written with the keys, so it
// moves the state seal's pin: one found after the pin was not written by
// the vault (or the records are older than the log).
func WrittenWhileSealed(e *audit.Entry) bool {
	if e.Outcome != audit.OutcomeOK {
		return true
	}
	switch e.Action {
	case audit.EscrowShare, audit.EscrowCheck, audit.SysUnsealReset, audit.BackupRestore, audit.SysSeal:
		return true
	}
	return false
}

// errNoStateKey is a keyring from before the state seal (no term 0).
var errNoStateKey = errors.New("vault: the keyring has no state key")

// RollbackError says what the state check found: in which bucket, and
// whether records are missing, extra, or present but not as last written.
type RollbackError struct {
	Bucket string // "" for the seal itself or the audit log
	What   string
}

func (e *RollbackError) Error() string {
	where := "the vault's own state seal"
	if e.Bucket != "" {
		where = fmt.Sprintf("bucket %q", e.Bucket)
	}
	return fmt.Sprintf("vault: the database was changed outside the vault (%s): %s; the vault refuses it: restore the latest backup (docs/emergency.md)", where, e.What)
}

// Is makes a RollbackError match ErrRolledBack.
func (e *RollbackError) Is(target error) bool { return target == ErrRolledBack }

// Covered says whether bucket/key is inside the state seal.
func Covered(bucket string, key []byte) bool {
	switch bucket {
	case storage.BucketAudit:
		return false
	case storage.BucketMeta:
		k := string(key)
		return k != KeyState && k != keyAuditHead && !strings.HasPrefix(k, prefixOutbox)
	}
	return true
}

// sealedBuckets are the buckets the seal sums, in order.
var sealedBuckets = func() []string {
	var out []string
	for _, b := range storage.Buckets {
		if b != storage.BucketAudit {
			out = append(out, b)
		}
	}
	return out
}()

type bucketSum struct {
	n   uint64
	xor [32]byte
}

// stateHead is the decoded seal.
type stateHead struct {
	gen       uint64
	auditSeq  uint64
	auditHash [32]byte
	sums      []bucketSum // as sealedBuckets
}

const stateBodyLen = 4 + 8 + 8 + 32

func (h *stateHead) encode(key []byte) []byte {
	b := make([]byte, 0, stateBodyLen+40*len(h.sums)+32)
	b = append(b, stateMagic...)
	b = binary.BigEndian.AppendUint64(b, h.gen)
	b = binary.BigEndian.AppendUint64(b, h.auditSeq)
	b = append(b, h.auditHash[:]...)
	for _, s := range h.sums {
		b = binary.BigEndian.AppendUint64(b, s.n)
		b = append(b, s.xor[:]...)
	}
	return append(b, headTag(key, b)...)
}

func headTag(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte{0x02})
	m.Write(body)
	return m.Sum(nil)
}

func decodeHead(key, raw []byte) (*stateHead, error) {
	want := stateBodyLen + 40*len(sealedBuckets) + 32
	if len(raw) != want || string(raw[:4]) != stateMagic {
		return nil, &RollbackError{What: "the state seal is malformed"}
	}
	body := raw[:want-32]
	if !hmac.Equal(headTag(key, body), raw[want-32:]) {
		return nil, &RollbackError{What: "the state seal does not authenticate (changed, or put back from before a re-key)"}
	}
	h := &stateHead{gen: binary.BigEndian.Uint64(body[4:]), auditSeq: binary.BigEndian.Uint64(body[12:])}
	copy(h.auditHash[:], body[20:52])
	for off := stateBodyLen; off < len(body); off += 40 {
		var s bucketSum
		s.n = binary.BigEndian.Uint64(body[off:])
		copy(s.xor[:], body[off+8:off+40])
		h.sums = append(h.sums, s)
	}
	return h, nil
}

// element is one record's share of its bucket's sum; m is an HMAC under
// the state key, reset here.
func element(m hash.Hash, bucket string, key, val []byte) (out [32]byte) {
	m.Reset()
	var n [6]byte
	m.Write([]byte{0x01})
	binary.BigEndian.PutUint16(n[:2], uint16(len(bucket)))
	m.Write(n[:2])
	m.Write([]byte(bucket))
	binary.BigEndian.PutUint32(n[2:], uint32(len(key)))
	m.Write(n[2:])
	m.Write(key)
	m.Write(val)
	m.Sum(out[:0])
	return out
}

func xorInto(dst *[32]byte, e [32]byte) {
	for i := range dst {
		dst[i] ^= e[i]
	}
}

func bucketPos(bucket string) int {
	for i, b := range sealedBuckets {
		if b == bucket {
			return i
		}
	}
	return -1
}

// computeSums sums every sealed record under each of keys (one scan).
func computeSums(tx storage.Tx, keys ...[]byte) ([][]bucketSum, error) {
	macs := make([]hash.Hash, len(keys))
	out := make([][]bucketSum, len(keys))
	for i, k := range keys {
		macs[i] = hmac.New(sha256.New, k)
		out[i] = make([]bucketSum, len(sealedBuckets))
	}
	for bi, b := range sealedBuckets {
		err := tx.Scan(b, nil, func(k, v []byte) (bool, error) {
			if !Covered(b, k) {
				return true, nil
			}
			for i, m := range macs {
				out[i][bi].n++
				xorInto(&out[i][bi].xor, element(m, b, k, v))
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// auditHead is the log's head as the log keeps it (seq 0: empty).
func auditHead(tx storage.Tx) (uint64, [32]byte, error) {
	var h [32]byte
	raw := tx.Peek(storage.BucketMeta, []byte(keyAuditHead))
	if raw == nil {
		return 0, h, nil
	}
	if len(raw) != 40 {
		return 0, h, &RollbackError{Bucket: storage.BucketMeta, What: "the audit head is malformed"}
	}
	copy(h[:], raw[8:])
	return binary.BigEndian.Uint64(raw), h, nil
}

// compare names the first bucket whose records differ from the seal.
func compare(want, got []bucketSum) error {
	for i, b := range sealedBuckets {
		w, g := want[i], got[i]
		switch {
		case g.n < w.n:
			return &RollbackError{Bucket: b, What: fmt.Sprintf("%d of its records were deleted", w.n-g.n)}
		case g.n > w.n:
			return &RollbackError{Bucket: b, What: fmt.Sprintf("%d records were added to it", g.n-w.n)}
		case g.xor != w.xor:
			return &RollbackError{Bucket: b, What: "a record was rolled back to an earlier copy of itself, or edited"}
		}
	}
	return nil
}

// checkAudit checks that the log still holds the entry the seal pins,
// unchanged, and that every entry after it (appended while sealed) chains
// from it up to the log's head.
func checkAudit(tx storage.Tx, h *stateHead) error {
	seq, head, err := auditHead(tx)
	if err != nil {
		return err
	}
	pinHex := hex.EncodeToString(h.auditHash[:])
	if h.auditSeq == 0 {
		return nil // nothing pinned yet
	}
	if seq < h.auditSeq {
		return &RollbackError{Bucket: storage.BucketAudit, What: fmt.Sprintf("the log ends at entry %d, before entry %d the vault last wrote (its tail was cut)", seq, h.auditSeq)}
	}
	line := tx.Peek(storage.BucketAudit, binary.BigEndian.AppendUint64(nil, h.auditSeq))
	e, err := audit.ParseLine(line)
	if err != nil || e.Seq != h.auditSeq {
		return &RollbackError{Bucket: storage.BucketAudit, What: fmt.Sprintf("entry %d, the last the vault wrote with its keys, is missing or unreadable", h.auditSeq)}
	}
	chain := audit.NewChainAt(h.auditSeq-1, e.Prev)
	if err := chain.Add(line); err != nil {
		return &RollbackError{Bucket: storage.BucketAudit, What: fmt.Sprintf("entry %d, the last the vault wrote with its keys, was changed", h.auditSeq)}
	}
	if _, got := chain.Head(); got != pinHex {
		return &RollbackError{Bucket: storage.BucketAudit, What: fmt.Sprintf("entry %d is not the one the vault wrote (the log was rewritten)", h.auditSeq)}
	}
	var alien *audit.Entry
	err = tx.Scan(storage.BucketAudit, binary.BigEndian.AppendUint64(nil, h.auditSeq+1), func(_, v []byte) (bool, error) {
		if err := chain.Add(v); err != nil {
			return false, err
		}
		if e, err := audit.ParseLine(v); err != nil || !WrittenWhileSealed(e) {
			alien = e
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return &RollbackError{Bucket: storage.BucketAudit, What: "the entries after the last one the vault wrote with its keys do not chain from it: " + err.Error()}
	}
	if alien != nil {
		return &RollbackError{Bucket: storage.BucketAudit, What: fmt.Sprintf("entry %d (%s) follows the last write the vault made with its keys, "+
			"but without them it records only refusals and envelope steps: the records are older than the log, or the entry was added", alien.Seq, alien.Action)}
	}
	if last, lastHash := chain.Head(); last != seq || lastHash != hex.EncodeToString(head[:]) {
		return &RollbackError{Bucket: storage.BucketMeta, What: "the audit head does not name the log's last entry"}
	}
	return nil
}

// writeHead stores h sealed under key.
func writeHead(tx storage.Tx, h *stateHead, key []byte) error {
	return tx.Put(storage.BucketMeta, []byte(KeyState), h.encode(key))
}

// pin records the log's current head in h.
func pin(tx storage.Tx, h *stateHead) error {
	seq, hash, err := auditHead(tx)
	h.auditSeq, h.auditHash = seq, hash
	return err
}
