package identity

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/passwords"
	"strongroom/vault/storage"
)

// LockoutAfter is ThrottleAfter.
//
// Deprecated: accounts are no longer locked; failures are throttled per
// name and source address (throttle.go).
const LockoutAfter = ThrottleAfter

// dummyTOTPSecret is checked for an unknown name, as a known name's seed
// would be.
const dummyTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// LoginRequest carries the credentials of a login. NewPassword, if set,
// replaces the password in the same step (required for one-time passwords).
type LoginRequest struct {
	Name        string
	Password    []byte
	TOTP        string
	NewPassword []byte
	// RecoveryCode may stand in for TOTP once per code.
	RecoveryCode string
	// Passkey, if set, is the browser's answer to BeginPasskeyLogin's
	// ceremony, standing in for TOTP.
	Passkey *PasskeyAnswer
	passkey *passkeyProof // Passkey, taken and read (login)
	// passwordless: no password; the passkey, which verified the person,
	// stands for both (PasswordlessLogin; passkeyFactor checks it).
	passwordless bool
}

// Login checks password and TOTP and opens a session. Failures are recorded
// and throttled per name and source address (throttle.go); every failure
// looks the same to the caller, and an unknown name is answered, timed and
// throttled exactly as a known one.
func (a *Accounts) Login(ctx context.Context, req auditlog.Request, in LoginRequest) (token string, p *access.Principal, err error) {
	err = a.keys.Hold(func(h *barrier.Held) error {
		token, p, err = a.login(ctx, req, h, in)
		return err
	})
	return token, p, err
}

// loginCheck is what a login checked before its write transaction.
type loginCheck struct {
	key     string  // the throttle's key
	attempt string  // this attempt, for the throttle to count once
	u       *Record // as read; nil: no such account
	pwOK    bool
	newHash string // the new password's hash, if one was set and may be
}

