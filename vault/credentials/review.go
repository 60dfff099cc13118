package credentials

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// The annual access review (Wrockwardine "Review and Monitoring",
// Drayton Bassett 4.1.5): once a year the clerk (or a provider) goes
// through every live admin and shared credential, confirms that the
// people holding it are right or changes them and then confirms, and
// signs the whole review off. Each confirmation and the sign-off are
// recorded (review.confirm, review.signoff) and kept in the vault's meta
// bucket, inside the state seal (reviewState), so an older copy of the
// database cannot bring back an earlier review unnoticed.
//
// A confirmation holds what it confirmed: the credential's version (a
// rotation or any update makes a new one), its assignees and its live
// grants. A credential whose version or assignees changed since, or that
// gained a grant, needs confirming again; a grant that merely ended does
// not undo a confirmation.

// reviewYears is how often the review is due: a year after the last
// sign-off; for a vault never reviewed, a year after it was set up.
const reviewYears = 1

// keyReview holds the review's state (JSON) in the meta bucket.
var keyReview = []byte("review.annual")

// maxSignoffs bounds the sign-offs kept (one a year: a century).
const maxSignoffs = 100

// ReviewStatus says where the annual review stands.
type ReviewStatus string

// The review's states.
const (
	// ReviewFirst: never signed off, and the vault is less than a year
	// old: the first review is due by DueBy.
	ReviewFirst ReviewStatus = "first"
	// ReviewOverdue: no sign-off in the last year (never, and the vault
	// is more than a year old).
	ReviewOverdue ReviewStatus = "overdue"
	// ReviewDone: signed off in the last year; the next is due by DueBy.
	ReviewDone ReviewStatus = "done"
)

// ReviewDue is when the annual review is due, and the last sign-off.
type ReviewDue struct {
	Status ReviewStatus `json:"status"`
	DueBy  time.Time    `json:"due_by"`
	Last   *Signoff     `json:"last_signoff,omitempty"`
}

// Signoff is one signed-off review.
type Signoff struct {
	At        time.Time `json:"at"`
	By        string    `json:"by"`
	ByID      string    `json:"by_id"`
	Confirmed int       `json:"confirmed"` // credentials confirmed in it
	NextDue   time.Time `json:"next_due"`
}

// confirmation is one credential confirmed in the review under way.
type confirmation struct {
	At        time.Time `json:"at"`
	By        string    `json:"by"`
	ByID      string    `json:"by_id"`
	Version   int       `json:"version"`
	Assignees []string  `json:"assignees"` // user ids, sorted
	Grants    []string  `json:"grants"`    // live grant ids, sorted
}

// reviewState is the review's record: the confirmations of the review
// under way (by credential id) and the sign-offs, oldest first.
type reviewState struct {
	Confirmed map[string]confirmation `json:"confirmed"`
	Signoffs  []Signoff               `json:"signoffs"`
}

func readReview(tx storage.Tx) (reviewState, error) {
	st := reviewState{Confirmed: map[string]confirmation{}}
	if raw := tx.Get(storage.BucketMeta, keyReview); raw != nil {
		if err := json.Unmarshal(raw, &st); err != nil {
			return st, fmt.Errorf("vault: the access review's record is malformed: %w", err)
		}
	}
	if st.Confirmed == nil {
		st.Confirmed = map[string]confirmation{}
	}
	return st, nil
}

func putReview(tx storage.Tx, st reviewState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Put(storage.BucketMeta, keyReview, raw)
}

// holding is who holds h now: its assignees and live grants, sorted ids.
type holding struct {
	version   int
	assignees []string
	grants    []string
}

func holdingOf(h *credHead, grants []*Grant) holding {
	hd := holding{version: h.Version, assignees: slices.Sorted(slices.Values(h.Assignees)), grants: []string{}}
	for _, g := range grants {
		hd.grants = append(hd.grants, g.ID)
	}
	sort.Strings(hd.grants)
	return hd
}

// mark names a holding: what a page or the command line shows and sends
// back with a confirmation, so that it confirms what the person saw.
func (hd holding) mark() string {
	s := sha256.Sum256([]byte(strconv.Itoa(hd.version) + "|" + strings.Join(hd.assignees, ",") + "|" + strings.Join(hd.grants, ",")))
	return hex.EncodeToString(s[:8])
}

