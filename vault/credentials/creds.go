package credentials

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"

	"strongroom/audit"
)

// credHead is the current state of a credential, sealed at
// credentials/<id>/head. Secret fields live only in version records.
type credHead struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Kind      access.Kind `json:"kind"`
	URL       string      `json:"url"`
	Username  string      `json:"username"`
	Tags      []string    `json:"tags"`
	Assignees []string    `json:"assignees"` // user ids
	Owner     string      `json:"owner"`     // user id of the creator
	Version   int         `json:"version"`
	HasTOTP   bool        `json:"has_totp"`
	// TOTPWarning says what is unusual about a TOTP seed kept anyway (one
	// shorter than RFC 4226's minimum).
	TOTPWarning string    `json:"totp_warning,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	Deleted     bool      `json:"deleted"`
	// Compromised is set from a report of suspected compromise until rotated.
	Compromised *Compromise `json:"compromised,omitempty"`
	// Reviewed is when someone last confirmed who should hold access.
	Reviewed   time.Time `json:"reviewed,omitempty"`
	ReviewedBy string    `json:"reviewed_by,omitempty"`
	// Handover is set on a login a person handed over to the council
	// (HandOver): who did, and the clerk's confirmation.
	Handover *Handover `json:"handover,omitempty"`
}

// Compromise records a suspected compromise of a credential.
type Compromise struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
}

// setTOTP notes in the head whether the current version has a TOTP seed
// and any warning about it.
func (h *credHead) setTOTP(uri []byte) {
	h.HasTOTP, h.TOTPWarning = len(uri) > 0, storedTOTPWarning(uri)
}

func (h *credHead) assigned(userID string) bool {
	for _, a := range h.Assignees {
		if a == userID {
			return true
		}
	}
	return false
}

// credVersion is one version's secret, sealed at credentials/<id>/v/<%08d>.
type credVersion struct {
	Version   int       `json:"version"`
	Username  string    `json:"username"`
	URL       string    `json:"url"`
	Password  []byte    `json:"password"`
	TOTP      []byte    `json:"totp"` // otpauth:// URI, or empty
	Notes     []byte    `json:"notes"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

func (c *credVersion) wipe() { barrier.Wipe(c.Password); barrier.Wipe(c.TOTP); barrier.Wipe(c.Notes) }

func headKey(id string) string             { return id + "/head" }
func versionKey(id string, ver int) string { return fmt.Sprintf("%s/v/%08d", id, ver) }

// putVersion writes a new version record, which must not exist yet: old
// versions are never rewritten. One already there means the head naming
// the current version was put back to an earlier copy.
func putVersion(tx barrier.Tx, id string, ver int, v any) error {
	if tx.Peek(storage.BucketCredentials, []byte(versionKey(id, ver))) != nil {
		return &barrier.RollbackError{Bucket: storage.BucketCredentials,
			What: fmt.Sprintf("version %d of a credential is already stored, so its head was put back (old versions are never rewritten)", ver)}
	}
	return tx.PutRecord(storage.BucketCredentials, versionKey(id, ver), v)
}

// CredentialInput creates or updates a credential. On update, empty fields
// keep their value and a nil Assignees keeps the assignees.
type CredentialInput struct {
	Name      string
	Kind      string
	URL       string
	Username  string
	Password  []byte
	TOTP      string // otpauth:// URI or a base32 seed
	Notes     []byte
	Tags      []string
	Assignees []string // user names
	// CreateOnly refuses, with an *access.ExistsError, a name already in use
	// (checked in the write's own transaction) instead of writing a new
	// version of that credential.
	CreateOnly bool
}

