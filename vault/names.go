package vault

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// findCred finds a live credential by name, ignoring case; nil if absent.
//
// The keyring keeps an in-memory index of lower-cased name to id while
// unsealed, built by one scan of the heads and kept current by putHead, so
// a lookup decrypts one head instead of all of them. The index is only a
// hint: the head it names is read in this transaction and must be live
// and carry the name, else the heads are scanned and the index rebuilt. A
// name absent from a complete index is absent: every head write goes
// through putHead. A write that fails (its transaction rolled back, so
// what putHead noted may not have happened) makes the index incomplete
// until the next scan.
func findCred(tx Tx, ks *keyring, name string) (*credHead, error) {
	if id, complete := ks.names.lookup(name); complete {
		if id == "" {
			return nil, nil
		}
		h, ok, err := getHead(tx, ks, id)
		if err != nil {
			return nil, err
		}
		if ok && !h.Deleted && strings.EqualFold(h.Name, name) {
			return h, nil
		}
	}
	var found *credHead
	err := ks.names.rebuild(func() (map[string]string, error) {
		fresh := map[string]string{}
		err := eachHead(tx, ks, func(h *credHead) bool {
			if !h.Deleted {
				fresh[strings.ToLower(h.Name)] = h.ID
				if found == nil && strings.EqualFold(h.Name, name) {
					found = h
				}
			}
			return true
		})
		return fresh, err
	})
	return found, err
}

// ensureNames makes the index complete, scanning tx if it is not.
func ensureNames(tx Tx, ks *keyring) error {
	if _, complete := ks.names.lookup(""); complete {
		return nil
	}
	_, err := findCred(tx, ks, "\x00") // no name has a NUL: a pure rebuild
	return err
}

// putHead writes a credential head and keeps the name index current.
func putHead(tx Tx, ks *keyring, h *credHead) error {
	if err := ks.putRecord(tx, bucketCredentials, headKey(h.ID), h); err != nil {
		return err
	}
	ks.names.note(h)
	return nil
}

// nameIndex maps lower-cased credential names to ids (see findCred), and
// keeps them sorted for paged lists.
type nameIndex struct {
	mu       sync.Mutex
	complete bool
	ids      map[string]string
	sorted   []nameID // nil: sort ids again when next needed
	// failures counts the vault's failed writes; the index is complete
	// only while it equals builtAt.
	failures *atomic.Uint64
	builtAt  uint64
	// While a rebuild scans, notes are also kept here, to be applied again
	// over the scan's result (the scan may predate them).
	rebuilding int
	pending    []*credHead
}

type nameID struct{ lower, id string }

func (n *nameIndex) valid() bool {
	return n.complete && (n.failures == nil || n.failures.Load() == n.builtAt)
}

func (n *nameIndex) lookup(name string) (id string, complete bool) {
	if n == nil {
		return "", false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ids[strings.ToLower(name)], n.valid()
}

// rebuild replaces the index with what scan finds, then applies again
// the notes made while it scanned.
func (n *nameIndex) rebuild(scan func() (map[string]string, error)) error {
	if n == nil {
		_, err := scan()
		return err
	}
	n.mu.Lock()
	n.rebuilding++
	var epoch uint64
	if n.failures != nil {
		epoch = n.failures.Load()
	}
	n.mu.Unlock()
	ids, err := scan()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.rebuilding--
	if err == nil {
		n.ids, n.sorted, n.complete, n.builtAt = ids, nil, true, epoch
		for _, h := range n.pending {
			n.apply(h)
		}
	}
	if n.rebuilding == 0 {
		n.pending = nil
	}
	return err
}

func (n *nameIndex) note(h *credHead) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.rebuilding > 0 {
		n.pending = append(n.pending, h.clone())
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
