package vault

import (
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
	"strongroom/vault/passwords"
)

// A session token is "srs_" + 43 characters of base64url (32 random bytes).
// Only SHA-256(token) is stored, as the key of a sealed session record.
const tokenPrefix = "srs_"

type sessionRecord struct {
	UserID     string    `json:"user_id"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`
	MustChange bool      `json:"must_change"`
	// ReauthAt is when the user last proved password and TOTP again in
	// this session (Reauthenticate).
	ReauthAt time.Time `json:"reauth_at,omitempty"`
}

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Lockout: after lockoutAfter failures in a row an account is locked for
// 30 s, doubling with each further failure, at most an hour.
const lockoutAfter = 5

func lockFor(failures int) time.Duration {
	if failures < lockoutAfter {
		return 0
	}
	d := 30 * time.Second << min(failures-lockoutAfter, 7)
	return min(d, time.Hour)
}

// LoginRequest carries the credentials of a login. NewPassword, if set,
// replaces the password in the same step (required for one-time passwords).
type LoginRequest struct {
	Name        string
	Password    []byte
	TOTP        string
	NewPassword []byte
	// RecoveryCode may stand in for TOTP once per code.
	RecoveryCode string
}

// Login checks password and TOTP and opens a session. Failures are recorded
// and count towards a lockout; every failure looks the same to the caller.
func (v *Vault) Login(ctx context.Context, req Request, in LoginRequest) (token string, p *Principal, err error) {
	err = v.withKeys(func(ks *keyring) error {
		token, p, err = v.login(ctx, req, ks, in)
		return err
	})
	return token, p, err
}

