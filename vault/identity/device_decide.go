package identity

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// errNoDevice answers a user code that matches no request waiting for the
// caller: wrong, expired, already decided or another person's all look
// the same.
var errNoDevice = access.Invalid("code", "no command-line sign-in is waiting for you with that code: check the code, or start again on the command line")

// errDeviceApproved answers a code its approver already approved.
var errDeviceApproved = access.Invalid("code", "you already approved this sign-in: go back to the command line")

// errDeviceRefused answers a code its approver already refused.
var errDeviceRefused = access.Invalid("code", "you already refused this sign-in: the command line will not be signed in")

// alreadyDecided is the answer to a code its approver already decided.
func alreadyDecided(r *deviceRequest) error {
	if r.Status == deviceRefused {
		return errDeviceRefused
	}
	return errDeviceApproved
}

// deviceMatch finds, in tx, the request waiting for p with user code uc.
// Every stored code is compared in constant time, and the scan does not
// stop at a match. why says, for the audit entry, why none matched.
func deviceMatch(tx barrier.Tx, p *access.Principal, uc string, now time.Time) (key string, r *deviceRequest, why string, err error) {
	why = "no request has that code"
	err = scanDevices(tx, func(k string, d *deviceRequest) error {
		if subtle.ConstantTimeCompare([]byte(d.UserCode), []byte(uc)) != 1 {
			return nil
		}
		switch {
		case subtle.ConstantTimeCompare([]byte(d.Account), []byte(p.UserID)) != 1 || d.Account == "":
			why = "the code is of a sign-in as another account (" + strconv.Quote(d.Name) + ")"
		case now.After(d.Expires):
			why = "the code expired at " + d.Expires.UTC().Format(time.RFC3339)
		case d.Status != devicePending && d.DecidedBy == p.UserID:
			// p decided it already (a second click, or Back and again):
			// the caller answers as such, counting no guess.
			key, r, why = k, d, ""
		case d.Status != devicePending:
			why = "the code was already " + d.Status
		default:
			key, r, why = k, d, ""
		}
		return nil
	})
	return key, r, why, err
}

// deviceThrottleKey is the throttle's key of an approver's code guesses.
func deviceThrottleKey(p *access.Principal) string { return "device\x00" + p.UserID }

// noMatch records a user code that matched nothing and counts it against
// the approver.
func (a *Accounts) noMatch(tx barrier.Tx, req auditlog.Request, p *access.Principal, why string, now time.Time) error {
	reason := "command-line sign-in code refused: " + why
	if until := a.throttle.fail(deviceThrottleKey(p), req.Attempt, now); !until.IsZero() {
		reason += "; codes from this account refused until " + until.UTC().Format(time.RFC3339)
	}
	if err := a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.AuthDeviceApprove,
		Target: audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}, Outcome: audit.OutcomeDenied, Reason: reason}); err != nil {
		return err
	}
	return access.Recorded(errNoDevice)
}

// withDevice runs fn, in a write, on the request waiting for p with the
// user code uc. The throttle is asked again inside the write, so guesses
// sent at once learn no more answers than ThrottleAfter; a code that
// matches none is recorded and counted (noMatch).
func (a *Accounts) withDevice(ctx context.Context, req auditlog.Request, p *access.Principal, uc string, now time.Time,
	fn func(tx barrier.Tx, key string, r *deviceRequest) error) error {
	throttled := func() error {
		if until := a.throttle.until(deviceThrottleKey(p), now); !until.IsZero() {
			return &access.LockedError{Until: until}
		}
		return nil
	}
	if err := throttled(); err != nil {
		return err
	}
	return a.keys.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			if err := throttled(); err != nil {
				return err
			}
			key, r, why, err := deviceMatch(tx, p, uc, now)
			if err != nil {
				return err
			}
			if r == nil {
				return a.noMatch(tx, req, p, why, now)
			}
			return fn(tx, key, r)
		})
	})
}

