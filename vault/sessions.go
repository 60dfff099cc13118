package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"strongroom/audit"
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
		verifyPassword(hashPassword(v.pwKDF, []byte("x")), in.Password) // same cost as a real check
		return "", nil, v.recordThen(ctx, req, event{actor: anon, action: "auth.login", target: target,
			outcome: audit.OutcomeDenied, reason: "unknown account"}, ErrBadLogin)
	}
	target.ID, anon.ID = u.ID, u.ID
	if u.LockedUntil.After(now) {
		return "", nil, v.recordThen(ctx, req, event{actor: anon, action: "auth.login", target: target,
			outcome: audit.OutcomeDenied, reason: "account locked"}, &LockedError{Until: u.LockedUntil})
	}
	pwOK := verifyPassword(u.PasswordHash, in.Password)
	step := matchTOTP(u.TOTPSecret, in.TOTP, now)
	// A recovery code or a provider's exemption stands in for the TOTP step;
	// both are checked again against the record inside the transaction.
	secondOK := step >= 0 || in.RecoveryCode != "" || (u.MFAExempt && in.TOTP == "")
	var newHash string
	if pwOK && secondOK && in.NewPassword != nil {
		if err := checkNewPassword(u.Name, in.Password, in.NewPassword); err != nil {
			return "", nil, err
		}
		newHash = hashPassword(v.pwKDF, in.NewPassword)
	}

	token := newToken()
	var principal *Principal
	var result error
	err := v.write(ctx, func(tx Tx) error {
		var cur userRecord
		if ok, err := ks.getRecord(tx, bucketUsers, u.ID, &cur); err != nil || !ok {
			return errors.Join(err, ErrBadLogin)
		}
		reason, how := "", ""
		switch {
		case !pwOK:
			reason = "wrong password"
		case in.RecoveryCode != "":
			if !cur.useRecoveryCode(in.RecoveryCode) {
				reason = "wrong or used recovery code"
			} else {
				how, step = fmt.Sprintf("recovery code used (%d left)", len(cur.RecoveryCodes)), cur.LastTOTPStep
			}
		case cur.MFAExempt && cur.Role == RoleMember && in.TOTP == "":
			how, step = "MFA-exempt member", cur.LastTOTPStep
		case step < 0:
			reason = "wrong TOTP code"
		case step <= cur.LastTOTPStep:
			reason = "TOTP code already used"
		}
		// The account's state is checked whatever the second factor was.
		switch {
		case reason != "":
		case cur.Disabled:
			reason = "account disabled"
		case cur.expired(now):
			reason = "account ended " + cur.Expires.Format(time.RFC3339)
		}
		if reason != "" {
			cur.FailedLogins++
			result = ErrBadLogin
			if d := lockFor(cur.FailedLogins); d > 0 {
				cur.LockedUntil = now.Add(d)
				reason += "; account locked for " + d.String()
			}
			if err := ks.putRecord(tx, bucketUsers, cur.ID, &cur); err != nil {
				return err
			}
			return v.appendAudit(tx, req, event{actor: anon, action: "auth.login", target: target,
				outcome: audit.OutcomeDenied, reason: reason})
		}
		result = nil
		cur.FailedLogins, cur.LockedUntil, cur.LastTOTPStep = 0, time.Time{}, step
		actor := audit.Actor{ID: cur.ID, Name: cur.Name, Role: string(cur.Role)}
		if newHash != "" {
			cur.PasswordHash, cur.MustChange = newHash, false
			if err := v.appendAudit(tx, req, event{actor: actor, action: "user.password", target: target,
				reason: "changed at login"}); err != nil {
				return err
			}
		}
		if err := ks.putRecord(tx, bucketUsers, cur.ID, &cur); err != nil {
			return err
		}
		key := sessionKey(token)
		if err := ks.putRecord(tx, bucketSessions, key, &sessionRecord{UserID: cur.ID, Created: now,
			LastSeen: now, MustChange: cur.MustChange}); err != nil {
			return err
		}
		principal = &Principal{UserID: cur.ID, Name: cur.Name, Role: cur.Role, MustChange: cur.MustChange, sessionKey: key}
		reason = how
		if cur.MustChange {
			reason = strings.TrimPrefix(how+"; password change required", "; ")
		}
		return v.appendAudit(tx, req, event{actor: actor, action: "auth.login", target: target, reason: reason})
	})
	if err != nil {
		return "", nil, err
	}
	if result != nil {
		return "", nil, result
	}
	return token, principal, nil
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
func (v *Vault) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return nil, ErrUnauthenticated
	}
	var p *Principal
	err := v.withKeys(func(ks *keyring) error {
		key := sessionKey(token)
		var s sessionRecord
		var u userSummary
		var found bool
		err := v.store.View(ctx, func(tx Tx) (err error) {
			if s, found, err = getSession(tx, ks, key); err != nil || !found {
				return err
			}
			u, found, err = getUserSummary(tx, ks, s.UserID)
			return err
		})
		if err != nil {
			return err
		}
		now := v.now()
		if !found {
			return ErrUnauthenticated
		}
		if u.Disabled || u.expired(now) || now.Sub(s.LastSeen) > v.idle || now.Sub(s.Created) > v.maxAge {
			_ = v.write(ctx, func(tx Tx) error { return tx.Delete(bucketSessions, []byte(key)) })
			return ErrUnauthenticated
		}
		if now.Sub(s.LastSeen) > time.Minute {
			s.LastSeen = now
			if err := v.write(ctx, func(tx Tx) error { return ks.putRecord(tx, bucketSessions, key, &s) }); err != nil {
				return err
			}
		}
		p = &Principal{UserID: u.ID, Name: u.Name, Role: u.Role, MustChange: s.MustChange, ReauthAt: s.ReauthAt, sessionKey: key}
		return nil
	})
	return p, err
}