// CredentialInfo is what may be shown of a credential without its secret.
type CredentialInfo struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Kind      access.Kind `json:"kind"`
	URL       string      `json:"url"`
	Username  string      `json:"username"`
	Tags      []string    `json:"tags"`
	Assignees []string    `json:"assignees"`
	Version   int         `json:"version"`
	HasTOTP   bool        `json:"has_totp"`
	// TOTPWarning says what is unusual about a TOTP seed kept anyway.
	TOTPWarning string    `json:"totp_warning,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	// Compromised, when set, means: change this password now.
	Compromised *Compromise `json:"compromised,omitempty"`
	// Access, in a list, says how the caller may read a credential they
	// are not assigned: "grant until T" or "break-glass until T".
	Access string `json:"access,omitempty"`
	// Handover, when set, says who handed this login over to the council
	// and whether a clerk has confirmed receiving it.
	Handover *HandoverInfo `json:"handover,omitempty"`
}

// eachHead calls fn with each credential head, in id order. Version
// records sort after their head ("ID/head" < "ID/v/..."), so after each
// head the scan seeks past that credential's versions instead of walking
// them: a credential rewritten a million times costs one seek, not a
// million steps.
func eachHead(tx barrier.Tx, fn func(*credHead) bool) error { return eachHeadFrom(tx, nil, fn) }

// eachHeadFrom is eachHead from the store key from on (nil: the first),
// for a walk in chunks: a chunk that ends before head h resumes at
// headsAt(h.ID).
func eachHeadFrom(tx barrier.Tx, from []byte, fn func(*credHead) bool) error {
	for {
		var next []byte
		err := tx.Scan(storage.BucketCredentials, from, func(k, val []byte) (bool, error) {
			id, rest, _ := strings.Cut(string(k), "/")
			if rest != "head" {
				next = []byte(id + "/w") // past "ID/v/..."
				return false, nil
			}
			h, err := barrier.DecodeView(tx, storage.BucketCredentials+"/"+string(k), val, func(h *credHead) *credHead { return h })
			if err != nil {
				return false, err
			}
			if !fn(h.clone()) {
				return false, errStopScan
			}
			next = []byte(id + "/w")
			return false, nil
		})
		if errors.Is(err, errStopScan) || (err == nil && next == nil) {
			return nil
		}
		if err != nil {
			return err
		}
		from = next
	}
}

var errStopScan = errors.New("stop")

// headsAt is the store key a walk of heads resumes at to start with
// credential id's.
func headsAt(id string) []byte { return []byte(id + "/") }

func (c *Credentials) info(h *credHead, names map[string]string) CredentialInfo {
	ci := CredentialInfo{ID: h.ID, Name: h.Name, Kind: h.Kind, URL: h.URL, Username: h.Username,
		Tags: append([]string{}, h.Tags...), Version: h.Version, HasTOTP: h.HasTOTP, TOTPWarning: h.TOTPWarning, Created: h.Created, Updated: h.Updated,
		Compromised: h.Compromised, Handover: h.Handover.info()}
	ci.Assignees = []string{}
	for _, id := range h.Assignees {
		ci.Assignees = append(ci.Assignees, names[id])
	}
	sort.Strings(ci.Assignees)
	return ci
}

func (c *Credentials) userNames(tx barrier.Tx) (map[string]string, []access.Person, error) {
	users, err := c.people.All(tx)
	names := map[string]string{}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	return names, users, err
}

// PutCredential creates a credential, or writes a new version of an
// existing one (the old versions are kept). It wipes in.Password and
// in.Notes when done.
func (c *Credentials) PutCredential(ctx context.Context, req auditlog.Request, p *access.Principal, in CredentialInput) (info CredentialInfo, created bool, err error) {
	defer barrier.Wipe(in.Password)
	defer barrier.Wipe(in.Notes)
	totpURI, err := checkInput(&in)
	if err != nil {
		return info, false, err
	}
	var refusal string
	var action audit.Action
	err = c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			refusal = ""
			if err := c.recovery.Routine(tx); err != nil {
				return err
			}
			names, users, err := c.userNames(tx)
			if err != nil {
				return err
			}
			h, err := findCred(tx, in.Name)
			if err != nil {
				return err
			}
			created = h == nil
			now := c.now()
			action = audit.CredUpdate
			if created {
				action = audit.CredCreate
				kind, err := access.ParseKind(in.Kind)
				if err != nil {
					return err
				}
				if len(in.Password) == 0 {
					return access.Invalid("password", "a new credential needs a password")
				}
				h = &credHead{ID: access.NewID(), Name: in.Name, Kind: kind, Owner: p.UserID, Created: now}
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if refusal, err = c.mayPut(tx, req, p, h, created, action, in); refusal != "" || err != nil {
				return err
			}
			if created {
				if err := checkNewName(tx, p, in.Name); err != nil {
					return err
				}
			}
			if !created && in.CreateOnly { // after the permission check: no name is confirmed to a caller who may not manage it
				return &access.ExistsError{Kind: "credential", Name: h.Name}
			}
			if in.Assignees != nil || created {
				ids, err := resolveAssignees(p, h.Kind, scopeOf{id: h.ID, name: h.Name, created: created}, in.Assignees, users)
				if err != nil {
					return err
				}
				h.Assignees = ids
			}
			var prev credVersion
			if !created {
				if _, err := tx.GetRecord(storage.BucketCredentials, versionKey(h.ID, h.Version), &prev); err != nil {
					return err
				}
				defer prev.wipe()
			}
			next := credVersion{Version: h.Version + 1, Username: pick(in.Username, prev.Username), URL: pick(in.URL, prev.URL),
				Password: pickBytes(in.Password, prev.Password), TOTP: pickBytes(totpURI, prev.TOTP),
				Notes: pickBytes(in.Notes, prev.Notes), Created: now, CreatedBy: p.Name}
			h.Version, h.Username, h.URL, h.Updated = next.Version, next.Username, next.URL, now
			h.setTOTP(next.TOTP)
			if in.Tags != nil {
				h.Tags = in.Tags
			}
			if err := putVersion(tx, h.ID, next.Version, &next); err != nil {
				return err
			}
			if err := putHead(tx, h); err != nil {
				return err
			}
			info = c.info(h, names)
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target,
				Reason: fmt.Sprintf("version %d; assignees: %s", h.Version, strings.Join(info.Assignees, ", "))})
		})
	})
	if err == nil && refusal != "" {
		return CredentialInfo{}, false, &access.ForbiddenError{Action: action, Target: in.Name}
	}
	return info, created, err
}

// checkInput normalises in's name and checks its fields' lengths and its
// TOTP seed, the rules every new version follows (a put's and a
// hand-over's); it returns the seed as an otpauth:// URI (nil: none).
func checkInput(in *CredentialInput) ([]byte, error) {
	var err error
	if in.Name, err = access.NormaliseName("name", "credential", in.Name); err != nil {
		return nil, err
	}
	if len(in.Password) > 4096 || len(in.Notes) > 64*1024 || len(in.URL) > 2048 || len(in.Username) > 512 || len(in.Tags) > 50 {
		return nil, access.Invalid("", "a field is too long")
	}
	uri, _, err := normaliseTOTP(in.TOTP, in.Name)
	return uri, err
}

// mayPut checks, in tx, that p may write h (new if created): a refusal is
// recorded and returned as its reason; a name p may not see is answered
// only as unusable.
func (c *Credentials) mayPut(tx barrier.Tx, req auditlog.Request, p *access.Principal, h *credHead, created bool,
	action audit.Action, in CredentialInput) (string, error) {
	target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
	existing := h
	if created {
		existing = nil
	}
	if !created && !maySee(p, h) {
		// Names are one namespace: the caller learns only that this one
		// cannot be used, not what holds it.
		if err := c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target,
			Outcome: audit.OutcomeDenied, Reason: "the name is a credential this person may not see"}); err != nil {
			return "", err
		}
		return "", access.Recorded(access.Invalid("name", "the name %q cannot be used; choose another", in.Name))
	}
	if !mayManage(p, h.Kind, existing) {
		refusal := fmt.Sprintf("role %s may not manage %s credentials", p.Role, h.Kind)
		return refusal, c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target,
			Outcome: audit.OutcomeDenied, Reason: refusal})
	}
	if !created && in.Kind != "" && access.Kind(in.Kind) != h.Kind {
		return "", access.Invalid("kind", "%q is a %s credential; its kind cannot change", h.Name, h.Kind)
	}
	return "", nil
}

func pick(in, old string) string {
	if in != "" {
		return in
	}
	return old
}

func pickBytes(in, old []byte) []byte {
	if len(in) > 0 {
		return append([]byte(nil), in...)
	}
	return append([]byte(nil), old...)
}

// scopeOf is the credential being assigned, as a contractor's scope
// sees it (created: new, so in no scope).
type scopeOf struct {
	id, name string
	created  bool
}

func resolveAssignees(p *access.Principal, kind access.Kind, cred scopeOf, names []string, users []access.Person) ([]string, error) {
	if kind == access.KindPersonal {
		for _, n := range names {
			if access.NameKey(n) != access.NameKey(p.Name) {
				return nil, access.Invalid("assignees", "a personal credential belongs to its owner alone; it cannot be assigned to anyone else")
			}
		}
		return []string{p.UserID}, nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, n := range names {
		var u *access.Person
		for i := range users {
			if access.NameKey(users[i].Name) == access.NameKey(n) {
				u = &users[i]
			}
		}
		if u == nil {
			return nil, notFound("user", n)
		}
		if !mayBeAssigned(u) {
			return nil, access.Invalid("assignees", "%q cannot hold a credential (disabled, or an auditor)", u.Name)
		}
		if a := u.Agreement; a != nil && (cred.created || !a.Covers(cred.id)) {
			return nil, access.Invalid("assignees", "%q is a contractor under agreement %s, which does not cover %q", u.Name, a.Ref, cred.name)
		}
		if !seen[u.ID] {
			ids = append(ids, u.ID)
			seen[u.ID] = true
		}
	}
	return ids, nil
}

// DeleteCredential retires a credential (soft delete: versions are kept).
func (c *Credentials) DeleteCredential(ctx context.Context, req auditlog.Request, p *access.Principal, name string) error {
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			result = nil
			if err := c.recovery.Routine(tx); err != nil {
				return err
			}
			h, err := findCred(tx, name)
			if err != nil {
				return err
			}
			if h == nil {
				return notFound("credential", name)
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if !mayManage(p, h.Kind, h) {
				result = refuse(p, h, name, audit.CredDelete)
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredDelete, Target: target,
					Outcome: audit.OutcomeDenied, Reason: fmt.Sprintf("role %s may not manage %s credentials", p.Role, h.Kind)})
			}
			h.Deleted, h.Updated = true, c.now()
			if err := putHead(tx, h); err != nil {
				return err
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredDelete, Target: target})
		})
	})
	if err == nil {
		err = result
	}
	return err
}

// checkNewName refuses, in tx, a new credential's name (not taken: the
// caller looked) that is drawn like a live one or mixes alphabets in a
// word; a look-alike the caller may not see is not named.
func checkNewName(tx barrier.Tx, p *access.Principal, name string) error {
	sim, err := findSimilar(tx, name)
	if err != nil {
		return err
	}
	if sim == nil {
		return access.MixedScript("name", "credential", name)
	}
	if !maySee(p, sim) {
		return access.Invalid("name", "the name %q cannot be used; choose another", name)
	}
	return access.CheckNewName("name", "credential", name, func(yield func(string) bool) { yield(sim.Name) })
}
