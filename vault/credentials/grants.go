package credentials

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// Exceptional access: someone asks for a credential for a
// stated reason and a limited time; a clerk or the chairman who is not the
// requester approves or denies; an approval is a grant that expires by
// itself, never outlives the requester's account, and can be revoked early.

const grantPrefix = "grant/"

// MaxGrant bounds how long one request may ask for.
const MaxGrant = 7 * 24 * time.Hour

// auditlog.Request states.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestDenied   = "denied"
)

// AccessRequest is one request for exceptional access, sealed at requests/<id>.
type AccessRequest struct {
	ID          string        `json:"id"`
	Credential  string        `json:"credential"`
	CredID      string        `json:"credential_id"`
	Requester   string        `json:"requester"`
	RequesterID string        `json:"requester_id"`
	Reason      string        `json:"reason"`
	For         time.Duration `json:"for_ns"`
	Created     time.Time     `json:"created"`
	Status      string        `json:"status"`
	DecidedBy   string        `json:"decided_by,omitempty"`
	DecidedAt   time.Time     `json:"decided_at,omitempty"`
	GrantID     string        `json:"grant_id,omitempty"`
	// DecisionReason is what the approver said when deciding, if anything.
	DecisionReason string `json:"decision_reason,omitempty"`
}

// Grant is time-limited read access to one credential, sealed at grants/grant/<id>.
type Grant struct {
	ID         string    `json:"id"`
	Credential string    `json:"credential"`
	CredID     string    `json:"credential_id"`
	User       string    `json:"user"`
	UserID     string    `json:"user_id"`
	From       time.Time `json:"from"`
	Until      time.Time `json:"until"`
	RequestID  string    `json:"request_id"`
	ApprovedBy string    `json:"approved_by"`
	RevokedBy  string    `json:"revoked_by,omitempty"`
	RevokedAt  time.Time `json:"revoked_at,omitempty"`
}

func (g *Grant) active(now time.Time) bool {
	return g.RevokedAt.IsZero() && !now.Before(g.From) && now.Before(g.Until)
}

// CreateRequest asks for access to a credential for a reason and a time.
func (c *Credentials) CreateRequest(ctx context.Context, req auditlog.Request, p *access.Principal, cred, reason string, dur time.Duration) (*AccessRequest, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case len(reason) < 5 || len(reason) > 500:
		return nil, access.Invalid("reason", "give the reason for the request (5 to 500 characters)")
	case dur < 5*time.Minute || dur > MaxGrant:
		return nil, access.Invalid("for", "ask for between 5 minutes and %s", MaxGrant)
	case p.Role == access.RoleAuditor:
		return nil, c.log.Deny(ctx, req, p, audit.RequestCreate, audit.Target{Kind: "credential", Name: cred}, "an auditor never reads a secret")
	}
	var out *AccessRequest
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			h, err := findCred(tx, cred)
			if err != nil {
				return err
			}
			if h != nil && h.Kind == access.KindPersonal && !maySee(p, h) {
				h = nil // another's personal login is answered as no login at all
			}
			if h != nil && mayRead(p, h) {
				return access.Invalid("cred", "you can already read %q", h.Name)
			}
			if u, ok, err := c.people.Person(tx, p.UserID); err != nil {
				return err
			} else if se := outOfScope(u, h, cred, "cred", audit.RequestCreate); ok && se != nil {
				return c.refuseOutOfScope(tx, req, p, h, se)
			}
			if h == nil {
				return notFound("credential", cred)
			}
			if h.Kind == access.KindPersonal { // a personal login is its owner's alone
				return access.Invalid("cred", "%q is a personal credential: access to it cannot be requested", h.Name)
			}
			out = &AccessRequest{ID: access.NewID(), Credential: h.Name, CredID: h.ID, Requester: p.Name, RequesterID: p.UserID,
				Reason: reason, For: dur, Created: c.now(), Status: RequestPending}
			if err := tx.PutRecord(storage.BucketRequests, out.ID, out); err != nil {
				return err
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.RequestCreate,
				Target: audit.Target{Kind: "credential", ID: h.ID, Name: h.Name},
				Reason: fmt.Sprintf("request %s for %s: %s", out.ID, dur, reason)})
		})
	})
	return out, err
}

