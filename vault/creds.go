package vault

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"strongroom/vault/barrier"

	"github.com/pquerna/otp"

	"strongroom/audit"
)

// credHead is the current state of a credential, sealed at
// credentials/<id>/head. Secret fields live only in version records.
type credHead struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      Kind      `json:"kind"`
	URL       string    `json:"url"`
	Username  string    `json:"username"`
	Tags      []string  `json:"tags"`
	Assignees []string  `json:"assignees"` // user ids
	Owner     string    `json:"owner"`     // user id of the creator
	Version   int       `json:"version"`
	HasTOTP   bool      `json:"has_totp"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	Deleted   bool      `json:"deleted"`
	// Compromised is set from a report of suspected compromise until rotated.
	Compromised *Compromise `json:"compromised,omitempty"`
	// Reviewed is when someone last confirmed who should hold access.
	Reviewed   time.Time `json:"reviewed,omitempty"`
	ReviewedBy string    `json:"reviewed_by,omitempty"`
}

// Compromise records a suspected compromise of a credential.
type Compromise struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
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

func (c *credVersion) wipe() { wipe(c.Password); wipe(c.TOTP); wipe(c.Notes) }

func headKey(id string) string             { return id + "/head" }
func versionKey(id string, ver int) string { return fmt.Sprintf("%s/v/%08d", id, ver) }

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
	// CreateOnly refuses, with an *ExistsError, a name already in use
	// (checked in the write's own transaction) instead of writing a new
	// version of that credential.
	CreateOnly bool
}

// CredentialInfo is what may be shown of a credential without its secret.
type CredentialInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      Kind      `json:"kind"`
	URL       string    `json:"url"`
	Username  string    `json:"username"`
	Tags      []string  `json:"tags"`
	Assignees []string  `json:"assignees"`
	Version   int       `json:"version"`
	HasTOTP   bool      `json:"has_totp"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	// Compromised, when set, means: change this password now.
	Compromised *Compromise `json:"compromised,omitempty"`
	// Access, in a list, says how the caller may read a credential they
	// are not assigned: "grant until T" or "break-glass until T".
	Access string `json:"access,omitempty"`
}

// normaliseTOTP accepts an otpauth://totp URI or a bare base32 seed and
// returns a canonical otpauth://totp URI: label, secret (at least 16 base32
// characters, 80 bits), issuer, and the algorithm, digits and period the
// service uses. Errors never echo the input.
func normaliseTOTP(in, name string) ([]byte, error) {
	in = strings.TrimSpace(in)
	if in == "" {
		return nil, nil
	}
	seed, label, issuer := in, name, "Strongroom"
	q := url.Values{}
	if strings.HasPrefix(strings.ToLower(in), "otpauth://") {
		k, err := otp.NewKeyFromURL(in)
		if err != nil || k.Type() != "totp" {
			return nil, invalidField("totp", "the TOTP URI is not a valid otpauth://totp URI")
		}
		seed = k.Secret()
		if k.AccountName() != "" {
			label = k.AccountName()
		}
		if k.Issuer() != "" {
			issuer = k.Issuer()
		}
		switch k.Algorithm() {
		case otp.AlgorithmSHA256:
			q.Set("algorithm", "SHA256")
		case otp.AlgorithmSHA512:
			q.Set("algorithm", "SHA512")
		}
		if d := k.Digits(); d == otp.DigitsEight {
			q.Set("digits", "8")
		}
		if p := k.Period(); p != 30 {
			if p < 10 || p > 300 {
				return nil, invalidField("totp", "the TOTP URI's period must be 10 to 300 seconds")
			}
			q.Set("period", strconv.FormatUint(p, 10))
		}
	}
	seed = strings.TrimRight(strings.ToUpper(strings.ReplaceAll(seed, " ", "")), "=")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(seed)
	if err != nil || len(seed) < 16 || len(raw) < 10 {
		return nil, invalidField("totp", "the TOTP secret must be base32 of at least 16 characters (in an otpauth:// URI or on its own)")
	}
	q.Set("secret", seed)
	q.Set("issuer", issuer)
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + label, RawQuery: q.Encode()}
	return []byte(u.String()), nil
}

