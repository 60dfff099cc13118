package identity

import (
	"context"
	"errors"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/passwords"
	"strongroom/vault/storage"
)

// Reauth is the caller's password and a fresh TOTP code, asked again
// before an export.
type Reauth = access.Reauth

// ReauthInputs checks the password (Argon2id, slow: outside any write
// transaction) and finds the TOTP step the code matches (-1 if none).
func (a *Accounts) ReauthInputs(ctx context.Context, h *barrier.Held, p *access.Principal, ra Reauth, now time.Time) (bool, int64, error) {
	var u Record
	if err := h.View(ctx, func(tx barrier.Tx) error {
		ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &u)
		if err == nil && !ok {
			err = access.ErrUnauthenticated
		}
		return err
	}); err != nil {
		return false, -1, err
	}
	return passwords.Verify(u.PasswordHash, ra.Password), MatchTOTP(u.TOTPSecret, ra.TOTP, now), nil
}

// CheckReauth decides a re-authentication inside tx: the password (pwOK,
// checked before the transaction, as Argon2id is slow) and a TOTP step
// later than any the account used. A failure is throttled with sign-ins
// for the same name and address (throttle.go) and recorded as action
// denied; denied is then the caller's error. On success the step is
// spent.
func (a *Accounts) CheckReauth(tx barrier.Tx, req auditlog.Request, p *access.Principal, pwOK bool, step int64, now time.Time,
	action audit.Action, target audit.Target) (denied error, err error) {
	var cur Record
	if ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &cur); err != nil || !ok {
		return nil, errors.Join(err, access.ErrUnauthenticated)
	}
	key := ThrottleKey(p.Name, req.IP)
	reason := ""
	switch until := a.throttle.until(key, now); {
	case !until.IsZero():
		reason, denied = "re-authentication throttled: "+throttledReason(until), &access.LockedError{Until: until}
	case !pwOK:
		reason = "re-authentication: wrong password"
	case step < 0:
		reason = "re-authentication: wrong TOTP code"
	case step <= cur.LastTOTPStep:
		reason = "re-authentication: TOTP code already used"
	}
	if reason == "" {
		tx.OnCommit(func() { a.throttle.succeed(key) }) // once on record
		cur.LastTOTPStep = step
		return nil, tx.PutRecord(storage.BucketUsers, cur.ID, &cur)
	}
	if denied == nil {
		denied = access.ErrReauth
		if until := a.throttle.fail(key, req.ID, now); !until.IsZero() {
			reason += "; " + throttledReason(until)
		}
		if !pwOK && step > cur.LastTOTPStep {
			// A code that reached the check is spent, whatever the password.
			cur.LastTOTPStep = step
			if err := tx.PutRecord(storage.BucketUsers, cur.ID, &cur); err != nil {
				return nil, err
			}
		}
	}
	return denied, a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target,
		Outcome: audit.OutcomeDenied, Reason: reason})
}

// ReauthWindow is how long a re-authentication lets a session read admin
// secrets without asking again (access.Reauthed).
const ReauthWindow = access.ReauthWindow

// Reauthenticate checks the caller's password and a fresh TOTP code again
// and marks the session (Principal.ReauthAt), recorded as auth.reauth.
func (a *Accounts) Reauthenticate(ctx context.Context, req auditlog.Request, p *access.Principal, ra Reauth) error {
	defer barrier.Wipe(ra.Password)
	var result error
	now := a.now()
	err := a.keys.Hold(func(h *barrier.Held) error {
		pwOK, step, err := a.ReauthInputs(ctx, h, p, ra, now)
		if err != nil {
			return err
		}
		return h.Write(ctx, func(tx barrier.Tx) error {
			target := audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}
			if required, err := a.passkeyRequired(tx, req, p, target); err != nil || required != nil {
				result = required
				return err
			}
			denied, err := a.CheckReauth(tx, req, p, pwOK, step, now, audit.AuthReauth, target)
			if result = denied; err != nil || denied != nil {
				return err
			}
			return a.markReauth(tx, req, p, now, "")
		})
	})
	if err == nil && result == nil {
		p.ReauthAt = now // in memory only once the commit made it true
	}
	if err == nil {
		err = result
	}
	return err
}

// markReauth marks p's session re-authenticated at now, in tx, recorded
// as auth.reauth (reason: which factor, if not password and TOTP).
func (a *Accounts) markReauth(tx barrier.Tx, req auditlog.Request, p *access.Principal, now time.Time, reason string) error {
	var s Session
	if ok, err := tx.GetRecord(storage.BucketSessions, p.Session(), &s); err != nil || !ok {
		return errors.Join(err, access.ErrUnauthenticated)
	}
	s.ReauthAt = now
	if err := tx.PutRecord(storage.BucketSessions, p.Session(), &s); err != nil {
		return err
	}
	return a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.AuthReauth,
		Target: audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}, Reason: reason})
}

// passkeyRequired refuses, recorded, a re-authentication by password and
// TOTP for a person who must use their passkey (server --require-passkey).
func (a *Accounts) passkeyRequired(tx barrier.Tx, req auditlog.Request, p *access.Principal, target audit.Target) (error, error) {
	var cur Record
	if ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &cur); err != nil || !ok {
		return nil, errors.Join(err, access.ErrUnauthenticated)
	}
	if !a.mustUsePasskey(&cur, LoginRequest{}) {
		return nil, nil
	}
	return passkeyErr(access.PasskeyRequired), a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.AuthReauth,
		Target: target, Outcome: audit.OutcomeDenied, Reason: "re-authentication: TOTP not accepted; a passkey is required for the " + string(cur.Role) + " role"})
}