// DecideRequest approves (making a grant) or denies a pending request,
// with the approver's reason if they give one (up to 500 characters, one
// line: it is recorded and sent to the requester). The requester can
// never decide their own request.
func (c *Credentials) DecideRequest(ctx context.Context, req auditlog.Request, p *access.Principal, id string, approve bool, why string) (*AccessRequest, *Grant, error) {
	action := map[bool]audit.Action{true: audit.RequestApprove, false: audit.RequestDeny}[approve]
	why = strings.TrimSpace(why)
	// One line of plain text: no control or format characters (bidi
	// overrides could make it read otherwise in the mail and the log), no
	// line or paragraph separators. Refused after the caller is found
	// entitled to decide, so a refusal is recorded as for any reason.
	badWhy := utf8.RuneCountInString(why) > 500 || !utf8.ValidString(why) ||
		strings.ContainsFunc(why, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) })
	var ar AccessRequest
	var grant *Grant
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			grant = nil
			ok, err := tx.GetRecord(storage.BucketRequests, id, &ar)
			if err != nil || !ok {
				return access.FirstErr(err, notFound("request", id))
			}
			target := audit.Target{Kind: "request", ID: ar.ID, Name: ar.Credential}
			refuse := func(why string) error {
				if err := c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target, Outcome: audit.OutcomeDenied, Reason: why}); err != nil {
					return err
				}
				return access.Recorded(&access.ForbiddenError{Action: action, Target: ar.Credential})
			}
			kind := access.KindShared
			if cur, ok, err := getHead(tx, ar.CredID); err != nil {
				return err
			} else if ok {
				kind = cur.Kind // as it is now, not as it was asked for
			}
			switch {
			case p.UserID == ar.RequesterID:
				return refuse("a requester cannot decide their own request")
			case !access.MayApproveKind(p, kind, c.adminApprover):
				if kind == access.KindAdmin {
					return refuse(fmt.Sprintf("a request for an admin credential is decided by %s", approverOfAdmin(c.adminApprover)))
				}
				return refuse("only a clerk or the chairman decides requests")
			case ar.Status != RequestPending:
				return access.Invalid("", "request %s is already %s", ar.ID, ar.Status)
			case badWhy:
				return access.Invalid("reason", "the reason must be one line of at most 500 characters")
			}
			now := c.now()
			ar.DecidedBy, ar.DecidedAt, ar.DecisionReason = p.Name, now, why
			reason := fmt.Sprintf("request %s by %s", ar.ID, ar.Requester)
			if !approve {
				ar.Status = RequestDenied
			} else {
				u, ok, err := c.people.Person(tx, ar.RequesterID)
				if err != nil || !ok {
					return access.FirstErr(err, notFound("user", ar.Requester))
				}
				if u.Disabled || u.Expired(now) {
					return access.Invalid("", "%s's account has ended; the request cannot be approved", u.Name)
				}
				if u.Agreement != nil && !u.Agreement.Covers(ar.CredID) {
					return refuse(fmt.Sprintf("%s's agreement %s does not cover %s", u.Name, u.Agreement.Ref, ar.Credential))
				}
				until := now.Add(ar.For)
				if !u.Expires.IsZero() && u.Expires.Before(until) {
					until = u.Expires // a grant never outlives the account
				}
				grant = &Grant{ID: access.NewID(), Credential: ar.Credential, CredID: ar.CredID, User: ar.Requester, UserID: ar.RequesterID,
					From: now, Until: until, RequestID: ar.ID, ApprovedBy: p.Name}
				if err := tx.PutRecord(storage.BucketGrants, grantPrefix+grant.ID, grant); err != nil {
					return err
				}
				ar.Status, ar.GrantID = RequestApproved, grant.ID
				reason += fmt.Sprintf("; grant %s until %s", grant.ID, until.Format(time.RFC3339))
			}
			if why != "" {
				reason += "; reason given: " + why
			}
			if err := tx.PutRecord(storage.BucketRequests, ar.ID, &ar); err != nil {
				return err
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target, Reason: reason})
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return &ar, grant, nil
}

// ListRequests shows approvers every request (pending first), and anyone
// else their own.
func (c *Credentials) ListRequests(ctx context.Context, p *access.Principal) ([]AccessRequest, error) {
	out := []AccessRequest{}
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			return tx.Scan(storage.BucketRequests, nil, func(k, val []byte) (bool, error) {
				var ar AccessRequest
				if err := tx.Decode(storage.BucketRequests+"/"+string(k), val, &ar); err != nil {
					return false, err
				}
				if mayApprove(p) || p.Role == access.RoleProvider || ar.RequesterID == p.UserID {
					out = append(out, ar)
				}
				return true, nil
			})
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Status == RequestPending) != (out[j].Status == RequestPending) {
			return out[i].Status == RequestPending
		}
		return out[i].Created.After(out[j].Created)
	})
	return out, err
}

// RevokeGrant ends a grant early (clerk, chairman or provider).
func (c *Credentials) RevokeGrant(ctx context.Context, req auditlog.Request, p *access.Principal, id string) error {
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			result = nil
			var g Grant
			ok, err := tx.GetRecord(storage.BucketGrants, grantPrefix+id, &g)
			if err != nil || !ok {
				return access.FirstErr(err, notFound("grant", id))
			}
			target := audit.Target{Kind: "grant", ID: g.ID, Name: g.Credential}
			if !mayApprove(p) && p.Role != access.RoleProvider {
				result = &access.ForbiddenError{Action: audit.GrantRevoke, Target: g.Credential}
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.GrantRevoke, Target: target,
					Outcome: audit.OutcomeDenied, Reason: "only a clerk, the chairman or a provider revokes grants"})
			}
			if !g.RevokedAt.IsZero() {
				return nil
			}
			g.RevokedBy, g.RevokedAt = p.Name, c.now()
			if err := tx.PutRecord(storage.BucketGrants, grantPrefix+g.ID, &g); err != nil {
				return err
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.GrantRevoke, Target: target,
				Reason: fmt.Sprintf("grant of %s to %s ended early", g.Credential, g.User)})
		})
	})
	return access.FirstErr(err, result)
}

// eachGrant calls fn for every grant record.
func eachGrant(tx barrier.Tx, fn func(*Grant) error) error {
	return tx.Scan(storage.BucketGrants, []byte(grantPrefix), func(k, val []byte) (bool, error) {
		if !strings.HasPrefix(string(k), grantPrefix) {
			return false, nil
		}
		var g Grant
		if err := tx.Decode(storage.BucketGrants+"/"+string(k), val, &g); err != nil {
			return false, err
		}
		return true, fn(&g)
	})
}

// activeGrant finds a grant letting p read credential credID now.
func (c *Credentials) activeGrant(tx barrier.Tx, p *access.Principal, credID string) (*Grant, error) {
	var found *Grant
	now := c.now()
	err := eachGrant(tx, func(g *Grant) error {
		if g.UserID == p.UserID && g.CredID == credID && g.active(now) {
			found = g
		}
		return nil
	})
	return found, err
}

func approverOfAdmin(a access.AdminApprover) string {
	if a == access.ApproverProvider {
		return "the chairman or a provider who is not the requester"
	}
	return "the chairman"
}
