package identity

import (
	"fmt"
	"time"

	"strongroom/vault/access"
)

// A secondFactor is one way to prove, beside the password, that the
// account's holder is signing in: today a TOTP code, a one-time recovery
// code, a provider's exemption of a member, or a passkey (passkey_login.go). This
// is the seam a new factor plugs into: add a type here and put it in
// secondFactors, before the factors it should be tried ahead of.
//
// A login asks each factor in turn whether the request offers it; the
// first that does decides, twice: precheck outside the write transaction
// (cheap, and only so that a login bound to fail does not pay for hashing
// a new password), then confirm inside it, on the account as stored, where
// a factor may use itself up (a TOTP step, a recovery code).
type secondFactor interface {
	offered(in LoginRequest, u *Record) bool
	precheck(in LoginRequest, u *Record, now time.Time) bool
	// confirm returns why the factor is refused ("" if it is not), what to
	// say of it in the login's entry, and the TOTP step to record as used.
	confirm(in LoginRequest, cur *Record, now time.Time) (refusal, how string, step int64)
}

// secondFactors in the order they are tried; totpFactor is offered always
// and so comes last.
var secondFactors = []secondFactor{passkeyFactor{}, recoveryCodeFactor{}, exemptFactor{}, totpFactor{}}

// factorFor is the factor the request offers.
func factorFor(in LoginRequest, u *Record) secondFactor {
	for _, f := range secondFactors {
		if f.offered(in, u) {
			return f
		}
	}
	return totpFactor{}
}

// totpFactor: a 6-digit RFC 6238 code of the account's seed, at most one
// step away, never a step already used.
type totpFactor struct{}

func (totpFactor) offered(LoginRequest, *Record) bool { return true }

func (totpFactor) precheck(in LoginRequest, u *Record, now time.Time) bool {
	return MatchTOTP(u.TOTPSecret, in.TOTP, now) >= 0
}

func (totpFactor) confirm(in LoginRequest, cur *Record, now time.Time) (string, string, int64) {
	step := MatchTOTP(cur.TOTPSecret, in.TOTP, now)
	switch {
	case step < 0:
		return "wrong TOTP code", "", 0
	case step <= cur.LastTOTPStep:
		return "TOTP code already used", "", 0
	}
	return "", "", step
}

// recoveryCodeFactor: one of the account's one-time recovery codes, used
// up by the login.
type recoveryCodeFactor struct{}

func (recoveryCodeFactor) offered(in LoginRequest, _ *Record) bool { return in.RecoveryCode != "" }

func (recoveryCodeFactor) precheck(LoginRequest, *Record, time.Time) bool { return true }

func (recoveryCodeFactor) confirm(in LoginRequest, cur *Record, _ time.Time) (string, string, int64) {
	if !cur.useRecoveryCode(in.RecoveryCode) {
		return "wrong or used recovery code", "", 0
	}
	return "", fmt.Sprintf("recovery code used (%d left)", len(cur.RecoveryCodes)), cur.LastTOTPStep
}

// exemptFactor: a member a provider exempted from MFA, signing in with no
// code. Only members may be exempt; the role is checked on the stored
// account.
type exemptFactor struct{}

func (exemptFactor) offered(in LoginRequest, u *Record) bool { return u.MFAExempt && in.TOTP == "" }

func (exemptFactor) precheck(LoginRequest, *Record, time.Time) bool { return true }

func (exemptFactor) confirm(_ LoginRequest, cur *Record, _ time.Time) (string, string, int64) {
	if !cur.MFAExempt || cur.Role != access.RoleMember {
		return "wrong TOTP code", "", 0
	}
	return "", "MFA-exempt member", cur.LastTOTPStep
}
