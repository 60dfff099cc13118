package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/passwords"
	"strongroom/vault/storage"
)

// A session token is "srs_" + 43 characters of base64url (32 random bytes).
// Only SHA-256(token) is stored, as the key of a sealed session record.
const tokenPrefix = "srs_"

type Session struct {
	UserID     string    `json:"user_id"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`
	MustChange bool      `json:"must_change"`
	// ReauthAt is when the user last proved password and TOTP again in
	// this session (Reauthenticate).
	ReauthAt time.Time `json:"reauth_at,omitempty"`
	// Passkey is the credential ID of the passkey the session was signed
	// in with, if one was: removing that passkey ends the session.
	Passkey []byte `json:"passkey,omitempty"`
}

func SessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// openSession records a successful login of cur in tx: the account's
// counters, a new password if one was set, the session and the entry.
// passkey is the credential ID of the passkey it used, if any.
func (a *Accounts) openSession(tx barrier.Tx, req auditlog.Request, cur *Record, token, newHash string, step int64, how string, passkey []byte) (*access.Principal, error) {
	now := a.now()
	target := audit.Target{Kind: "user", ID: cur.ID, Name: cur.Name}
	cur.FailedLogins, cur.LockedUntil, cur.LastTOTPStep = 0, time.Time{}, step
	actor := audit.Actor{ID: cur.ID, Name: cur.Name, Role: string(cur.Role)}
	if newHash != "" {
		cur.PasswordHash, cur.MustChange = newHash, false
		if err := a.log.Append(tx, req, auditlog.Event{Actor: actor, Action: audit.UserPassword, Target: target,
			Reason: "changed at login"}); err != nil {
			return nil, err
		}
	}
	if err := tx.PutRecord(storage.BucketUsers, cur.ID, cur); err != nil {
		return nil, err
	}
	key := SessionKey(token)
	if err := tx.PutRecord(storage.BucketSessions, key, &Session{UserID: cur.ID, Created: now,
		LastSeen: now, MustChange: cur.MustChange, Passkey: passkey}); err != nil {
		return nil, err
	}
	reason := how
	if cur.MustChange {
		reason = strings.TrimPrefix(how+"; password change required", "; ")
	}
	if err := a.log.Append(tx, req, auditlog.Event{Actor: actor, Action: audit.AuthLogin, Target: target, Reason: reason}); err != nil {
		return nil, err
	}
	pr := access.NewPrincipal(cur.ID, cur.Name, cur.Role, key)
	pr.MustChange, pr.SignedInAt = cur.MustChange, now
	return pr, nil
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Authenticate is AuthenticateFrom with no request to record a refusal
// against (tools and tests).
func (a *Accounts) Authenticate(ctx context.Context, token string) (*access.Principal, error) {
	return a.AuthenticateFrom(ctx, auditlog.Request{}, token)
}

// AuthenticateFrom resolves a session token to its principal, enforcing
// idle and absolute expiry and the account's state. A refused token is
// recorded (tokens.go), at most once a minute per token.
//
// A refresh of LastSeen writes the session back only if it is still the
// record that was read (a guard): a logout, password change, MFA reset or
// disable that ended it meanwhile is never undone. If it changed, the
// token is resolved again from the store.
func (a *Accounts) AuthenticateFrom(ctx context.Context, req auditlog.Request, token string) (*access.Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return nil, a.refuseToken(ctx, req, tokenRefusal{why: unknownToken})
	}
	var p *access.Principal
	var refusal *tokenRefusal
	err := a.keys.Hold(func(h *barrier.Held) error {
		key := SessionKey(token)
		for attempt := 0; ; attempt++ {
			var again bool
			var err error
			p, refusal, again, err = a.authenticate(ctx, h, key)
			if !again || err != nil {
				return err
			}
			if attempt == 3 {
				return access.ErrConflict
			}
		}
	})
	if err == nil && refusal != nil {
		err = a.refuseToken(ctx, req, *refusal)
	}
	return p, err
}

