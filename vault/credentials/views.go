package credentials

import (
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// getHead reads the head of credential id; the caller owns the copy.
func getHead(tx barrier.Tx, id string) (*credHead, bool, error) {
	h, ok, err := barrier.Cached(tx, storage.BucketCredentials, headKey(id), func(h *credHead) *credHead { return h })
	if !ok || err != nil {
		return nil, ok, err
	}
	return h.clone(), true, nil
}

func (h *credHead) clone() *credHead {
	c := *h
	c.Tags = append([]string(nil), h.Tags...)
	c.Assignees = append([]string(nil), h.Assignees...)
	if h.Compromised != nil {
		cp := *h.Compromised
		c.Compromised = &cp
	}
	if h.Handover != nil {
		ho := *h.Handover
		c.Handover = &ho
	}
	return &c
}

// assigneeNames maps the ids of h's assignees to their names.
func (c *Credentials) assigneeNames(tx barrier.Tx, h *credHead) (map[string]string, error) {
	names := make(map[string]string, len(h.Assignees))
	for _, id := range h.Assignees {
		u, ok, err := c.people.Person(tx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			names[id] = u.Name
		}
	}
	return names, nil
}