// Logout ends the caller's session.
func (v *Vault) Logout(ctx context.Context, req Request, p *Principal) error {
	return v.write(ctx, func(tx Tx) error {
		if err := tx.Delete(bucketSessions, []byte(p.sessionKey)); err != nil {
			return err
		}
		return v.appendAudit(tx, req, event{actor: actorOf(p), action: "auth.logout",
			target: audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}})
	})
}

// ChangePassword replaces the caller's password after checking the old one.
// Every other session of the account ends.
func (v *Vault) ChangePassword(ctx context.Context, req Request, p *Principal, old, pw []byte) error {
	target := audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}
	return v.withKeys(func(ks *keyring) error {
		var u userRecord
		if err := v.store.View(ctx, func(tx Tx) error {
			_, err := ks.getRecord(tx, bucketUsers, p.UserID, &u)
			return err
		}); err != nil {
			return err
		}
		if !verifyPassword(u.PasswordHash, old) {
			return v.recordThen(ctx, req, event{actor: actorOf(p), action: "user.password", target: target,
				outcome: audit.OutcomeDenied, reason: "wrong current password"}, ErrBadLogin)
		}
		if err := checkNewPassword(u.Name, old, pw); err != nil {
			return err
		}
		hash := hashPassword(v.pwKDF, pw)
		return v.write(ctx, func(tx Tx) error {
			var cur userRecord
			if _, err := ks.getRecord(tx, bucketUsers, p.UserID, &cur); err != nil {
				return err
			}
			cur.PasswordHash, cur.MustChange = hash, false
			if err := ks.putRecord(tx, bucketUsers, cur.ID, &cur); err != nil {
				return err
			}
			if err := endSessions(tx, ks, cur.ID, p.sessionKey); err != nil {
				return err
			}
			var s sessionRecord
			if ok, err := ks.getRecord(tx, bucketSessions, p.sessionKey, &s); err != nil {
				return err
			} else if ok {
				s.MustChange = false
				if err := ks.putRecord(tx, bucketSessions, p.sessionKey, &s); err != nil {
					return err
				}
			}
			return v.appendAudit(tx, req, event{actor: actorOf(p), action: "user.password", target: target})
		})
	})
}

// endSessions deletes every session of userID except keep.
func endSessions(tx Tx, ks *keyring, userID, keep string) error {
	var doomed [][]byte
	err := tx.Scan(bucketSessions, nil, func(k, val []byte) (bool, error) {
		var s sessionRecord
		if err := ks.decodeRecord(bucketSessions+"/"+string(k), val, &s); err != nil {
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
