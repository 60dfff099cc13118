package vault

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"sort"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"strongroom/audit"
	"strongroom/vault/passwords"
)

// userRecord is stored sealed at users/<id>.
type userRecord struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash"`
	TOTPSecret   string    `json:"totp_secret"`
	LastTOTPStep int64     `json:"last_totp_step"`
	MustChange   bool      `json:"must_change"`
	Disabled     bool      `json:"disabled"`
	FailedLogins int       `json:"failed_logins"`
	LockedUntil  time.Time `json:"locked_until"`
	Created      time.Time `json:"created"`
	// Expires ends a contractor's or third party's access: no login, no
	// session and no grant after it. Zero: no end date.
	Expires time.Time `json:"expires,omitempty"`
	// RecoveryCodes are hex SHA-256 hashes of unused one-time codes.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
	// MFAExempt: a member a provider exempted from TOTP.
	MFAExempt bool `json:"mfa_exempt,omitempty"`
}

func (u *userRecord) expired(now time.Time) bool {
	return !u.Expires.IsZero() && !now.Before(u.Expires)
}

// User is what callers see of an account.
type User struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Disabled   bool      `json:"disabled"`
	MustChange bool      `json:"must_change_password"`
	Locked     bool      `json:"locked"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires,omitempty"`
}

type preparedUser struct {
	rec   *userRecord
	login OneTimeLogin
}

// prepareUser does the slow work (hashing, key generation) outside any
// transaction.
func (v *Vault) prepareUser(name string, role Role) (*preparedUser, error) {
	if err := checkName("user", name); err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Strongroom", AccountName: name, Rand: rand.Reader})
	if err != nil {
		return nil, err
	}
	pw := passwords.OneTime()
	rec := &userRecord{ID: newID(), Name: name, Role: role, PasswordHash: passwords.Hash(v.pwKDF, []byte(pw)),
		TOTPSecret: key.Secret(), MustChange: true, Created: v.now()}
	return &preparedUser{rec: rec, login: OneTimeLogin{Name: name, Password: pw, TOTPURI: key.URL()}}, nil
}

func (v *Vault) insertUser(tx Tx, ks *keyring, req Request, by audit.Actor, rec *userRecord) error {
	if existing, err := findUser(tx, ks, rec.Name); err != nil {
		return err
	} else if existing != nil {
		return &ExistsError{Kind: "user", Name: rec.Name}
	}
	if err := ks.Put(tx, bucketUsers, rec.ID, rec); err != nil {
		return err
	}
	reason := "role " + string(rec.Role)
	if !rec.Expires.IsZero() {
		reason += "; access ends " + rec.Expires.Format(time.RFC3339)
	}
	return v.appendAudit(tx, req, event{actor: by, action: audit.UserCreate,
		target: audit.Target{Kind: "user", ID: rec.ID, Name: rec.Name}, reason: reason})
}

func quote(s string) string { return "\"" + s + "\"" }

// findUser looks an account up by name, ignoring case; nil if absent.
func findUser(tx Tx, ks *keyring, name string) (*userRecord, error) {
	var found *userRecord
	err := tx.Scan(bucketUsers, nil, func(k, val []byte) (bool, error) {
		var u userRecord
		if err := ks.Decode(bucketUsers+"/"+string(k), val, &u); err != nil {
			return false, err
		}
		if strings.EqualFold(u.Name, name) {
			found = &u
			return false, nil
		}
		return true, nil
	})
	return found, err
}

func allUsers(tx Tx, ks *keyring) ([]*userRecord, error) {
	var out []*userRecord
	err := tx.Scan(bucketUsers, nil, func(k, val []byte) (bool, error) {
		var u userRecord
		if err := ks.Decode(bucketUsers+"/"+string(k), val, &u); err != nil {
			return false, err
		}
		out = append(out, &u)
		return true, nil
	})
	return out, err
}

