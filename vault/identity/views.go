package identity

import (
	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// Summary is what may be cached of an account (no secret).
type Summary = access.Person

// Person is what the rest of the vault may know of the account.
func (u *Record) Person() access.Person {
	return access.Person{ID: u.ID, Name: u.Name, Role: u.Role, Disabled: u.Disabled, Expires: u.Expires, MFAExempt: u.MFAExempt,
		Agreement: u.Contractor.Clone(), Created: u.Created}
}

// GetSummary is the cached Person of account id.
func GetSummary(tx barrier.Tx, id string) (Summary, bool, error) {
	return barrier.Cached(tx, storage.BucketUsers, id, (*Record).Person)
}

func GetSession(tx barrier.Tx, key string) (Session, bool, error) {
	return barrier.Cached(tx, storage.BucketSessions, key, func(s *Session) Session { return *s })
}
