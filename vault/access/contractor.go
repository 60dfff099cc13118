package access

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"strongroom/audit"
)

// Agreement is the formal agreement a contractor works under (Wrockwardine
// "Third Party Access and Security"): its reference, the credentials it
// covers, and when the work was marked completed. It is kept on the
// account's sealed record; a contractor's requests and grants stay inside
// its scope.
type Agreement struct {
	// Ref is the agreement's reference as the council writes it
	// ("WEB-2026-04"): 1 to 100 printable characters on one line.
	Ref string `json:"ref"`
	// Scope is every credential the agreement covers, by id (the name is
	// as it was when the agreement was recorded, for display).
	Scope []ScopeItem `json:"scope"`
	// Since is when the agreement was recorded (the account was added).
	Since time.Time `json:"since"`
	// Completed is when the work was marked completed (user complete);
	// zero while the agreement runs.
	Completed time.Time `json:"completed,omitzero"`
}

// ScopeItem is one credential an agreement covers.
type ScopeItem struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// MaxScope bounds how many credentials one agreement may cover.
const MaxScope = 100

// Covers says the agreement covers the credential with id credID.
func (a *Agreement) Covers(credID string) bool {
	for _, s := range a.Scope {
		if s.ID == credID {
			return true
		}
	}
	return false
}

// Names lists the names of the credentials in scope, in the order given.
func (a *Agreement) Names() []string {
	out := make([]string, 0, len(a.Scope))
	for _, s := range a.Scope {
		out = append(out, s.Name)
	}
	return out
}

// Clone is a deep copy (records are cached and shared: never change one
// in place).
func (a *Agreement) Clone() *Agreement {
	if a == nil {
		return nil
	}
	c := *a
	c.Scope = append([]ScopeItem(nil), a.Scope...)
	return &c
}

// CheckAgreementRef checks an agreement reference for field.
func CheckAgreementRef(field, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || utf8.RuneCountInString(ref) > 100 || !utf8.ValidString(ref) {
		return "", Invalid(field, "give the agreement's reference (1 to 100 characters)")
	}
	for _, r := range ref {
		if !unicode.IsPrint(r) {
			return "", Invalid(field, "the agreement's reference must be one line of printable characters")
		}
	}
	return ref, nil
}

// ScopeError says a contractor's agreement does not cover a credential: a
// request for it, or a grant or assignment of it, is refused and recorded.
// It wraps ErrForbidden; Field is the input that named the credential.
type ScopeError struct {
	Field      string
	Action     audit.Action
	Contractor string
	Agreement  string
	Credential string
}

func (e *ScopeError) Error() string {
	return "vault: not permitted: " + e.Field + ": " + e.Reason() + " (the attempt is recorded)"
}

// Reason says what was refused, in words for a page (no field name).
func (e *ScopeError) Reason() string {
	return fmt.Sprintf("%q is outside the scope of agreement %s, under which %s works", e.Credential, e.Agreement, e.Contractor)
}

func (e *ScopeError) Unwrap() error { return ErrForbidden }
