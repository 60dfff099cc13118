package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pquerna/otp/totp"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// Account MFA: TOTP at every login; one-time recovery codes for
// a lost device; a reset by a provider; members may be exempted by a
// provider. Every change is recorded.

const recoveryCodeCount = 10

// newRecoveryCode is 10 Crockford base32 characters (50 bits) as xxxxx-xxxxx.
func newRecoveryCode() string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b[:5]) + "-" + string(b[5:])
}

func hashRecoveryCode(code string) string {
	c := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	sum := sha256.Sum256([]byte("strongroom-recovery-code\x00" + c))
	return hex.EncodeToString(sum[:])
}

// useRecoveryCode removes a matching code from u and reports whether one matched.
func (u *Record) useRecoveryCode(code string) bool {
	if code == "" {
		return false
	}
	h := hashRecoveryCode(code)
	for i, stored := range u.RecoveryCodes {
		if subtle.ConstantTimeCompare([]byte(stored), []byte(h)) == 1 {
			u.RecoveryCodes = append(u.RecoveryCodes[:i:i], u.RecoveryCodes[i+1:]...)
			return true
		}
	}
	return false
}

// NewRecoveryCodes replaces the caller's recovery codes with ten new ones,
// returned once.
func (a *Accounts) NewRecoveryCodes(ctx context.Context, req auditlog.Request, p *access.Principal) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = hashRecoveryCode(codes[i])
	}
	err := a.updateUser(ctx, req, p, p.UserID, audit.UserRecoveryCodes, func(u *Record) (string, error) {
		u.RecoveryCodes = hashes
		return fmt.Sprintf("%d new one-time recovery codes (earlier ones void)", recoveryCodeCount), nil
	})
	return codes, err
}

// ResetMFA gives an account a new TOTP seed (returned once as an otpauth
// URI), voids its recovery codes and ends its sessions. Provider only.
func (a *Accounts) ResetMFA(ctx context.Context, req auditlog.Request, p *access.Principal, name string) (string, error) {
	if p.Role != access.RoleProvider {
		return "", a.log.Deny(ctx, req, p, audit.UserResetMFA, audit.Target{Kind: "user", Name: name}, "only a provider resets MFA")
	}
	var uri string
	err := a.updateUserByName(ctx, req, p, name, audit.UserResetMFA, func(u *Record) (string, error) {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "Strongroom", AccountName: u.Name, Rand: rand.Reader})
		if err != nil {
			return "", err
		}
		removed := len(u.Passkeys)
		u.TOTPSecret, u.LastTOTPStep, u.RecoveryCodes, u.Passkeys, uri = key.Secret(), 0, nil, nil, key.URL()
		return fmt.Sprintf("new TOTP seed issued; recovery codes voided; %d passkeys removed; sessions ended", removed), nil
	})
	return uri, err
}

// SetMFAExempt exempts a member from TOTP at login, or ends the exemption.
// Only a provider may, and only for members.
func (a *Accounts) SetMFAExempt(ctx context.Context, req auditlog.Request, p *access.Principal, name string, exempt bool) error {
	if p.Role != access.RoleProvider {
		return a.log.Deny(ctx, req, p, audit.UserMFAExempt, audit.Target{Kind: "user", Name: name}, "only a provider changes MFA exemptions")
	}
	return a.updateUserByName(ctx, req, p, name, audit.UserMFAExempt, func(u *Record) (string, error) {
		if exempt && u.Role != access.RoleMember {
			return "", access.Invalid("", "only members may be exempted from MFA; %s is a %s", u.Name, u.Role)
		}
		u.MFAExempt = exempt
		return map[bool]string{true: "exempted from TOTP at login", false: "TOTP required again"}[exempt], nil
	})
}

func (a *Accounts) updateUserByName(ctx context.Context, req auditlog.Request, p *access.Principal, name string, action audit.Action, fn func(*Record) (string, error)) error {
	var id string
	err := a.keys.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			u, err := Find(tx, name)
			if u == nil {
				return access.FirstErr(err, &access.NotFoundError{Kind: "user", Name: name})
			}
			id = u.ID
			return nil
		})
	})
	if err != nil {
		return err
	}
	return a.updateUser(ctx, req, p, id, action, fn)
}

// updateUser changes one account and records why, in one transaction.
// Resetting MFA also ends the account's sessions.
func (a *Accounts) updateUser(ctx context.Context, req auditlog.Request, p *access.Principal, id string, action audit.Action, fn func(*Record) (string, error)) error {
	return a.keys.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			var u Record
			if ok, err := tx.GetRecord(storage.BucketUsers, id, &u); err != nil || !ok {
				return access.FirstErr(err, &access.NotFoundError{Kind: "user", Name: id})
			}
			reason, err := fn(&u)
			if err != nil {
				return err
			}
			if err := tx.PutRecord(storage.BucketUsers, u.ID, &u); err != nil {
				return err
			}
			if action == audit.UserResetMFA {
				if err := EndSessions(tx, u.ID, ""); err != nil {
					return err
				}
			}
			return a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action,
				Target: audit.Target{Kind: "user", ID: u.ID, Name: u.Name}, Reason: reason})
		})
	})
}
