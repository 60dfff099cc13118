package identity

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
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/passwords"
	"strongroom/vault/storage"
)

// Record is stored sealed at users/<id>.
type Record struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	Role         access.Role `json:"role"`
	PasswordHash string      `json:"password_hash"`
	TOTPSecret   string      `json:"totp_secret"`
	LastTOTPStep int64       `json:"last_totp_step"`
	MustChange   bool        `json:"must_change"`
	Disabled     bool        `json:"disabled"`
	FailedLogins int         `json:"failed_logins"`
	LockedUntil  time.Time   `json:"locked_until"`
	Created      time.Time   `json:"created"`
	// Expires ends a contractor's or third party's access: no login, no
	// session and no grant after it. Zero: no end date.
	Expires time.Time `json:"expires,omitempty"`
	// RecoveryCodes are hex SHA-256 hashes of unused one-time codes.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
	// MFAExempt: a member a provider exempted from TOTP.
	MFAExempt bool `json:"mfa_exempt,omitempty"`
	// Email is where the vault's messages to this person go ("": none).
	Email string `json:"email,omitempty"`
	// PasskeyHandle is the account's WebAuthn user handle (32 random
	// bytes, set at its first passkey); Passkeys its passkeys and security
	// keys (passkey_rp.go).
	PasskeyHandle []byte    `json:"passkey_handle,omitempty"`
	Passkeys      []Passkey `json:"passkeys,omitempty"`
	// Contractor is the agreement a contractor works under (nil: not a
	// contractor; contractor.go).
	Contractor *access.Agreement `json:"contractor,omitempty"`
}

func (u *Record) Expired(now time.Time) bool {
	return !u.Expires.IsZero() && !now.Before(u.Expires)
}

// User is what callers see of an account.
type User struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Role       access.Role `json:"role"`
	Disabled   bool        `json:"disabled"`
	MustChange bool        `json:"must_change_password"`
	Locked     bool        `json:"locked"`
	Created    time.Time   `json:"created"`
	Expires    time.Time   `json:"expires,omitempty"`
	Email      string      `json:"email,omitempty"`
	// Contractor, Agreement, Scope and Completed describe a contractor's
	// agreement (contractor.go); Overdue says its end date has passed and
	// the work was not marked completed.
	Contractor bool      `json:"contractor,omitempty"`
	Agreement  string    `json:"agreement,omitempty"`
	Scope      []string  `json:"scope,omitempty"`
	Completed  time.Time `json:"completed,omitzero"`
	Overdue    bool      `json:"overdue,omitempty"`
}

type Prepared struct {
	Rec   *Record
	Login OneTimeLogin
}

// Prepare does the slow work (hashing, key generation) outside any
// transaction. The name is stored in its normal form (access.NormaliseName)
// and the role is checked by access.ParseRole, whatever the caller
// checked: an unknown or missing role is an input error on "role".
func (a *Accounts) Prepare(name string, role access.Role) (*Prepared, error) {
	name, err := access.NormaliseName("name", "user", name)
	if err != nil {
		return nil, err
	}
	if role, err = access.ParseRole(string(role)); err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Strongroom", AccountName: name, Rand: rand.Reader})
	if err != nil {
		return nil, err
	}
	pw := passwords.OneTime()
	rec := &Record{ID: access.NewID(), Name: name, Role: role, PasswordHash: passwords.Hash(a.pwKDF, []byte(pw)),
		TOTPSecret: key.Secret(), MustChange: true, Created: a.now()}
	return &Prepared{Rec: rec, Login: OneTimeLogin{Name: name, Password: pw, TOTPURI: key.URL()}}, nil
}

// Insert stores a prepared account. A name that is an existing account's
// (ignoring case and Unicode normal form) is an ExistsError naming that
// account; one drawn like it, or mixing scripts within a word, is an input
// error on "name" (access.CheckNewName).
func (a *Accounts) Insert(tx barrier.Tx, req auditlog.Request, by audit.Actor, rec *Record) error {
	users, err := All(tx)
	if err != nil {
		return err
	}
	names := func(yield func(string) bool) {
		for _, u := range users {
			if !yield(u.Name) {
				return
			}
		}
	}
	if err := access.CheckNewName("name", "user", rec.Name, names); err != nil {
		return err
	}
	if err := tx.PutRecord(storage.BucketUsers, rec.ID, rec); err != nil {
		return err
	}
	reason := "role " + string(rec.Role)
	if !rec.Expires.IsZero() {
		reason += "; access ends " + rec.Expires.Format(time.RFC3339)
	}
	if c := rec.Contractor; c != nil {
		reason += "; contractor under agreement " + c.Ref + ", scope: " + strings.Join(c.Names(), ", ")
	}
	return a.log.Append(tx, req, auditlog.Event{Actor: by, Action: audit.UserCreate,
		Target: audit.Target{Kind: "user", ID: rec.ID, Name: rec.Name}, Reason: reason})
}