// FindDevice is the request waiting for p with the user code uc, for the
// approver to compare. A code that matches none is recorded and
// throttled, as in DecideDevice.
func (a *Accounts) FindDevice(ctx context.Context, req auditlog.Request, p *access.Principal, uc string) (DeviceRequest, error) {
	uc, err := ParseUserCode(uc)
	if err != nil {
		return DeviceRequest{}, err
	}
	var out DeviceRequest
	err = a.withDevice(ctx, req, p, uc, a.now(), func(_ barrier.Tx, _ string, r *deviceRequest) error {
		if r.Status != devicePending {
			return alreadyDecided(r)
		}
		out = DeviceRequest{UserCode: ShowUserCode(r.UserCode), Name: r.Name, IP: r.IP, UserAgent: shortUA(r.UserAgent),
			Asked: r.Asked, Expires: r.Expires}
		return nil
	})
	return out, err
}

// DecideDevice approves or refuses the request waiting for p with user
// code uc, once. An approval needs a re-authentication within
// ReauthWindow (access.ErrReauth otherwise): the web's password and code
// today, a passkey once one can re-authenticate. The entry names the
// command line's address and user agent.
func (a *Accounts) DecideDevice(ctx context.Context, req auditlog.Request, p *access.Principal, uc string, approve bool) error {
	uc, err := ParseUserCode(uc)
	if err != nil {
		return err
	}
	now := a.now()
	if approve && !access.Reauthed(p, now) {
		return access.ErrReauth
	}
	return a.withDevice(ctx, req, p, uc, now, func(tx barrier.Tx, key string, r *deviceRequest) error {
		// The approving session as stored now: one ended meanwhile (a
		// logout, its passkey removed) approves nothing, and the
		// re-authentication counted is the stored one.
		var s Session
		if ok, err := tx.GetRecord(storage.BucketSessions, p.Session(), &s); err != nil || !ok || s.UserID != p.UserID {
			return access.FirstErr(err, access.ErrUnauthenticated)
		}
		if approve && !access.Reauthed(&access.Principal{ReauthAt: s.ReauthAt}, now) {
			return access.ErrReauth
		}
		switch {
		case r.Status == deviceApproved && approve, r.Status == deviceRefused && !approve:
			return nil // the same decision again: done already, nothing to record
		case r.Status == deviceRefused:
			return alreadyDecided(r) // a refusal stands
		}
		// Pending, or approved and not yet collected, and now refused: an
		// approval given by mistake can be taken back until the command
		// line collects its session.
		action, verb := audit.AuthDeviceRefuse, "refused"
		if approve {
			action, verb, r.Status, r.Passkey = audit.AuthDeviceApprove, "approved", deviceApproved, s.Passkey
		} else {
			r.Status, r.Passkey = deviceRefused, nil
		}
		r.DecidedBy = p.UserID
		if err := tx.PutRecord(storage.BucketSessions, key, r); err != nil {
			return err
		}
		return a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action,
			Target: audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}, Reason: verb + " " + deviceWhere(key, r)})
	})
}

// deviceWhere names a request in an entry: its id, when and where from.
// The user agent is the client's own words: quoted and cut short.
func deviceWhere(key string, r *deviceRequest) string {
	return fmt.Sprintf("the command-line sign-in %s asked at %s from address %s, user agent %s",
		DeviceID(key), r.Asked.UTC().Format(time.RFC3339), r.IP, strconv.QuoteToASCII(shortUA(r.UserAgent)))
}

