package access

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"strongroom/audit"
	"strongroom/vault/barrier"
)

// Sentinel errors callers branch on. Their text names records and failures,
// never secret content, and is safe to show a client.
var (
	ErrNotInitialised     = errors.New("vault: not initialised")
	ErrAlreadyInitialised = errors.New("vault: already initialised")
	ErrSealed             = barrier.ErrSealed
	ErrWrongPassphrase    = errors.New("vault: wrong passphrase")
	ErrBadLogin           = errors.New("vault: wrong name, password or code")
	ErrUnauthenticated    = errors.New("vault: not logged in or session expired")
	ErrPasswordChange     = errors.New("vault: password change required before anything else")
	ErrForbidden          = errors.New("vault: not permitted")
	ErrNotFound           = errors.New("vault: not found")
	ErrExists             = errors.New("vault: already exists")
	ErrInvalid            = errors.New("vault: invalid input")
	ErrWrongVault         = errors.New("vault: share belongs to another vault")
	ErrSuperseded         = errors.New("vault: share was superseded")
	ErrShareMismatch      = errors.New("vault: share does not match its commitment")
	ErrDuplicateShare     = errors.New("vault: two copies of the same share")
	ErrShareSet           = errors.New("vault: the shares do not open this vault")
	// ErrRecoveryMode says the vault is in emergency recovery (wrapped by
	// the vault's RecoveryError).
	ErrRecoveryMode = errors.New("vault: in emergency recovery")
	// ErrReauth says a re-authentication failed.
	ErrReauth = errors.New("vault: re-authentication failed: wrong password or TOTP code")
	// ErrReauthNeeded says an admin secret needs a re-authentication
	// within ReauthWindow first; errors.Is(ErrReauthNeeded, ErrReauth).
	ErrReauthNeeded error = reauthNeeded{}
	// ErrConflict says something the request relied on changed while it
	// ran (a guard failed); nothing was written.
	ErrConflict = errors.New("vault: changed by another request meanwhile; try again")
	// ErrBusy says the vault is already doing the same long piece of work
	// (a password health report) for someone and does one at a time;
	// nothing was done or recorded.
	ErrBusy = errors.New("vault: busy")
)

// InputError says which input is wrong and why. It wraps ErrInvalid. Its
// message names the field and the rule, never the value given.
type InputError struct {
	// Field is the input's name as the API and the CLI call it ("name",
	// "totp", "kind", "assignees", "password", ...); "" when the input as a
	// whole is wrong.
	Field string
	Msg   string
}

func (e *InputError) Error() string { return "vault: invalid input: " + e.Msg }
func (e *InputError) Unwrap() error { return ErrInvalid }

// Invalid is an input error on field ("" when no one field is at fault).
func Invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundError says no record of a kind has a name. It wraps ErrNotFound.
type NotFoundError struct{ Kind, Name string }

func (e *NotFoundError) Error() string { return "vault: no " + e.Kind + " named \"" + e.Name + "\"" }
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ExistsError says a name is in use. It wraps ErrExists.
type ExistsError struct{ Kind, Name string }

func (e *ExistsError) Error() string {
	return "vault: " + e.Kind + " \"" + e.Name + "\" already exists"
}
func (e *ExistsError) Unwrap() error { return ErrExists }

// LockedError says an account is locked after repeated failures, and until when.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "vault: account locked after repeated failures until " + e.Until.UTC().Format(time.RFC3339)
}

// ForbiddenError says who was refused what. It wraps ErrForbidden.
type ForbiddenError struct {
	Action audit.Action
	Target string
}

func (e *ForbiddenError) Error() string {
	if e.Target == "" {
		return fmt.Sprintf("vault: not permitted: %s", e.Action)
	}
	return fmt.Sprintf("vault: not permitted: %s on %q (the attempt is recorded)", e.Action, e.Target)
}

func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// CheckName accepts names for people: 1-100 characters, printable, no
// leading or trailing space.
func CheckName(what, s string) error {
	if s == "" || utf8.RuneCountInString(s) > 100 || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return Invalid("name", "%s name must be 1 to 100 characters with no leading or trailing space", what)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return Invalid("name", "%s name has a character that cannot be printed", what)
		}
	}
	return nil
}

type reauthNeeded struct{}

func (reauthNeeded) Error() string {
	return "vault: re-authenticate first: give your password and a new TOTP code (an admin password or its code is shown only within 5 minutes of confirming who you are)"
}

func (reauthNeeded) Is(target error) bool { return target == ErrReauth }

// ErrPasskey says a passkey (WebAuthn) ceremony was refused; the
// PasskeyError it is wrapped in says why.
var ErrPasskey = errors.New("vault: passkey refused")

// PasskeyProblem is why a passkey ceremony was refused, for the web and
// the CLI to choose what to say.
type PasskeyProblem string

// The problems.
const (
	// PasskeysOff: the server has no public address with a name
	// (server --public-url), which passkeys are bound to.
	PasskeysOff PasskeyProblem = "passkeys are not set up on this server (server --public-url)"
	// PasskeyExpired: the ceremony is unknown, used or older than 5 minutes.
	PasskeyExpired PasskeyProblem = "the passkey request has expired or was already used; start again"
	// PasskeyOrigin: the browser's answer was made for another web address.
	PasskeyOrigin PasskeyProblem = "the passkey answer was made for a different web address than this vault's"
	// PasskeyUnreadable: the browser's answer could not be read.
	PasskeyUnreadable PasskeyProblem = "the browser's passkey answer could not be read"
	// PasskeyNotAccepted: the authenticator's answer did not verify.
	PasskeyNotAccepted PasskeyProblem = "the passkey was not accepted"
	// PasskeyNone: the account has no passkey registered.
	PasskeyNone PasskeyProblem = "you have no passkey registered"
	// PasskeyRequired: TOTP is not accepted for this role once the person
	// has a passkey (server --require-passkey); recovery codes still are.
	PasskeyRequired PasskeyProblem = "a passkey is required for your role: use your passkey or a recovery code, not an authenticator code"
	// PasskeyReauthRequired: the same at a re-authentication, where a
	// recovery code does not serve.
	PasskeyReauthRequired PasskeyProblem = "a passkey is required for your role: confirm it is you with your passkey, in the web interface (an authenticator code is not accepted)"
)

// PasskeyError is a refused passkey ceremony.
type PasskeyError struct{ Problem PasskeyProblem }

func (e *PasskeyError) Error() string { return "vault: " + string(e.Problem) }
func (e *PasskeyError) Unwrap() error { return ErrPasskey }
