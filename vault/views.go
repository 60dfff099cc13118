package vault

import (
	"time"

	"strongroom/vault/barrier"
)

// getHead reads the head of credential id; the caller owns the copy.
func getHead(tx Tx, ks *keyring, id string) (*credHead, bool, error) {
	h, ok, err := barrier.Cached(tx, ks.Keyring, bucketCredentials, headKey(id), func(h *credHead) *credHead { return h })
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
	return &c
}

// userSummary is what may be cached of an account (no secret).
type userSummary struct {
	ID, Name string
	Role     Role
	Disabled bool
	Expires  time.Time
}

func (u *userSummary) expired(now time.Time) bool {
	return !u.Expires.IsZero() && !now.Before(u.Expires)
}

func getUserSummary(tx Tx, ks *keyring, id string) (userSummary, bool, error) {
	return barrier.Cached(tx, ks.Keyring, bucketUsers, id, func(u *userRecord) userSummary {
		return userSummary{ID: u.ID, Name: u.Name, Role: u.Role, Disabled: u.Disabled, Expires: u.Expires}
	})
}

func getSession(tx Tx, ks *keyring, key string) (sessionRecord, bool, error) {
	return barrier.Cached(tx, ks.Keyring, bucketSessions, key, func(s *sessionRecord) sessionRecord { return *s })
}

// assigneeNames maps the ids of h's assignees to their names.
func assigneeNames(tx Tx, ks *keyring, h *credHead) (map[string]string, error) {
	names := make(map[string]string, len(h.Assignees))
	for _, id := range h.Assignees {
		u, ok, err := getUserSummary(tx, ks, id)
		if err != nil {
			return nil, err
		}
		if ok {
			names[id] = u.Name
		}
	}
	return names, nil
}