// shortUA is a user agent cut to 200 bytes, invalid UTF-8, control and
// format characters (bidi overrides, which could make it read otherwise)
// dropped: the client's own words, shown and recorded, not trusted.
func shortUA(ua string) string {
	if len(ua) > 200 {
		ua = ua[:200]
	}
	return strings.Map(func(r rune) rune {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(ua, ""))
}

// PollDevice is the command line asking whether its request was decided.
// It answers ErrDevicePending (or ErrDeviceSlowDown, polled sooner than
// the interval allows, which grows by DeviceSlowDown), ErrDeviceDenied,
// ErrDeviceExpired or ErrDeviceUnknown; once approved, a new session of
// the approved person, exactly once: the request is removed in the
// transaction that opens the session, which writes only if the request is
// still what it read (two polls at once: one session).
func (a *Accounts) PollDevice(ctx context.Context, req auditlog.Request, code string) (string, *access.Principal, error) {
	if !ValidDeviceCode(code) {
		return "", nil, ErrDeviceUnknown
	}
	key := deviceKey(code)
	token := newToken()
	var p *access.Principal
	var answer error
	err := a.keys.Hold(func(h *barrier.Held) error {
		for attempt := 0; ; attempt++ {
			var again bool
			var err error
			p, again, answer, err = a.pollDevice(ctx, req, h, key, token)
			if !again || err != nil {
				return err
			}
			if attempt == 3 {
				return access.ErrConflict
			}
		}
	})
	if err != nil {
		return "", nil, err
	}
	if answer != nil {
		return "", nil, answer
	}
	return token, p, nil
}

func (a *Accounts) pollDevice(ctx context.Context, req auditlog.Request, h *barrier.Held, key, token string) (p *access.Principal, again bool, answer, err error) {
	var raw []byte
	var r deviceRequest
	if err := h.View(ctx, func(tx barrier.Tx) error {
		if raw = tx.Get(storage.BucketSessions, []byte(key)); raw == nil {
			return nil
		}
		return tx.Decode(storage.BucketSessions+"/"+key, raw, &r)
	}); err != nil || raw == nil {
		return nil, false, ErrDeviceUnknown, err
	}
	a.pause("device.poll")
	now := a.now()
	err = h.Write(ctx, func(tx barrier.Tx) error {
		if again = !tx.Expect(storage.BucketSessions, []byte(key), raw); again {
			return nil
		}
		p, answer, err = a.pollDecide(tx, req, key, r, token, now)
		return err
	})
	return p, again, answer, err
}

// pollDecide answers a poll of the request r, stored under key, in tx.
func (a *Accounts) pollDecide(tx barrier.Tx, req auditlog.Request, key string, r deviceRequest, token string, now time.Time) (*access.Principal, error, error) {
	target := audit.Target{Kind: "user", ID: r.Account, Name: r.Name}
	anon := audit.Actor{ID: r.Account, Name: r.Name, Role: "anonymous"}
	end := func(answer error, reason string) (*access.Principal, error, error) {
		if err := tx.Delete(storage.BucketSessions, []byte(key)); err != nil {
			return nil, nil, err
		}
		if reason == "" {
			return nil, answer, nil
		}
		return nil, answer, a.log.Append(tx, req, auditlog.Event{Actor: anon, Action: audit.AuthLogin, Target: target,
			Outcome: audit.OutcomeDenied, Reason: reason})
	}
	switch {
	case now.After(r.Expires):
		// A request left to expire is no refusal and no incident: recorded
		// as the request's end.
		if err := tx.Delete(storage.BucketSessions, []byte(key)); err != nil {
			return nil, nil, err
		}
		return nil, ErrDeviceExpired, a.log.Append(tx, req, auditlog.Event{Actor: anon, Action: audit.AuthDeviceRequest, Target: target,
			Reason: "the command-line sign-in " + DeviceID(key) + " expired at " + r.Expires.UTC().Format(time.RFC3339) + " without being used"})
	case r.Status == deviceRefused:
		return end(ErrDeviceDenied, "") // the refusal is on record
	case r.Status == devicePending:
		answer := ErrDevicePending
		if now.Before(r.NextPoll) {
			answer, r.Interval = ErrDeviceSlowDown, r.Interval+int64(DeviceSlowDown/time.Second)
		}
		r.NextPoll = now.Add(time.Duration(r.Interval) * time.Second)
		return nil, answer, tx.PutRecord(storage.BucketSessions, key, &r)
	}
	var cur Record
	ok, err := tx.GetRecord(storage.BucketUsers, r.Account, &cur)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !ok || r.Status != deviceApproved || r.DecidedBy != r.Account:
		return end(ErrDeviceDenied, "the command-line sign-in "+DeviceID(key)+" was approved for an account that no longer exists")
	case cur.Disabled:
		return end(ErrDeviceDenied, "the command-line sign-in "+DeviceID(key)+" was approved, but the account is disabled")
	case cur.Expired(now):
		return end(ErrDeviceDenied, "the command-line sign-in "+DeviceID(key)+" was approved, but the account ended "+cur.Expires.UTC().Format(time.RFC3339))
	}
	if err := tx.Delete(storage.BucketSessions, []byte(key)); err != nil {
		return nil, nil, err
	}
	p, err := a.openSession(tx, req, &cur, token, "", cur.LastTOTPStep,
		"approved in the web interface (command-line sign-in "+DeviceID(key)+")", r.Passkey)
	return p, nil, err
}