// authenticate is one attempt; again says the session changed between its
// read and its refresh, refusal why the token signs nobody in.
func (a *Accounts) authenticate(ctx context.Context, h *barrier.Held, key string) (p *access.Principal, refusal *tokenRefusal, again bool, err error) {
	var s Session
	var u Summary
	var found bool
	var raw []byte // the stored session, kept only when a write will follow
	now := a.now()
	var gone *tokenRefusal // a session ended and removed
	err = h.View(ctx, func(tx barrier.Tx) (err error) {
		if s, found, err = GetSession(tx, key); err != nil || !found {
			gone = endedRefusal(tx, key, now)
			return err
		}
		if u, found, err = GetSummary(tx, s.UserID); err != nil || !found {
			return err
		}
		if a.ended(s, u, now) != "" || now.Sub(s.LastSeen) > time.Minute {
			raw = tx.Get(storage.BucketSessions, []byte(key))
		}
		return nil
	})
	if err != nil {
		return nil, nil, false, err
	}
	if !found {
		if gone == nil {
			gone = &tokenRefusal{why: unknownToken}
		}
		return nil, gone, false, nil
	}
	if why := a.ended(s, u, now); why != "" {
		_ = h.Write(ctx, func(tx barrier.Tx) error {
			if !tx.Expect(storage.BucketSessions, []byte(key), raw) {
				return nil
			}
			noteEnded(tx, key, u, why, s.Created)
			return tx.Delete(storage.BucketSessions, []byte(key))
		})
		return nil, &tokenRefusal{key: key, user: &u, why: why}, false, nil
	}
	if now.Sub(s.LastSeen) > time.Minute {
		a.pause("authenticate.refresh")
		s.LastSeen = now
		err := h.Write(ctx, func(tx barrier.Tx) error {
			if again = !tx.Expect(storage.BucketSessions, []byte(key), raw); again {
				return nil
			}
			return tx.PutRecord(storage.BucketSessions, key, &s)
		})
		if err != nil || again {
			return nil, nil, again, err
		}
	}
	pr := access.NewPrincipal(u.ID, u.Name, u.Role, key)
	pr.MustChange, pr.ReauthAt, pr.SignedInAt = s.MustChange, s.ReauthAt, s.Created
	return pr, nil, false, nil
}

// ended says why the session s of account u no longer signs anyone in
// ("" if it does).
func (a *Accounts) ended(s Session, u Summary, now time.Time) string {
	switch {
	case u.Disabled:
		return "account disabled or offboarded"
	case u.Expired(now):
		return "account ended " + u.Expires.UTC().Format(time.RFC3339)
	case now.Sub(s.LastSeen) > a.idle:
		return "session idle since " + s.LastSeen.UTC().Format(time.RFC3339)
	case now.Sub(s.Created) > a.maxAge:
		return "session expired (opened " + s.Created.UTC().Format(time.RFC3339) + ")"
	}
	return ""
}

// Logout ends the caller's session.
func (a *Accounts) Logout(ctx context.Context, req auditlog.Request, p *access.Principal) error {
	return access.Commit(ctx, a.store, func(tx storage.Tx) error {
		if err := tx.Delete(storage.BucketSessions, []byte(p.Session())); err != nil {
			return err
		}
		return a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.AuthLogout,
			Target: audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}})
	})
}

// ChangePassword replaces the caller's password after checking the old one.
// Every other session of the account ends. The write happens only if the
// password checked is still the account's and the caller's session still
// exists; otherwise the check runs again on what is stored now.
func (a *Accounts) ChangePassword(ctx context.Context, req auditlog.Request, p *access.Principal, old, pw []byte) error {
	return a.keys.Hold(func(h *barrier.Held) error {
		for attempt := 0; ; attempt++ {
			again, err := a.changePassword(ctx, req, h, p, old, pw)
			if !again || err != nil {
				return err
			}
			if attempt == 3 {
				return access.ErrConflict
			}
		}
	})
}