func (v *Vault) login(ctx context.Context, req Request, ks *keyring, in LoginRequest) (string, *Principal, error) {
	var u *userRecord
	if err := v.store.View(ctx, func(tx Tx) (err error) {
		u, err = findUser(tx, ks, in.Name)
		return err
	}); err != nil {
		return "", nil, err
	}
	now := v.now()
	target := audit.Target{Kind: "user", Name: in.Name}
	anon := audit.Actor{Name: in.Name, Role: "anonymous"}
	if u == nil {
		passwords.Verify(passwords.Hash(v.pwKDF, []byte("x")), in.Password) // same cost as a real check
		return "", nil, v.recordThen(ctx, req, event{actor: anon, action: audit.AuthLogin, target: target,
			outcome: audit.OutcomeDenied, reason: "unknown account"}, ErrBadLogin)
	}
	target.ID, anon.ID = u.ID, u.ID
	if u.LockedUntil.After(now) {
		return "", nil, v.recordThen(ctx, req, event{actor: anon, action: audit.AuthLogin, target: target,
			outcome: audit.OutcomeDenied, reason: "account locked"}, &LockedError{Until: u.LockedUntil})
	}
	pwOK := passwords.Verify(u.PasswordHash, in.Password)
	// The second factor is checked again on the stored record inside the
	// transaction (factors.go); this precheck only spares a login bound to
	// fail the cost of hashing a new password.
	secondOK := factorFor(in, u).precheck(in, u, now)
	var newHash string
	if pwOK && secondOK && in.NewPassword != nil {
		if err := passwords.CheckNew(u.Name, in.Password, in.NewPassword); err != nil {
			return "", nil, err
		}
		newHash = passwords.Hash(v.pwKDF, in.NewPassword)
	}

	token := newToken()
	var principal *Principal
	v.pause("login.decide")
	err := v.write(ctx, func(tx Tx) error {
		var cur userRecord
		if ok, err := ks.Get(tx, bucketUsers, u.ID, &cur); err != nil || !ok {
			return firstErr(err, ErrBadLogin)
		}
		deny := func(reason string, answer error) error {
			if err := v.appendAudit(tx, req, event{actor: anon, action: audit.AuthLogin, target: target,
				outcome: audit.OutcomeDenied, reason: reason}); err != nil {
				return err
			}
			return recorded(answer)
		}
		// The guards: what was checked outside this transaction (the lock,
		// the password hash and the TOTP secret) is checked again here, so
		// a guess in flight when the account locks, or when its password or
		// MFA is reset, is refused and not counted.
		switch {
		case cur.LockedUntil.After(now):
			return deny("account locked", &LockedError{Until: cur.LockedUntil})
		case cur.PasswordHash != u.PasswordHash || cur.TOTPSecret != u.TOTPSecret:
			return deny("the account changed during the attempt", ErrBadLogin)
		}
		reason, how, useStep := loginDecision(&cur, in, pwOK, now)
		if reason != "" {
			cur.FailedLogins++
			if d := lockFor(cur.FailedLogins); d > 0 {
				cur.LockedUntil = now.Add(d)
				reason += "; account locked for " + d.String()
			}
			if err := ks.Put(tx, bucketUsers, cur.ID, &cur); err != nil {
				return err
			}
			return deny(reason, ErrBadLogin)
		}
		var err error
		principal, err = v.openSession(tx, ks, req, &cur, token, newHash, useStep, how)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, principal, nil
}

// loginDecision decides a login on the stored account: reason is why it
// is refused ("" if not), how says which second factor stood in for TOTP,
// and step is the TOTP step to record as used.
func loginDecision(cur *userRecord, in LoginRequest, pwOK bool, now time.Time) (reason, how string, step int64) {
	if !pwOK {
		return "wrong password", "", 0
	}
	if reason, how, step = factorFor(in, cur).confirm(in, cur, now); reason != "" {
		return reason, "", 0
	}
	// The account's state is checked whatever the second factor was.
	switch {
	case cur.Disabled:
		reason = "account disabled"
	case cur.expired(now):
		reason = "account ended " + cur.Expires.Format(time.RFC3339)
	}
	return reason, how, step
}

// openSession records a successful login of cur in tx: the account's
// counters, a new password if one was set, the session and the entry.
func (v *Vault) openSession(tx Tx, ks *keyring, req Request, cur *userRecord, token, newHash string, step int64, how string) (*Principal, error) {
	now := v.now()
	target := audit.Target{Kind: "user", ID: cur.ID, Name: cur.Name}
	cur.FailedLogins, cur.LockedUntil, cur.LastTOTPStep = 0, time.Time{}, step
	actor := audit.Actor{ID: cur.ID, Name: cur.Name, Role: string(cur.Role)}
	if newHash != "" {
		cur.PasswordHash, cur.MustChange = newHash, false
		if err := v.appendAudit(tx, req, event{actor: actor, action: audit.UserPassword, target: target,
			reason: "changed at login"}); err != nil {
			return nil, err
		}
	}
	if err := ks.Put(tx, bucketUsers, cur.ID, cur); err != nil {
		return nil, err
	}
	key := sessionKey(token)
	if err := ks.Put(tx, bucketSessions, key, &sessionRecord{UserID: cur.ID, Created: now,
		LastSeen: now, MustChange: cur.MustChange}); err != nil {
		return nil, err
	}
	reason := how
	if cur.MustChange {
		reason = strings.TrimPrefix(how+"; password change required", "; ")
	}
	if err := v.appendAudit(tx, req, event{actor: actor, action: audit.AuthLogin, target: target, reason: reason}); err != nil {
		return nil, err
	}
	pr := access.NewPrincipal(cur.ID, cur.Name, cur.Role, key)
	pr.MustChange = cur.MustChange
	return pr, nil
}

func (v *Vault) recordThen(ctx context.Context, req Request, ev event, result error) error {
	if err := v.record(ctx, req, ev); err != nil {
		return err
	}
	return result
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Authenticate resolves a session token to its principal, enforcing idle
// and absolute expiry and the account's state.
//
// A refresh of LastSeen writes the session back only if it is still the
// record that was read (a guard): a logout, password change, MFA reset or
// disable that ended it meanwhile is never undone. If it changed, the
// token is resolved again from the store.
func (v *Vault) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return nil, ErrUnauthenticated
	}
	var p *Principal
	err := v.withKeys(func(ks *keyring) error {
		key := sessionKey(token)
		for attempt := 0; ; attempt++ {
			var again bool
			var err error
			p, again, err = v.authenticate(ctx, ks, key)
			if !again || err != nil {
				return err
			}
			if attempt == 3 {
				return ErrConflict
			}
		}
	})
	return p, err
}

// authenticate is one attempt; again says the session changed between its
// read and its refresh.
func (v *Vault) authenticate(ctx context.Context, ks *keyring, key string) (p *Principal, again bool, err error) {
	var s sessionRecord
	var u userSummary
	var found bool
	var raw []byte
	err = v.store.View(ctx, func(tx Tx) (err error) {
		if s, found, err = getSession(tx, ks, key); err != nil || !found {
			return err
		}
		raw = tx.Get(bucketSessions, []byte(key))
		u, found, err = getUserSummary(tx, ks, s.UserID)
		return err
	})
	if err != nil || !found {
		return nil, false, firstErr(err, ErrUnauthenticated)
	}
	now := v.now()
	if u.Disabled || u.expired(now) || now.Sub(s.LastSeen) > v.idle || now.Sub(s.Created) > v.maxAge {
		_ = v.write(ctx, func(tx Tx) error {
			if !tx.Expect(bucketSessions, []byte(key), raw) {
				return nil
			}
			return tx.Delete(bucketSessions, []byte(key))
		})
		return nil, false, ErrUnauthenticated
	}
	if now.Sub(s.LastSeen) > time.Minute {
		v.pause("authenticate.refresh")
		s.LastSeen = now
		err := v.write(ctx, func(tx Tx) error {
			if again = !tx.Expect(bucketSessions, []byte(key), raw); again {
				return nil
			}
			return ks.Put(tx, bucketSessions, key, &s)
		})
		if err != nil || again {
			return nil, again, err
		}
	}
	pr := access.NewPrincipal(u.ID, u.Name, u.Role, key)
	pr.MustChange, pr.ReauthAt = s.MustChange, s.ReauthAt
	return pr, false, nil
}

// Logout ends the caller's session.
func (v *Vault) Logout(ctx context.Context, req Request, p *Principal) error {
	return v.write(ctx, func(tx Tx) error {
		if err := tx.Delete(bucketSessions, []byte(p.Session())); err != nil {
			return err
		}
		return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.AuthLogout,
			target: audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}})
	})
}