// confirms says c still confirms hd: same version and assignees, and no
// grant that c did not see.
func (c confirmation) confirms(hd holding) bool {
	if c.Version != hd.version || !slices.Equal(c.Assignees, hd.assignees) {
		return false
	}
	for _, g := range hd.grants {
		if !slices.Contains(c.Grants, g) {
			return false
		}
	}
	return true
}

// dueOf is where the review stands at now; since is when the vault was
// set up (its oldest account).
func dueOf(st reviewState, since, now time.Time) ReviewDue {
	if n := len(st.Signoffs); n > 0 {
		last := st.Signoffs[n-1]
		d := ReviewDue{Status: ReviewDone, DueBy: last.NextDue, Last: &last}
		if !now.Before(last.NextDue) {
			d.Status = ReviewOverdue
		}
		return d
	}
	d := ReviewDue{Status: ReviewFirst, DueBy: since.AddDate(reviewYears, 0, 0)}
	if since.IsZero() || !now.Before(d.DueBy) {
		d.Status = ReviewOverdue
	}
	return d
}

// setUp is when the vault was set up: its oldest account's creation.
func setUp(people []access.Person) time.Time {
	var t time.Time
	for _, u := range people {
		if !u.Created.IsZero() && (t.IsZero() || u.Created.Before(t)) {
			t = u.Created
		}
	}
	return t
}

// MayRunReview: confirm credentials in the annual review and sign it off.
func MayRunReview(p *access.Principal) bool {
	return p.Role == access.RoleClerk || p.Role == access.RoleProvider
}

// MayViewReview: see the annual review (the auditor, read only).
func MayViewReview(p *access.Principal) bool { return MayRunReview(p) || p.Role == access.RoleAuditor }

// ReviewStatusNow is where the annual review stands, for the home pages
// and the reminders: read on the vault's own behalf, and not recorded.
func (c *Credentials) ReviewStatusNow(ctx context.Context) (ReviewDue, error) {
	var d ReviewDue
	err := c.barrier.View(ctx, func(tx barrier.Tx) error {
		st, err := readReview(tx)
		if err != nil {
			return err
		}
		people, err := c.people.All(tx)
		d = dueOf(st, setUp(people), c.now())
		return err
	})
	return d, err
}

// ConfirmReview records, in the review under way, that the holders of the
// admin or shared credential name are right (clerk or provider). mark, if
// given, is the holding the person was shown (ReviewItem.Mark): if the
// credential changed since, nothing is recorded and the answer is
// access.ErrConflict.
func (c *Credentials) ConfirmReview(ctx context.Context, req auditlog.Request, p *access.Principal, name, mark string) error {
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			result = nil
			h, err := findCred(tx, name)
			if err != nil {
				return err
			}
			if h != nil && h.Deleted {
				h = nil
			}
			target := audit.Target{Kind: "credential", Name: name}
			if h != nil {
				target = audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			}
			if !MayRunReview(p) {
				result = &access.ForbiddenError{Action: audit.ReviewConfirm, Target: name}
				if h != nil {
					result = refuse(p, h, name, audit.ReviewConfirm)
				}
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ReviewConfirm, Target: target,
					Outcome: audit.OutcomeDenied, Reason: "only the clerk or a provider confirms the access review"})
			}
			if h == nil || (h.Kind == access.KindPersonal && h.Owner != p.UserID) {
				result = notFound("credential", name)
				return nil
			}
			if h.Kind == access.KindPersonal {
				result = access.Invalid("credential", "%q is a personal login: the review covers admin and shared ones", h.Name)
				return nil
			}
			changed, err := c.confirmIn(tx, req, p, h, mark)
			if changed {
				result = fmt.Errorf("%w: who holds %q changed since the review was shown; look again", access.ErrConflict, h.Name)
			}
			return err
		})
	})
	return access.FirstErr(err, result)
}

