package credentials

import (
	"sort"
	"strings"
	"sync"

	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// findCred finds a live credential by name, ignoring case; nil if absent.
//
// The keyring keeps an in-memory index of lower-cased name to id while
// unsealed, built by one scan of the heads and kept current by notes that
// putHead registers to run after each commit, so a lookup decrypts one
// head instead of all of them. The index is only a hint for a name it
// holds: the head it names is read in this transaction and must be live
// and carry the name, else the heads are scanned (and the index rebuilt).
// A name absent from a complete index is absent: every head write goes
// through putHead, and its note is applied after its commit, in commit
// order, before the next commit starts (storage's OnCommit).
func findCred(tx barrier.Tx, name string) (*credHead, error) {
	// A head an earlier write of this transaction wrote is not in the index
	// yet (notes run after the commit): it is in the transaction's scratch.
	if h, ok := writtenHeads(tx)[strings.ToLower(name)]; ok {
		if h.Deleted {
			return nil, nil
		}
		return h.clone(), nil
	}
	if id, complete := namesOf(tx).lookup(name); complete {
		if id == "" {
			return nil, nil
		}
		h, ok, err := getHead(tx, id)
		if err != nil {
			return nil, err
		}
		if ok && !h.Deleted && strings.EqualFold(h.Name, name) {
			return h, nil
		}
	}
	var found *credHead
	fresh := map[string]string{}
	err := eachHead(tx, func(h *credHead) bool {
		if !h.Deleted {
			fresh[strings.ToLower(h.Name)] = h.ID
			if found == nil && strings.EqualFold(h.Name, name) {
				found = h
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	namesOf(tx).rebuild(tx.Revision(), fresh)
	return found, nil
}

// namesKey is the name index's place among the state that lives as long
// as the keys (barrier.Tx.Local).
type namesKey struct{}

// namesOf is the name index kept with the vault's keys; nil through a
// temporary keyring.
func namesOf(tx barrier.Tx) *nameIndex {
	idx, _ := tx.Local(namesKey{}, func() any { return &nameIndex{} }).(*nameIndex)
	return idx
}

// ensureNames makes the index complete, scanning tx if it is not.
func ensureNames(tx barrier.Tx) error {
	if _, complete := namesOf(tx).lookup(""); complete {
		return nil
	}
	_, err := findCred(tx, "\x00") // no name has a NUL: a pure rebuild
	return err
}

// putHead writes a credential head; the name index learns of it once the
// write has committed.
func putHead(tx barrier.Tx, h *credHead) error {
	if err := tx.PutRecord(storage.BucketCredentials, headKey(h.ID), h); err != nil {
		return err
	}
	hc := h.clone()
	writtenHeads(tx)[strings.ToLower(h.Name)] = hc
	if idx := namesOf(tx); idx != nil {
		rev := tx.Revision()
		tx.OnCommit(func() { idx.note(rev, hc) })
	}
	return nil
}

// writtenHeads is the heads this transaction has written, by lower-cased
// name, for the lookups of later writes in it.
func writtenHeads(tx storage.Tx) map[string]*credHead {
	m, _ := tx.Scratch()["heads"].(map[string]*credHead)
	if m == nil {
		m = map[string]*credHead{}
		tx.Scratch()["heads"] = m
	}
	return m
}

// nameIndex maps lower-cased credential names to ids (see findCred), and
// keeps them sorted for paged lists.
//
// A rebuild scans a snapshot that may be older than notes already applied
// (a reader's transaction began before a commit whose note has run). So
// the latest notes are kept with their commit's revision, and a rebuild
// from a snapshot at revision r is installed with every kept note newer
// than r applied over it; if such a note may have been dropped from the
// list, the rebuild is not installed.
type nameIndex struct {
	mu       sync.Mutex
	complete bool
	ids      map[string]string
	sorted   []nameID // nil: sort ids again when next needed
	// recent is a ring of the latest notes: next is where the next goes,
	// and it holds keptNotes once full.
	recent  []revNote
	next    int
	dropped uint64 // the highest revision of a note no longer in recent
}

type revNote struct {
	rev uint64
	h   *credHead
}

// keptNotes bounds recent: a rebuild from a snapshot more than this many
// head writes old is not installed (the next lookup scans again).
const keptNotes = 4096

type nameID struct{ lower, id string }

func (n *nameIndex) lookup(name string) (id string, complete bool) {
	if n == nil {
		return "", false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ids[strings.ToLower(name)], n.complete
}

// rebuild installs ids, scanned at revision rev, with the notes of later
// commits applied over it.
func (n *nameIndex) rebuild(rev uint64, ids map[string]string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dropped > rev {
		return
	}
	n.ids, n.sorted, n.complete = ids, nil, true
	for i := range n.recent { // oldest first
		if rn := n.recent[(n.next+i)%len(n.recent)]; rn.rev > rev {
			n.apply(rn.h)
		}
	}
}

// note records a head written by the commit at revision rev. It runs
// after that commit, in commit order.
func (n *nameIndex) note(rev uint64, h *credHead) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.recent) < keptNotes {
		n.recent = append(n.recent, revNote{rev, h})
	} else {
		n.dropped = n.recent[n.next].rev
		n.recent[n.next] = revNote{rev, h}
		n.next = (n.next + 1) % keptNotes
	}
	if n.complete {
		n.apply(h)
	}
}

func (n *nameIndex) apply(h *credHead) {
	key := strings.ToLower(h.Name)
	switch {
	case !h.Deleted:
		if _, ok := n.ids[key]; !ok {
			n.sorted = nil
		}
		n.ids[key] = h.ID
	case n.ids[key] == h.ID:
		delete(n.ids, key)
		n.sorted = nil
	}
}

// after returns up to max entries whose lower-cased name sorts after
// lower(after) ("" from the start), in name order.
func (n *nameIndex) after(after string, max int) []nameID {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sorted == nil {
		n.sorted = make([]nameID, 0, len(n.ids))
		for k, id := range n.ids {
			n.sorted = append(n.sorted, nameID{k, id})
		}
		sort.Slice(n.sorted, func(i, j int) bool { return n.sorted[i].lower < n.sorted[j].lower })
	}
	a := strings.ToLower(after)
	i := sort.Search(len(n.sorted), func(i int) bool { return n.sorted[i].lower > a })
	if after == "" {
		i = 0
	}
	end := len(n.sorted)
	if max > 0 && i+max < end {
		end = i + max
	}
	return append([]nameID(nil), n.sorted[i:end]...)
}

func quote(s string) string { return "\"" + s + "\"" }