func (a *Accounts) changePassword(ctx context.Context, req auditlog.Request, h *barrier.Held, p *access.Principal, old, pw []byte) (again bool, err error) {
	target := audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}
	var u Record
	if err := h.View(ctx, func(tx barrier.Tx) error {
		ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &u)
		if err == nil && (!ok || tx.Peek(storage.BucketSessions, []byte(p.Session())) == nil) {
			err = access.ErrUnauthenticated
		}
		return err
	}); err != nil {
		return false, err
	}
	if !passwords.Verify(u.PasswordHash, old) {
		return false, a.log.RecordThen(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.UserPassword, Target: target,
			Outcome: audit.OutcomeDenied, Reason: "wrong current password"}, access.ErrBadLogin)
	}
	if err := passwords.CheckNew(u.Name, old, pw); err != nil {
		return false, err
	}
	hash := passwords.Hash(a.pwKDF, pw)
	a.pause("password.change")
	err = h.Write(ctx, func(tx barrier.Tx) error {
		var cur Record
		var s Session
		okU, err := tx.GetRecord(storage.BucketUsers, p.UserID, &cur)
		if err != nil {
			return err
		}
		okS, err := tx.GetRecord(storage.BucketSessions, p.Session(), &s)
		if err != nil {
			return err
		}
		if again = !okU || !okS || subtle.ConstantTimeCompare([]byte(cur.PasswordHash), []byte(u.PasswordHash)) != 1; again {
			return nil
		}
		cur.PasswordHash, cur.MustChange = hash, false
		if err := tx.PutRecord(storage.BucketUsers, cur.ID, &cur); err != nil {
			return err
		}
		if err := EndSessions(tx, cur.ID, p.Session()); err != nil {
			return err
		}
		s.MustChange = false
		if err := tx.PutRecord(storage.BucketSessions, p.Session(), &s); err != nil {
			return err
		}
		return a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.UserPassword, Target: target})
	})
	return again, err
}

// EndSessions deletes every session of userID except keep, and every
// command line's request to sign in as userID (device.go), approved or
// not. Once the deletion commits, a later use of one of their tokens is
// recorded against the account (tokens.go).
func EndSessions(tx barrier.Tx, userID, keep string) error {
	if err := endDevices(tx, userID); err != nil {
		return err
	}
	u, _, err := GetSummary(tx, userID)
	if err != nil {
		return err
	}
	u.ID = userID // an account already removed still has its sessions ended
	why := "session ended by a password change or MFA reset"
	if u.Disabled {
		why = "session ended: account disabled or offboarded"
	}
	_, err = endSessionsWhere(tx, u, keep, why, func(Session) bool { return true })
	return err
}

// endSessionsWhere deletes the sessions of u, other than keep, that end
// says to, noting why (tokens.go); it says how many it ended.
func endSessionsWhere(tx barrier.Tx, u Summary, keep, why string, end func(Session) bool) (int, error) {
	var doomed [][]byte
	var created []time.Time
	err := tx.Scan(storage.BucketSessions, nil, func(k, val []byte) (bool, error) {
		if bytes.HasPrefix(k, []byte(devicePrefix)) {
			return true, nil // a command line's request: endDevices
		}
		var s Session
		if err := tx.Decode(storage.BucketSessions+"/"+string(k), val, &s); err != nil {
			return false, err
		}
		if s.UserID == u.ID && string(k) != keep && end(s) {
			doomed, created = append(doomed, bytes.Clone(k)), append(created, s.Created)
		}
		return true, nil
	})
	for i, k := range doomed {
		if err == nil {
			err = tx.Delete(storage.BucketSessions, k)
			noteEnded(tx, string(k), u, why, created[i])
		}
	}
	return len(doomed), err
}

// EndAll ends every session (at seal and at unseal: every sign-in after an
// unseal starts fresh); it needs no key, and says how many it ended.
func EndAll(tx storage.Tx) (int, error) {
	var keys [][]byte
	if err := tx.Scan(storage.BucketSessions, nil, func(k, _ []byte) (bool, error) {
		keys = append(keys, bytes.Clone(k))
		return true, nil
	}); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.Delete(storage.BucketSessions, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
