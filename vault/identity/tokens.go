package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
)

// Refused session tokens are recorded as audit.AuthTokenRefused, rate
// limited so that a flood cannot bloat the log: at most one entry a minute
// per token, carrying the count of refusals since the last one. A token
// whose session is still stored (ended by idleness, age, or its account's
// end date or disabling) is recorded against its account, named by a
// short id (SessionID); a token with no session (never issued, signed
// out, or ended and removed) names nobody, so its refusals are counted per
// source address instead, and a stream of made-up tokens is one entry a
// minute. Neither the token nor its hash enters the entry. The counts are
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