// ChangePassword replaces the caller's password after checking the old one.
// Every other session of the account ends. The write happens only if the
// password checked is still the account's and the caller's session still
// exists; otherwise the check runs again on what is stored now.
func (v *Vault) ChangePassword(ctx context.Context, req Request, p *Principal, old, pw []byte) error {
	return v.withKeys(func(ks *keyring) error {
		for attempt := 0; ; attempt++ {
			again, err := v.changePassword(ctx, req, ks, p, old, pw)
			if !again || err != nil {
				return err
			}
			if attempt == 3 {
				return ErrConflict
			}
		}
	})
}

func (v *Vault) changePassword(ctx context.Context, req Request, ks *keyring, p *Principal, old, pw []byte) (again bool, err error) {
	target := audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}
	var u userRecord
	if err := v.store.View(ctx, func(tx Tx) error {
		ok, err := ks.Get(tx, bucketUsers, p.UserID, &u)
		if err == nil && (!ok || tx.Peek(bucketSessions, []byte(p.Session())) == nil) {
			err = ErrUnauthenticated
		}
		return err
	}); err != nil {
		return false, err
	}
	if !passwords.Verify(u.PasswordHash, old) {
		return false, v.recordThen(ctx, req, event{actor: actorOf(p), action: audit.UserPassword, target: target,
			outcome: audit.OutcomeDenied, reason: "wrong current password"}, ErrBadLogin)
	}
	if err := passwords.CheckNew(u.Name, old, pw); err != nil {
		return false, err
	}
	hash := passwords.Hash(v.pwKDF, pw)
	v.pause("password.change")
	err = v.write(ctx, func(tx Tx) error {
		var cur userRecord
		var s sessionRecord
		okU, err := ks.Get(tx, bucketUsers, p.UserID, &cur)
		if err != nil {
			return err
		}
		okS, err := ks.Get(tx, bucketSessions, p.Session(), &s)
		if err != nil {
			return err
		}
		if again = !okU || !okS || subtle.ConstantTimeCompare([]byte(cur.PasswordHash), []byte(u.PasswordHash)) != 1; again {
			return nil
		}
		cur.PasswordHash, cur.MustChange = hash, false
		if err := ks.Put(tx, bucketUsers, cur.ID, &cur); err != nil {
			return err
		}
		if err := endSessions(tx, ks, cur.ID, p.Session()); err != nil {
			return err
		}
		s.MustChange = false
		if err := ks.Put(tx, bucketSessions, p.Session(), &s); err != nil {
			return err
		}
		return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.UserPassword, target: target})
	})
	return again, err
}

// endSessions deletes every session of userID except keep.
func endSessions(tx Tx, ks *keyring, userID, keep string) error {
	var doomed [][]byte
	err := tx.Scan(bucketSessions, nil, func(k, val []byte) (bool, error) {
		var s sessionRecord
		if err := ks.Decode(bucketSessions+"/"+string(k), val, &s); err != nil {
			return false, err
		}
		if s.UserID == userID && string(k) != keep {
			doomed = append(doomed, k)
		}
		return true, nil
	})
	for _, k := range doomed {
		if err == nil {
			err = tx.Delete(bucketSessions, k)
		}
	}
	return err
}