func (a *Accounts) login(ctx context.Context, req auditlog.Request, h *barrier.Held, in LoginRequest) (string, *access.Principal, error) {
	c := loginCheck{key: ThrottleKey(in.Name, req.IP), attempt: a.attemptID()}
	if in.Passkey != nil {
		in.passkey = a.passkeyProof(in.Passkey, ceremonyLogin, "") // used up, whatever follows
	}
	// A refused attempt costs nothing and reads nothing: the same for a
	// known and an unknown name. A recovery code is decided all the same.
	if until := a.throttle.until(c.key, a.now()); !until.IsZero() && in.RecoveryCode == "" {
		return "", nil, a.refused(ctx, req, in.Name, c.key, until)
	}
	if err := h.View(ctx, func(tx barrier.Tx) (err error) {
		c.u, err = Find(tx, in.Name)
		return err
	}); err != nil {
		return "", nil, err
	}
	if err := a.precheck(&c, in); err != nil {
		return "", nil, err
	}
	token := newToken()
	var principal *access.Principal
	a.pause("login.decide")
	err := h.Write(ctx, func(tx barrier.Tx) (err error) {
		principal, err = a.decide(tx, req, in, &c, token)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, principal, nil
}

// precheck checks the password (Argon2id, slow: outside any write
// transaction), for an unknown name against a dummy hash so that it costs
// the same, and hashes a new password only for a login that may succeed.
func (a *Accounts) precheck(c *loginCheck, in LoginRequest) error {
	now := a.now()
	if c.u == nil {
		passwords.Verify(a.dummyHash(), in.Password)
		MatchTOTP(dummyTOTPSecret, in.TOTP, now)
		return nil
	}
	c.pwOK = in.passwordless || passwords.Verify(c.u.PasswordHash, in.Password)
	// The second factor is checked again on the stored record inside the
	// transaction (factors.go); this precheck only spares a login bound to
	// fail the cost of hashing a new password.
	secondOK := factorFor(in, c.u).precheck(in, c.u, now)
	if c.pwOK && secondOK && in.NewPassword != nil {
		if err := passwords.CheckNew(c.u.Name, in.Password, in.NewPassword); err != nil {
			return err
		}
		c.newHash = passwords.Hash(a.pwKDF, in.NewPassword)
	}
	return nil
}

// decide decides a login in its write transaction, on the account as
// stored. Attempts are decided here one at a time, so the throttle is
// asked again here: an attempt let in before its key was refused is
// refused now, and concurrent guesses learn no more answers than
// ThrottleAfter. The throttle counts in memory what was attempted, not
// what is stored, so it is told here, not after the commit; a write run
// again by a group commit counts its attempt once (c.attempt).
func (a *Accounts) decide(tx barrier.Tx, req auditlog.Request, in LoginRequest, c *loginCheck, token string) (*access.Principal, error) {
	now := a.now()
	target := audit.Target{Kind: "user", Name: in.Name}
	anon := audit.Actor{Name: in.Name, Role: "anonymous"}
	if c.u != nil {
		target.ID, anon.ID = c.u.ID, c.u.ID
	}
	deny := func(reason string, answer error) error {
		if err := a.log.Append(tx, req, auditlog.Event{Actor: anon, Action: audit.AuthLogin, Target: target,
			Outcome: audit.OutcomeDenied, Reason: reason}); err != nil {
			return err
		}
		return access.Recorded(answer)
	}
	refusedUntil := a.throttle.until(c.key, now)
	if !refusedUntil.IsZero() && in.RecoveryCode == "" {
		return nil, deny(throttledReason(refusedUntil), &access.LockedError{Until: refusedUntil})
	}
	failed := func(reason string) error {
		answer := access.ErrBadLogin
		if until := a.throttle.fail(c.key, c.attempt, now); !until.IsZero() {
			reason += "; " + throttledReason(until)
			if !refusedUntil.IsZero() {
				answer = &access.LockedError{Until: until} // as any refused attempt
			}
		}
		if n := a.throttle.takeRefused(c.key); n > 0 {
			reason += fmt.Sprintf(" (%d attempts refused since the last such entry)", n)
		}
		return deny(reason, answer)
	}
	if pf := in.passkey; pf != nil && pf.problem != "" {
		// Refused before any account was read: an expired ceremony, an
		// unreadable answer, another web address. Said plainly, and the
		// same for every name.
		return nil, deny(pf.why, passkeyErr(pf.problem))
	}
	if c.u == nil {
		return nil, failed("unknown account")
	}
	var cur Record
	if ok, err := tx.GetRecord(storage.BucketUsers, c.u.ID, &cur); err != nil {
		return nil, err
	} else if !ok {
		return nil, failed("unknown account")
	}
	// The guards: what was checked outside this transaction (the password
	// hash and the TOTP secret) is checked again here, so a guess in
	// flight when the password or MFA is reset is refused and not counted.
	if cur.PasswordHash != c.u.PasswordHash || cur.TOTPSecret != c.u.TOTPSecret {
		return nil, deny("the account changed during the attempt", access.ErrBadLogin)
	}
	reason, how, step := loginDecision(&cur, in, c.pwOK, now)
	if reason != "" {
		// A code that reached the check is spent whatever else was wrong:
		// sent with a wrong password, it must not work with the right one.
		if spent := spentStep(&cur, in, now); spent > cur.LastTOTPStep {
			cur.LastTOTPStep = spent
			if err := tx.PutRecord(storage.BucketUsers, cur.ID, &cur); err != nil {
				return nil, err
			}
		}
		if err := a.passkeyIncident(tx, req, in.passkey, anon, target); err != nil {
			return nil, err
		}
		return nil, failed(reason)
	}
	if a.mustUsePasskey(&cur, in) {
		// Refused after the password and code verified, so the answer
		// tells whoever sent them that they were right: the code is spent
		// and the attempt counted, so a phished pair is no use again and
		// cannot be tried at leisure.
		if step > cur.LastTOTPStep {
			cur.LastTOTPStep = step
			if err := tx.PutRecord(storage.BucketUsers, cur.ID, &cur); err != nil {
				return nil, err
			}
		}
		reason := "TOTP not accepted: a passkey is required for the " + string(cur.Role) + " role"
		if until := a.throttle.fail(c.key, c.attempt, now); !until.IsZero() {
			reason += "; " + throttledReason(until)
		}
		return nil, deny(reason, passkeyErr(access.PasskeyRequired))
	}
	key := c.key
	tx.OnCommit(func() { a.throttle.succeed(key) }) // password and second factor proven, once on record
	var passkey []byte
	if in.passkey != nil {
		passkey = bytes.Clone(in.passkey.parsed.RawID)
	}
	return a.openSession(tx, req, &cur, token, c.newHash, step, how, passkey)
}

// throttledReason says, in an entry, until when a key is refused.
func throttledReason(until time.Time) string {
	return "sign-ins for this name from this address refused until " + until.UTC().Format(time.RFC3339)
}

// refused answers an attempt the throttle refused, recording at most one
// entry a minute for its key, with the count of refusals it covers.
func (a *Accounts) refused(ctx context.Context, req auditlog.Request, name, key string, until time.Time) error {
	answer := &access.LockedError{Until: until}
	due, n := a.throttle.refuse(key, a.now())
	if !due {
		return answer
	}
	reason := "throttled: " + throttledReason(until)
	if n > 1 {
		reason += fmt.Sprintf(" (%d attempts refused since the last such entry)", n)
	}
	return a.log.RecordThen(ctx, req, auditlog.Event{Actor: audit.Actor{Name: name, Role: "anonymous"}, Action: audit.AuthLogin,
		Target: audit.Target{Kind: "user", Name: name}, Outcome: audit.OutcomeDenied, Reason: reason}, answer)
}

// loginDecision decides a login on the stored account: reason is why it
// is refused ("" if not), how says which second factor stood in for TOTP,
// and step is the TOTP step to record as used.
func loginDecision(cur *Record, in LoginRequest, pwOK bool, now time.Time) (reason, how string, step int64) {
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
	case cur.Expired(now):
		reason = "account ended " + cur.Expires.Format(time.RFC3339)
	}
	return reason, how, step
}

// spentStep is the TOTP step the attempt's code matches on the stored
// account; -1 if none, or if the attempt offered another factor.
func spentStep(cur *Record, in LoginRequest, now time.Time) int64 {
	if _, ok := factorFor(in, cur).(totpFactor); !ok {
		return -1
	}
	return MatchTOTP(cur.TOTPSecret, in.TOTP, now)
}