// eachHead calls fn with each credential head, in id order. Version
// records sort after their head ("ID/head" < "ID/v/..."), so after each
// head the scan seeks past that credential's versions instead of walking
// them: a credential rewritten a million times costs one seek, not a
// million steps.
func eachHead(tx Tx, ks *keyring, fn func(*credHead) bool) error {
	var from []byte
	for {
		var next []byte
		err := tx.Scan(bucketCredentials, from, func(k, val []byte) (bool, error) {
			id, rest, _ := strings.Cut(string(k), "/")
			if rest != "head" {
				next = []byte(id + "/w") // past "ID/v/..."
				return false, nil
			}
			h, err := barrier.DecodeView(ks.Keyring, bucketCredentials+"/"+string(k), val, func(h *credHead) *credHead { return h })
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

func (v *Vault) info(h *credHead, names map[string]string) CredentialInfo {
	ci := CredentialInfo{ID: h.ID, Name: h.Name, Kind: h.Kind, URL: h.URL, Username: h.Username,
		Tags: append([]string{}, h.Tags...), Version: h.Version, HasTOTP: h.HasTOTP, Created: h.Created, Updated: h.Updated,
		Compromised: h.Compromised}
	ci.Assignees = []string{}
	for _, id := range h.Assignees {
		ci.Assignees = append(ci.Assignees, names[id])
	}
	sort.Strings(ci.Assignees)
	return ci
}

func userNames(tx Tx, ks *keyring) (map[string]string, []*userRecord, error) {
	users, err := allUsers(tx, ks)
	names := map[string]string{}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	return names, users, err
}

// PutCredential creates a credential, or writes a new version of an
// existing one (the old versions are kept). It wipes in.Password and
// in.Notes when done.
func (v *Vault) PutCredential(ctx context.Context, req Request, p *Principal, in CredentialInput) (info CredentialInfo, created bool, err error) {
	defer wipe(in.Password)
	defer wipe(in.Notes)
	if err := checkName("credential", in.Name); err != nil {
		return info, false, err
	}
	if len(in.Password) > 4096 || len(in.Notes) > 64*1024 || len(in.URL) > 2048 || len(in.Username) > 512 || len(in.Tags) > 50 {
		return info, false, invalid("a field is too long")
	}
	totpURI, err := normaliseTOTP(in.TOTP, in.Name)
	if err != nil {
		return info, false, err
	}
	var refusal string
	var action audit.Action
	err = v.withKeys(func(ks *keyring) error {
		return v.write(ctx, func(tx Tx) error {
			refusal = ""
			if err := checkRoutine(tx); err != nil {
				return err
			}
			names, users, err := userNames(tx, ks)
			if err != nil {
				return err
			}
			h, err := findCred(tx, ks, in.Name)
			if err != nil {
				return err
			}
			created = h == nil
			now := v.now()
			action = audit.CredUpdate
			if created {
				action = audit.CredCreate
				kind, err := ParseKind(in.Kind)
				if err != nil {
					return err
				}
				if len(in.Password) == 0 {
					return invalidField("password", "a new credential needs a password")
				}
				h = &credHead{ID: newID(), Name: in.Name, Kind: kind, Owner: p.UserID, Created: now}
			} else if in.Kind != "" && Kind(in.Kind) != h.Kind {
				return invalidField("kind", "%q is a %s credential; its kind cannot change", h.Name, h.Kind)
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			existing := h
			if created {
				existing = nil
			}
			if !mayManage(p, h.Kind, existing) {
				refusal = fmt.Sprintf("role %s may not manage %s credentials", p.Role, h.Kind)
				return v.appendAudit(tx, req, event{actor: actorOf(p), action: action, target: target,
					outcome: audit.OutcomeDenied, reason: refusal})
			}
			if !created && in.CreateOnly { // after the permission check: no name is confirmed to a caller who may not manage it
				return &ExistsError{Kind: "credential", Name: h.Name}
			}
			if in.Assignees != nil || created {
				ids, err := resolveAssignees(p, h.Kind, in.Assignees, users)
				if err != nil {
					return err
				}
				h.Assignees = ids
			}
			var prev credVersion
			if !created {
				if _, err := ks.Get(tx, bucketCredentials, versionKey(h.ID, h.Version), &prev); err != nil {
					return err
				}
				defer prev.wipe()
			}
			next := credVersion{Version: h.Version + 1, Username: pick(in.Username, prev.Username), URL: pick(in.URL, prev.URL),
				Password: pickBytes(in.Password, prev.Password), TOTP: pickBytes(totpURI, prev.TOTP),
				Notes: pickBytes(in.Notes, prev.Notes), Created: now, CreatedBy: p.Name}
			h.Version, h.Username, h.URL, h.HasTOTP, h.Updated = next.Version, next.Username, next.URL, len(next.TOTP) > 0, now
			if in.Tags != nil {
				h.Tags = in.Tags
			}
			if err := ks.Put(tx, bucketCredentials, versionKey(h.ID, next.Version), &next); err != nil {
				return err
			}
			if err := putHead(tx, ks, h); err != nil {
				return err
			}
			info = v.info(h, names)
			return v.appendAudit(tx, req, event{actor: actorOf(p), action: action, target: target,
				reason: fmt.Sprintf("version %d; assignees: %s", h.Version, strings.Join(info.Assignees, ", "))})
		})
	})
	if err == nil && refusal != "" {
		return CredentialInfo{}, false, &ForbiddenError{Action: action, Target: in.Name}
	}
	return info, created, err
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

func resolveAssignees(p *Principal, kind Kind, names []string, users []*userRecord) ([]string, error) {
	if kind == KindPersonal {
		for _, n := range names {
			if !strings.EqualFold(n, p.Name) {
				return nil, invalidField("assignees", "a personal credential belongs to its owner alone; it cannot be assigned to anyone else")
			}
		}
		return []string{p.UserID}, nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, n := range names {
		var u *userRecord
		for _, x := range users {
			if strings.EqualFold(x.Name, n) {
				u = x
			}
		}
		if u == nil {
			return nil, notFound("user", n)
		}
		if !mayBeAssigned(u) {
			return nil, invalidField("assignees", "%q cannot hold a credential (disabled, or an auditor)", u.Name)
		}
		if !seen[u.ID] {
			ids = append(ids, u.ID)
			seen[u.ID] = true
		}
	}
	return ids, nil
}

// ListOptions pages and filters a list of credentials.
type ListOptions struct {
	// After: only names that sort after this one (case-insensitive), for
	// the next page; "" from the start.
	After string
	// Limit caps the page; 0 lists everything.
	Limit int
	// Query keeps credentials whose name, user name, URL or a tag contains
	// it (case-insensitive).
	Query string
	// Name keeps only the credential of this name.
	Name string
}

// ListCredentials lists what the caller may see, without secrets, in name
// order; more says a further page exists (ask again with After set to the
// last name).
//
// It walks the sorted name index, not the store, and reads each head
// through the view cache, so a page costs the same at 1,000 and at
// 100,000 credentials when the caller may see most of them; a caller who
// may see few (a member) costs a pass over the index.
func (v *Vault) ListCredentials(ctx context.Context, p *Principal, opt ListOptions) (out []CredentialInfo, more bool, err error) {
	q := strings.ToLower(strings.TrimSpace(opt.Query))
	err = v.withKeys(func(ks *keyring) error {
		return v.store.View(ctx, func(tx Tx) error {
			if err := ensureNames(tx, ks); err != nil {
				return err
			}
			// Grantees and the chairman in break-glass see what they may
			// read for now, marked so.
			now, granted := v.now(), map[string]time.Time{}
			if err := eachGrant(tx, ks, func(g *Grant) error {
				if g.UserID == p.UserID && g.active(now) && g.Until.After(granted[g.CredID]) {
					granted[g.CredID] = g.Until
				}
				return nil
			}); err != nil {
				return err
			}
			bg, err := v.activeBreakGlass(tx, ks, p)
			if err != nil {
				return err
			}
			// Candidates come from the sorted index in chunks, so a page
			// does not copy the whole index.
			chunk := max(256, 2*opt.Limit)
			if opt.Limit == 0 {
				chunk = 0
			}
			cursor, done := opt.After, false
			next := func() []nameID {
				if done {
					return nil
				}
				if opt.Name != "" {
					done = true
					if id, _ := ks.names.lookup(opt.Name); id != "" {
						return []nameID{{strings.ToLower(opt.Name), id}}
					}
					return nil
				}
				c := ks.names.after(cursor, chunk)
				if len(c) == 0 || chunk == 0 || len(c) < chunk {
					done = true
				}
				if len(c) > 0 {
					cursor = c[len(c)-1].lower
				}
				return c
			}
		scan:
			for candidates := next(); len(candidates) > 0; candidates = next() {
				for _, c := range candidates {
					h, ok, err := getHead(tx, ks, c.id)
					if err != nil {
						return err
					}
					if !ok || h.Deleted || strings.ToLower(h.Name) != c.lower {
						continue // a stale hint: the write that made it failed
					}
					access := ""
					if until, ok := granted[h.ID]; ok && !h.assigned(p.UserID) {
						access = "grant until " + until.Format(time.RFC3339)
					} else if bg != nil && h.Kind == KindAdmin && now.Before(bg.Expires) && !h.assigned(p.UserID) {
						access = "break-glass until " + bg.Expires.Format(time.RFC3339)
					}
					if !maySee(p, h) && access == "" {
						continue
					}
					if q != "" && !strings.Contains(strings.ToLower(strings.Join(append([]string{h.Name, h.Username, h.URL}, h.Tags...), "\x00")), q) {
						continue
					}
					if opt.Limit > 0 && len(out) == opt.Limit {
						more = true
						break scan
					}
					names, err := assigneeNames(tx, ks, h)
					if err != nil {
						return err
					}
					info := v.info(h, names)
					info.Access = access
					out = append(out, info)
				}
			}
			return nil
		})
	})
	return out, more, err
}

// ReadCredential returns a credential's secret to an assignee. The read is
// recorded and committed before the secret is returned; a refusal is
// recorded as denied (an incident) and returns a *ForbiddenError. version 0
// means the current one.
func (v *Vault) ReadCredential(ctx context.Context, req Request, p *Principal, name string, version int) (*Secret, error) {
	return v.readCredential(ctx, req, p, name, version, "")
}

// readCredential is ReadCredential with purpose ("TOTP code; ") recorded
// in the entry's reason.
//
// An assignee's read is planned in a read-only transaction (find, check,
// decrypt: these run in parallel) and then committed in a write
// transaction that only checks the credential's head is byte for byte the
// one the plan read and appends the entry; the write transactions of
// concurrent reads share one fsync (group commit). If the head changed in
// between, the read is planned again. Reads by grant or break-glass,
// refusals and errors are decided and recorded in one write transaction,
// and so is a read whose head keeps changing.
func (v *Vault) readCredential(ctx context.Context, req Request, p *Principal, name string, version int, purpose string) (*Secret, error) {
	var pl *readPlan
	err := v.withKeys(func(ks *keyring) error {
		for attempt := 0; attempt < 3; attempt++ {
			err := v.store.View(ctx, func(tx Tx) (err error) {
				pl, err = v.planRead(tx, ks, req, p, name, version, purpose)
				return err
			})
			if err != nil {
				return err
			}
			if !pl.fast {
				pl.discard()
				break
			}
			// A stale plan writes nothing and returns nil, so it does not
			// roll back the other writes sharing its commit.
			stale := false
			err = v.write(ctx, func(tx Tx) error {
				stale = !bytes.Equal(tx.Peek(bucketCredentials, []byte(headKey(pl.headID))), pl.head)
				if stale {
					return nil
				}
				return v.appendAudit(tx, req, pl.ev)
			})
			if err == nil && !stale {
				return nil
			}
			pl.discard()
			if err != nil {
				return err
			}
		}
		return v.write(ctx, func(tx Tx) (err error) {
			pl.discard() // a retried batch: start again
			if pl, err = v.planRead(tx, ks, req, p, name, version, purpose); err != nil {
				return err
			}
			return v.appendAudit(tx, req, pl.ev)
		})
	})
	if err != nil && !errors.Is(err, ErrSealed) && ctx.Err() == nil {
		v.noteAuditFailure(err) // the read's entry was not committed
	}
	if err != nil || pl.result != nil {
		pl.discard()
		if err == nil {
			err = pl.result
		}
		return nil, err
	}
	return pl.sec, nil
}

// readPlan is a read decided in one transaction: the entry to append and,
// for a read that succeeds, the secret.
type readPlan struct {
	ev     event
	result error   // the caller's error (refusal, not found) once ev is committed
	sec    *Secret // nil unless the read succeeds
	// fast: an assignee's read, committed by checking head is unchanged.
	fast   bool
	headID string
	head   []byte // the head record's stored (sealed) bytes
}

func (pl *readPlan) discard() {
	if pl != nil && pl.sec != nil {
		pl.sec.Destroy()
		pl.sec = nil
	}
}

// planRead decides a read of name in tx: who may read, which version, and
// what the entry says.
func (v *Vault) planRead(tx Tx, ks *keyring, req Request, p *Principal, name string, version int, purpose string) (*readPlan, error) {
	target := audit.Target{Kind: "credential", Name: name}
	h, err := findCred(tx, ks, name)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return &readPlan{result: notFound("credential", name), ev: event{actor: actorOf(p), action: audit.CredRead,
			target: target, outcome: audit.OutcomeError, reason: "no such credential"}}, nil
	}
	target.ID, target.Name = h.ID, h.Name
	pl := &readPlan{fast: mayRead(p, h)}
	action, why := audit.CredRead, ""
	if !pl.fast {
		bg, err := v.activeBreakGlass(tx, ks, p)
		if err != nil {
			return nil, err
		}
		grant, err := v.activeGrant(tx, ks, p, h.ID)
		if err != nil {
			return nil, err
		}
		denial := "not an assignee and no grant"
		switch {
		case grant != nil:
			why = fmt.Sprintf("grant %s (request %s, approved by %s, until %s); ", grant.ID,
				grant.RequestID, grant.ApprovedBy, grant.Until.Format(time.RFC3339))
		case bg != nil && h.Kind == KindAdmin && v.now().Before(bg.Expires):
			action, why = audit.BreakglassRead, "break-glass: "+bg.Reason+"; "
		case bg != nil && h.Kind == KindAdmin:
			denial = "not an assignee; the break-glass window ended at " + bg.Expires.Format(time.RFC3339)
		}
		if action == audit.CredRead && grant == nil {
			pl.result = &ForbiddenError{Action: audit.CredRead, Target: h.Name}
			pl.ev = event{actor: actorOf(p), action: audit.CredRead, target: target, outcome: audit.OutcomeDenied, reason: denial}
			return pl, nil
		}
	}
	ver := h.Version
	if version > 0 {
		ver = version
	}
	var cv credVersion
	ok, err := ks.Get(tx, bucketCredentials, versionKey(h.ID, ver), &cv)
	if err != nil || !ok {
		if err == nil {
			err = notFound("version", strconv.Itoa(ver)+" of "+h.Name)
		}
		return &readPlan{result: err, ev: event{actor: actorOf(p), action: audit.CredRead, target: target,
			outcome: audit.OutcomeError, reason: err.Error()}}, nil
	}
	names, err := assigneeNames(tx, ks, h)
	if err != nil {
		cv.wipe()
		return nil, err
	}
	info := v.info(h, names)
	info.Version, info.Username, info.URL, info.HasTOTP = cv.Version, cv.Username, cv.URL, len(cv.TOTP) > 0
	pl.sec = newSecret(info, &cv)
	pl.ev = event{actor: actorOf(p), action: action, target: target, reason: fmt.Sprintf("%s%sversion %d", why, purpose, cv.Version)}
	if pl.fast {
		pl.headID, pl.head = h.ID, tx.Get(bucketCredentials, []byte(headKey(h.ID)))
	}
	return pl, nil
}

// DeleteCredential retires a credential (soft delete: versions are kept).
func (v *Vault) DeleteCredential(ctx context.Context, req Request, p *Principal, name string) error {
	var result error
	err := v.withKeys(func(ks *keyring) error {
		return v.write(ctx, func(tx Tx) error {
			result = nil
			if err := checkRoutine(tx); err != nil {
				return err
			}
			h, err := findCred(tx, ks, name)
			if err != nil {
				return err
			}
			if h == nil {
				return notFound("credential", name)
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if !mayManage(p, h.Kind, h) {
				result = &ForbiddenError{Action: audit.CredDelete, Target: h.Name}
				return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.CredDelete, target: target,
					outcome: audit.OutcomeDenied, reason: fmt.Sprintf("role %s may not manage %s credentials", p.Role, h.Kind)})
			}
			h.Deleted, h.Updated = true, v.now()
			if err := putHead(tx, ks, h); err != nil {
				return err
			}
			return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.CredDelete, target: target})
		})
	})
	if err == nil {
		err = result
	}
	return err
}
