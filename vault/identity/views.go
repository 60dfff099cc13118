package identity

import (
	"time"

	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// Summary is what may be cached of an account (no secret).
type Summary struct {
	ID, Name string
	Role     access.Role
	Disabled bool
	Expires  time.Time
}

func (u *Summary) Expired(now time.Time) bool {
	return !u.Expires.IsZero() && !now.Before(u.Expires)
}

func GetSummary(tx barrier.Tx, id string) (Summary, bool, error) {
	return barrier.Cached(tx, storage.BucketUsers, id, func(u *Record) Summary {
		return Summary{ID: u.ID, Name: u.Name, Role: u.Role, Disabled: u.Disabled, Expires: u.Expires}
	})
}

func GetSession(tx barrier.Tx, key string) (Session, bool, error) {
	return barrier.Cached(tx, storage.BucketSessions, key, func(s *Session) Session { return *s })
}
