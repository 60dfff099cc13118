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
// transaction) and finds the TOTP step the code matches (-1 if none); or,
// for a passkey, takes its ceremony (bound to p's session, used once) and
// reads the answer.
func (a *Accounts) ReauthInputs(ctx context.Context, h *barrier.Held, p *access.Principal, ra Reauth, now time.Time) (access.ReauthCheck, error) {
	if ra.Passkey != nil {
		return access.ReauthCheck{Step: -1, Passkey: a.passkeyProof(ra.Passkey, ceremonyReauth, p.Session())}, nil
	}
	var u Record
	if err := h.View(ctx, func(tx barrier.Tx) error {
		ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &u)
		if err == nil && !ok {
			err = access.ErrUnauthenticated
		}
		return err
	}); err != nil {
		return access.ReauthCheck{Step: -1}, err
	}
	return access.ReauthCheck{PasswordOK: passwords.Verify(u.PasswordHash, ra.Password), Step: MatchTOTP(u.TOTPSecret, ra.TOTP, now)}, nil
}

// CheckReauth decides a re-authentication inside tx: the password
// (checked before the transaction, as Argon2id is slow) and a TOTP step
// later than any the account used, or one of the account's passkeys
// (passkey_login.go). For a person who must use a passkey (server
// --require-passkey) password and TOTP are refused. A failure is
// throttled with sign-ins for the same name and address (throttle.go) and
// recorded as action denied; denied is then the caller's error. On
// success the step is spent, or the passkey's counter moved on.
func (a *Accounts) CheckReauth(tx barrier.Tx, req auditlog.Request, p *access.Principal, rc access.ReauthCheck, now time.Time,
	action audit.Action, target audit.Target) (denied error, err error) {
	var cur Record
	if ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &cur); err != nil || !ok {
		return nil, errors.Join(err, access.ErrUnauthenticated)
	}
	key := ThrottleKey(p.Name, req.IP)
	pf, _ := rc.Passkey.(*passkeyProof)
	reason := ""
	switch until := a.throttle.until(key, now); {
	case !until.IsZero():
		reason, denied = "re-authentication throttled: "+throttledReason(until), &access.LockedError{Until: until}
	case pf != nil && pf.problem != "":
		reason, denied = "re-authentication: "+pf.why, passkeyErr(pf.problem)
	case pf != nil:
		i, cred, refusal, incident := pf.check(&cur)
		if refusal != "" {
			pf.incident, pf.reason, reason = incident, refusal, "re-authentication: "+refusal
			break
		}
		pf.used = cur.use(i, cred, now)
	case a.mustUsePasskey(&cur, LoginRequest{}):
		reason = "re-authentication: TOTP not accepted; a passkey is required for the " + string(cur.Role) + " role"
		denied = passkeyErr(access.PasskeyReauthRequired)
	case !rc.PasswordOK:
		reason = "re-authentication: wrong password"
	case rc.Step < 0:
		reason = "re-authentication: wrong TOTP code"
	case rc.Step <= cur.LastTOTPStep:
		reason = "re-authentication: TOTP code already used"
	}
	if reason == "" {
		tx.OnCommit(func() { a.throttle.succeed(key) }) // once on record
		if pf == nil {
			cur.LastTOTPStep = rc.Step
		}
		return nil, tx.PutRecord(storage.BucketUsers, cur.ID, &cur)
	}
	if denied == nil {
		denied = access.ErrReauth
		if until := a.throttle.fail(key, req.Attempt, now); !until.IsZero() {
			reason += "; " + throttledReason(until)
		}
		if pf == nil && !rc.PasswordOK && rc.Step > cur.LastTOTPStep {
			// A code that reached the check is spent, whatever the password.
			cur.LastTOTPStep = rc.Step
			if err := tx.PutRecord(storage.BucketUsers, cur.ID, &cur); err != nil {
				return nil, err
			}
		}
	}
	if err := a.passkeyIncident(tx, req, pf, auditlog.ActorOf(p), target); err != nil {
		return nil, err
	}
	return denied, a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target,
		Outcome: audit.OutcomeDenied, Reason: reason})
}

// ReauthWindow is how long a re-authentication lets a session read admin
// secrets without asking again (access.Reauthed).
const ReauthWindow = access.ReauthWindow

// Reauthenticate checks the caller's password and a fresh TOTP code, or a
// passkey (ra.Passkey), again and marks the session (Principal.ReauthAt),
// recorded as auth.reauth.
func (a *Accounts) Reauthenticate(ctx context.Context, req auditlog.Request, p *access.Principal, ra Reauth) error {
	defer barrier.Wipe(ra.Password)
	var result error
	now := a.now()
	err := a.keys.Hold(func(h *barrier.Held) error {
		rc, err := a.ReauthInputs(ctx, h, p, ra, now)
		if err != nil {
			return err
		}
		return h.Write(ctx, func(tx barrier.Tx) error {
			target := audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}
			denied, err := a.CheckReauth(tx, req, p, rc, now, audit.AuthReauth, target)
			if result = denied; err != nil || denied != nil {
				return err
			}
			how := ""
			if pf, ok := rc.Passkey.(*passkeyProof); ok {
				how = pf.used
			}
			return a.markReauth(tx, req, p, now, how)
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