// confirmIn records p's confirmation of h in tx, checking mark against
// what h's holding is in this same transaction: changed (nothing
// written) if it differs.
func (c *Credentials) confirmIn(tx barrier.Tx, req auditlog.Request, p *access.Principal, h *credHead, mark string) (changed bool, err error) {
	now := c.now()
	var live []*Grant
	if err := eachGrant(tx, func(g *Grant) error {
		if g.CredID == h.ID && g.active(now) {
			live = append(live, g)
		}
		return nil
	}); err != nil {
		return false, err
	}
	hd := holdingOf(h, live)
	if mark != "" && mark != hd.mark() {
		return true, nil
	}
	st, err := readReview(tx)
	if err != nil {
		return false, err
	}
	st.Confirmed[h.ID] = confirmation{At: now, By: p.Name, ByID: p.UserID, Version: hd.version, Assignees: hd.assignees, Grants: hd.grants}
	if err := putReview(tx, st); err != nil {
		return false, err
	}
	names, _, err := c.userNames(tx)
	if err != nil {
		return false, err
	}
	var holders []string
	for _, id := range hd.assignees {
		holders = append(holders, names[id])
	}
	for _, g := range live {
		holders = append(holders, names[g.UserID]+" (grant)")
	}
	who := strings.Join(holders, ", ")
	if who == "" {
		who = "(nobody)"
	}
	return false, c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ReviewConfirm,
		Target: audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}, Reason: fmt.Sprintf("version %d; holders confirmed: %s", h.Version, who)})
}

// SignOffReview signs the review under way off (clerk or provider): every
// live admin and shared credential must be confirmed, and still be as
// confirmed, checked in the same transaction that records the sign-off;
// otherwise it is refused as an input error on "credentials" naming them.
// The next review is due a year on.
func (c *Credentials) SignOffReview(ctx context.Context, req auditlog.Request, p *access.Principal) (*Signoff, error) {
	target := audit.Target{Kind: "review"}
	if !MayRunReview(p) {
		return nil, c.log.Deny(ctx, req, p, audit.ReviewSignoff, target, "only the clerk or a provider signs the access review off")
	}
	var out *Signoff
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			out, result = nil, nil
			st, open, err := c.unconfirmed(tx)
			if err != nil {
				return err
			}
			if len(open) > 0 {
				what := fmt.Sprintf("%d logins are", len(open))
				if len(open) == 1 {
					what = "1 login is"
				}
				result = access.Invalid("credentials", "the review cannot be signed off yet: %s not confirmed (%s); confirm each first",
					what, strings.Join(open, ", "))
				return nil
			}
			now := c.now()
			s := Signoff{At: now, By: p.Name, ByID: p.UserID, Confirmed: len(st.Confirmed), NextDue: now.AddDate(reviewYears, 0, 0)}
			st.Signoffs = append(st.Signoffs, s)
			if len(st.Signoffs) > maxSignoffs {
				st.Signoffs = st.Signoffs[len(st.Signoffs)-maxSignoffs:]
			}
			st.Confirmed = map[string]confirmation{}
			if err := putReview(tx, st); err != nil {
				return err
			}
			out = &s
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ReviewSignoff, Target: target,
				Reason: fmt.Sprintf("%d credentials confirmed; next review due by %s", s.Confirmed, s.NextDue.Format(time.DateOnly))})
		})
	})
	return out, access.FirstErr(err, result)
}

// unconfirmed reads the review in tx and names the live admin and shared
// credentials it does not (or no longer) confirm, sorted; confirmations
// of credentials since deleted are dropped from the state returned.
func (c *Credentials) unconfirmed(tx barrier.Tx) (reviewState, []string, error) {
	st, err := readReview(tx)
	if err != nil {
		return st, nil, err
	}
	now := c.now()
	grants := map[string][]*Grant{}
	if err := eachGrant(tx, func(g *Grant) error {
		if g.active(now) {
			grants[g.CredID] = append(grants[g.CredID], g)
		}
		return nil
	}); err != nil {
		return st, nil, err
	}
	var open []string
	kept := map[string]confirmation{}
	err = eachHead(tx, func(h *credHead) bool {
		if h.Deleted || h.Kind == access.KindPersonal {
			return true
		}
		conf, ok := st.Confirmed[h.ID]
		if !ok || !conf.confirms(holdingOf(h, grants[h.ID])) {
			open = append(open, h.Name)
			return true
		}
		kept[h.ID] = conf
		return true
	})
	st.Confirmed = kept
	sort.Strings(open)
	return st, open, err
}