// CreateUser adds an account with a one-time password that must be changed
// at first login. Only a provider may.
// expires, if not zero, is the account's end date (contractors, third
// parties).
func (v *Vault) CreateUser(ctx context.Context, req Request, p *Principal, name string, role Role, expires time.Time) (OneTimeLogin, error) {
	target := audit.Target{Kind: "user", Name: name}
	if p.Role != RoleProvider {
		return OneTimeLogin{}, v.deny(ctx, req, p, audit.UserCreate, target, "only a provider manages accounts")
	}
	if !expires.IsZero() && !expires.After(v.now()) {
		return OneTimeLogin{}, invalidField("expires", "the account's end date must be in the future")
	}
	pu, err := v.prepareUser(name, role)
	if err != nil {
		return OneTimeLogin{}, err
	}
	pu.rec.Expires = expires.UTC()
	err = v.withKeys(func(ks *keyring) error {
		return v.write(ctx, func(tx Tx) error {
			if err := checkRoutine(tx); err != nil {
				return err
			}
			return v.insertUser(tx, ks, req, actorOf(p), pu.rec)
		})
	})
	if err != nil {
		return OneTimeLogin{}, err
	}
	return pu.login, nil
}

// ListUsers lists accounts for a provider or auditor.
func (v *Vault) ListUsers(ctx context.Context, req Request, p *Principal) ([]User, error) {
	if p.Role != RoleProvider && p.Role != RoleAuditor {
		return nil, v.deny(ctx, req, p, audit.UserList, audit.Target{Kind: "user"}, "role may not list accounts")
	}
	var out []User
	err := v.withKeys(func(ks *keyring) error {
		return v.store.View(ctx, func(tx Tx) error {
			recs, err := allUsers(tx, ks)
			for _, u := range recs {
				out = append(out, User{ID: u.ID, Name: u.Name, Role: u.Role, Disabled: u.Disabled || u.expired(v.now()),
					MustChange: u.MustChange, Locked: u.LockedUntil.After(v.now()), Created: u.Created, Expires: u.Expires})
			}
			return err
		})
	})
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, err
}

// DisableUser stops an account logging in and ends its sessions. The last
// active provider cannot be disabled.
func (v *Vault) DisableUser(ctx context.Context, req Request, p *Principal, name string) error {
	target := audit.Target{Kind: "user", Name: name}
	if p.Role != RoleProvider {
		return v.deny(ctx, req, p, audit.UserDisable, target, "only a provider manages accounts")
	}
	return v.withKeys(func(ks *keyring) error {
		return v.write(ctx, func(tx Tx) error {
			if err := checkRoutine(tx); err != nil {
				return err
			}
			u, err := userToDisable(tx, ks, name)
			if err != nil {
				return err
			}
			u.Disabled = true
			if err := ks.Put(tx, bucketUsers, u.ID, u); err != nil {
				return err
			}
			if err := endSessions(tx, ks, u.ID, ""); err != nil {
				return err
			}
			return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.UserDisable,
				target: audit.Target{Kind: "user", ID: u.ID, Name: u.Name}})
		})
	})
}

// userToDisable finds an account that may be disabled: the last active
// provider may not, or nobody could manage the vault.
func userToDisable(tx Tx, ks *keyring, name string) (*userRecord, error) {
	users, err := allUsers(tx, ks)
	if err != nil {
		return nil, err
	}
	var u *userRecord
	providers := 0
	for _, x := range users {
		if strings.EqualFold(x.Name, name) {
			u = x
		}
		if x.Role == RoleProvider && !x.Disabled {
			providers++
		}
	}
	if u == nil {
		return nil, notFound("user", name)
	}
	if u.Role == RoleProvider && !u.Disabled && providers == 1 {
		return nil, invalid("%q is the last active provider; add another provider first", u.Name)
	}
	return u, nil
}

// TOTP parameters: RFC 6238 defaults, which every authenticator app uses.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// matchTOTP returns the time step a code is valid for (now ±1 step), or -1.
func matchTOTP(secret, code string, now time.Time) int64 {
	if len(code) != 6 {
		return -1
	}
	step := now.Unix() / 30
	match := int64(-1)
	for s := step - 1; s <= step+1; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*30, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			match = s
		}
	}
	return match
}
