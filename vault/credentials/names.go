package credentials

import (
	"slices"
	"sort"
	"sync"

	"strongroom/vault/access"
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
	if h, ok := writtenHeads(tx)[access.NameKey(name)]; ok {
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
		if ok && !h.Deleted && access.NameKey(h.Name) == access.NameKey(name) {
			return h, nil
		}
	}
	var found *credHead
	key := access.NameKey(name)
	fresh := map[string]nameEntry{}
	err := eachHead(tx, func(h *credHead) bool {
		if !h.Deleted {
			fresh[access.NameKey(h.Name)] = nameEntry{h.ID, access.Skeleton(h.Name)}
			if found == nil && access.NameKey(h.Name) == key {
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
	writtenHeads(tx)[access.NameKey(h.Name)] = hc
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

// nameIndex maps the keys of credential names (access.NameKey: case,
// width and normal form folded) to ids (see findCred), keeps them sorted
// for paged lists, and maps their skeletons (access.Skeleton) to ids, so a
// new name drawn like an existing one is found without a scan.
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
	ids      map[string]nameEntry
	skels    map[string][]string // skeleton -> ids (older names may share one)
	sorted   []nameID            // nil: sort ids again when next needed
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

type nameEntry struct{ id, skel string }

func (n *nameIndex) lookup(name string) (id string, complete bool) {
	if n == nil {
		return "", false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ids[access.NameKey(name)].id, n.complete
}

// similar is the ids of live names with the skeleton skel.
func (n *nameIndex) similar(skel string) (ids []string, complete bool) {
	if n == nil {
		return nil, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.skels[skel]), n.complete
}

// rebuild installs ids, scanned at revision rev, with the notes of later
// commits applied over it.
func (n *nameIndex) rebuild(rev uint64, ids map[string]nameEntry) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dropped > rev {
		return
	}
	n.ids, n.sorted, n.complete = ids, nil, true
	n.skels = make(map[string][]string, len(ids))
	for _, e := range ids {
		n.skels[e.skel] = append(n.skels[e.skel], e.id)
	}
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
	key, skel := access.NameKey(h.Name), access.Skeleton(h.Name)
	switch {
	case !h.Deleted:
		if _, ok := n.ids[key]; !ok {
			n.sorted = nil
		}
		n.ids[key] = nameEntry{h.ID, skel}
		if !slices.Contains(n.skels[skel], h.ID) {
			n.skels[skel] = append(n.skels[skel], h.ID)
		}
	case n.ids[key].id == h.ID:
		delete(n.ids, key)
		n.skels[skel] = slices.DeleteFunc(n.skels[skel], func(id string) bool { return id == h.ID })
		if len(n.skels[skel]) == 0 {
			delete(n.skels, skel)
		}
		n.sorted = nil
	}
}

// after returns up to max entries whose name key sorts after after's ("" from
// the start), in key order.
func (n *nameIndex) after(after string, max int) []nameID {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sorted == nil {
		n.sorted = make([]nameID, 0, len(n.ids))
		for k, e := range n.ids {
			n.sorted = append(n.sorted, nameID{k, e.id})
		}
		sort.Slice(n.sorted, func(i, j int) bool { return n.sorted[i].lower < n.sorted[j].lower })
	}
	a := access.NameKey(after)
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

// findSimilar is a live credential whose name is drawn like name (the same
// skeleton) or is the same name, including heads this write made; nil if
// none.
func findSimilar(tx barrier.Tx, name string) (*credHead, error) {
	skel := access.Skeleton(name)
	for _, h := range writtenHeads(tx) {
		if !h.Deleted && access.Skeleton(h.Name) == skel {
			return h.clone(), nil
		}
	}
	if err := ensureNames(tx); err != nil {
		return nil, err
	}
	ids, complete := namesOf(tx).similar(skel)
	for _, id := range ids {
		h, ok, err := getHead(tx, id)
		if err != nil {
			return nil, err
		}
		if ok && !h.Deleted && access.Skeleton(h.Name) == skel {
			return h, nil
		}
	}
	if complete && len(ids) == 0 {
		return nil, nil
	}
	// No index (a temporary keyring), or only stale hints: scan.
	var found *credHead
	err := eachHead(tx, func(h *credHead) bool {
		if !h.Deleted && access.Skeleton(h.Name) == skel {
			found = h
			return false
		}
		return true
	})
	return found, err
}