// Find looks an account up by name, compared by access.NameKey (ignoring
// case and Unicode normal form); nil if absent. It reads every account
// whether or not it finds one early, so that a sign-in takes as long for
// an unknown name as for a known one.
func Find(tx barrier.Tx, name string) (*Record, error) {
	var found *Record
	key := access.NameKey(name)
	err := tx.Scan(storage.BucketUsers, nil, func(k, val []byte) (bool, error) {
		var u Record
		if err := tx.Decode(storage.BucketUsers+"/"+string(k), val, &u); err != nil {
			return false, err
		}
		if found == nil && access.NameKey(u.Name) == key {
			found = &u
		}
		return true, nil
	})
	return found, err
}

func All(tx barrier.Tx) ([]*Record, error) {
	var out []*Record
	err := tx.Scan(storage.BucketUsers, nil, func(k, val []byte) (bool, error) {
		var u Record
		if err := tx.Decode(storage.BucketUsers+"/"+string(k), val, &u); err != nil {
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
// email, if not "", is the person's e-mail address (ParseEmail).
// contract, if not nil, makes the account a contractor's (contractor.go).
func (a *Accounts) CreateUser(ctx context.Context, req auditlog.Request, p *access.Principal, name string, role access.Role, expires time.Time, email string,
	contract *Contract) (OneTimeLogin, error) {
	target := audit.Target{Kind: "user", Name: name}
	if p.Role != access.RoleProvider {
		return OneTimeLogin{}, a.log.Deny(ctx, req, p, audit.UserCreate, target, "only a provider manages accounts")
	}
	if !expires.IsZero() && !expires.After(a.now()) {
		return OneTimeLogin{}, access.Invalid("expires", "the account's end date must be in the future")
	}
	email, err := ParseEmail("email", email)
	if err != nil {
		return OneTimeLogin{}, err
	}
	ref, scope, err := checkContract(role, expires, contract)
	if err != nil {
		return OneTimeLogin{}, err
	}
	pu, err := a.Prepare(name, role)
	if err != nil {
		return OneTimeLogin{}, err
	}
	pu.Rec.Expires, pu.Rec.Email = expires.UTC(), email
	err = a.keys.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			if err := a.routine(tx); err != nil {
				return err
			}
			if contract != nil {
				ag, err := a.agreement(tx, ref, scope)
				if err != nil {
					return err
				}
				pu.Rec.Contractor = ag
			}
			return a.Insert(tx, req, auditlog.ActorOf(p), pu.Rec)
		})
	})
	if err != nil {
		return OneTimeLogin{}, err
	}
	return pu.Login, nil
}

// ListUsers lists accounts for a provider or auditor.
func (a *Accounts) ListUsers(ctx context.Context, req auditlog.Request, p *access.Principal) ([]User, error) {
	if p.Role != access.RoleProvider && p.Role != access.RoleAuditor {
		return nil, a.log.Deny(ctx, req, p, audit.UserList, audit.Target{Kind: "user"}, "role may not list accounts")
	}
	var out []User
	err := a.keys.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			recs, err := All(tx)
			for _, u := range recs {
				out = append(out, a.userOf(u))
			}
			return err
		})
	})
	sort.Slice(out, func(i, j int) bool { return access.NameKey(out[i].Name) < access.NameKey(out[j].Name) })
	return out, err
}

// DisableUser stops an account logging in and ends its sessions. The last
// active provider cannot be disabled.
func (a *Accounts) DisableUser(ctx context.Context, req auditlog.Request, p *access.Principal, name string) error {
	target := audit.Target{Kind: "user", Name: name}
	if p.Role != access.RoleProvider {
		return a.log.Deny(ctx, req, p, audit.UserDisable, target, "only a provider manages accounts")
	}
	return a.keys.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			if err := a.routine(tx); err != nil {
				return err
			}
			u, err := ToDisable(tx, name)
			if err != nil {
				return err
			}
			u.Disabled = true
			if err := tx.PutRecord(storage.BucketUsers, u.ID, u); err != nil {
				return err
			}
			if err := EndSessions(tx, u.ID, ""); err != nil {
				return err
			}
			return a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.UserDisable,
				Target: audit.Target{Kind: "user", ID: u.ID, Name: u.Name}})
		})
	})
}

// ToDisable finds an account that may be disabled: the last active
// provider may not, or nobody could manage the vault.
func ToDisable(tx barrier.Tx, name string) (*Record, error) {
	users, err := All(tx)
	if err != nil {
		return nil, err
	}
	var u *Record
	providers := 0
	key := access.NameKey(name)
	for _, x := range users {
		if access.NameKey(x.Name) == key {
			u = x
		}
		if x.Role == access.RoleProvider && !x.Disabled {
			providers++
		}
	}
	if u == nil {
		return nil, &access.NotFoundError{Kind: "user", Name: name}
	}
	if u.Role == access.RoleProvider && !u.Disabled && providers == 1 {
		return nil, access.Invalid("", "%q is the last active provider; add another provider first", u.Name)
	}
	return u, nil
}

// TOTP parameters: RFC 6238 defaults, which every authenticator app uses.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// matchTOTP returns the time step a code is valid for (now ±1 step), or -1.
func MatchTOTP(secret, code string, now time.Time) int64 {
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

// OneTimeLogin is a new account's first password and TOTP enrolment,
// shown once. It redacts itself when printed.
type OneTimeLogin struct {
	Name     string
	Password string
	TOTPURI  string
}

// String redacts the password and TOTP seed.
func (o OneTimeLogin) String() string { return "one-time login for " + o.Name + " (redacted)" }
