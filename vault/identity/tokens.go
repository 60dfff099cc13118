package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
)

// Refused session tokens are recorded as audit.AuthTokenRefused, rate
// limited so that a flood cannot bloat the log: at most one entry a minute
// per token, carrying the count of refusals since the last one. A token
// whose session is still stored (ended by idleness, age, or its account's
// end date or disabling) is recorded against its account, named by a
// short id (SessionID). So is a token whose session was removed by an
// account change (disable, offboard, MFA reset, password change) or on
// being found ended: the vault remembers, while unsealed, whose those
// sessions were (endedSessions). Any other token with no session (never
// issued, signed out, or ended before the vault was last unsealed) names
// nobody, so its refusals are counted per source address instead, and a
// stream of made-up tokens is one entry a minute. Neither the token nor its hash enters the entry. The counts are
// in memory and bounded as the sign-in throttle's are (throttle.go).

// unknownToken is the refusal of a token with no session.
const unknownToken = "unknown, signed-out or ended session"

type tokenRefusal struct {
	key  string   // the session key; "" if there is no session
	user *Summary // the session's account; nil if none
	why  string
}

// SessionID is a short, non-secret name of the session stored under key,
// for audit entries: 32 bits of a hash separated from the session key's
// own, so it neither is the token's hash nor finds the session.
func SessionID(key string) string {
	sum := sha256.Sum256([]byte("strongroom session id\x00" + key))
	return "s-" + hex.EncodeToString(sum[:4])
}

// refuseToken records r if one is due and returns the caller's answer.
func (a *Accounts) refuseToken(ctx context.Context, req auditlog.Request, r tokenRefusal) error {
	rate := "source\x00" + req.IP
	actor := audit.Actor{Role: "anonymous"}
	target := audit.Target{Kind: "session"}
	if r.user != nil {
		rate = "session\x00" + r.key
		actor = audit.Actor{ID: r.user.ID, Name: r.user.Name, Role: string(r.user.Role)}
		target.ID = SessionID(r.key)
	}
	due, n := a.tokens.refuse(rate, a.now())
	if !due {
		return access.ErrUnauthenticated
	}
	reason := "session token refused: " + r.why
	if n > 1 {
		reason += fmt.Sprintf(" (%d refusals since the last such entry)", n)
	}
	return a.log.RecordThen(ctx, req, auditlog.Event{Actor: actor, Action: audit.AuthTokenRefused, Target: target,
		Outcome: audit.OutcomeDenied, Reason: reason}, access.ErrUnauthenticated)
}

// endedSessions remembers whose the removed sessions were, so that a later
// use of their tokens names the account. It lives with the keys
// (barrier.Tx.Local), changes only after the commit that removed the
// session, and is bounded: endedKept entries, each kept endedFor after
// its session was opened (no session lives longer).
type endedSessions struct {
	mu sync.Mutex
	m  map[string]endedSession
}

type endedSession struct {
	user    Summary
	why     string
	created time.Time
}

const (
	endedKept = 10000
	endedFor  = 24 * time.Hour
)

type endedSessionsKey struct{}

// endedOf is tx's registry; nil on a temporary keyring.
func endedOf(tx barrier.Tx) *endedSessions {
	r, _ := tx.Local(endedSessionsKey{}, func() any { return &endedSessions{m: map[string]endedSession{}} }).(*endedSessions)
	return r
}

// noteEnded remembers, once tx commits, that the session under key, of
// u, opened at created, was removed for why.
func noteEnded(tx barrier.Tx, key string, u Summary, why string, created time.Time) {
	r := endedOf(tx)
	if r == nil {
		return
	}
	tx.OnCommit(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.m) >= endedKept {
			oldest := ""
			for k, e := range r.m {
				if oldest == "" || e.created.Before(r.m[oldest].created) {
					oldest = k
				}
			}
			delete(r.m, oldest)
		}
		r.m[key] = endedSession{user: u, why: why, created: created}
	})
}

// endedRefusal is the refusal of a token whose session was removed, if
// the vault remembers it; nil if not.
func endedRefusal(tx barrier.Tx, key string, now time.Time) *tokenRefusal {
	r := endedOf(tx)
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[key]
	if !ok {
		return nil
	}
	if now.Sub(e.created) > endedFor {
		delete(r.m, key)
		return nil
	}
	u := e.user
	return &tokenRefusal{key: key, user: &u, why: e.why}
}
