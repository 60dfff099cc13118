// The password health report: which of the council's admin and shared
// passwords are used for more than one login, easy to guess, unchanged
// for too long or reported compromised and not yet rotated, which lack a
// TOTP where the site offers one, and which accounts sign in without a
// second factor. It is worked out inside the vault and shows no secret.

package credentials

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/awnumar/memguard"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// HealthReport is the password health report. It names credentials and
// accounts and says what is wrong with each, in plain words; it holds no
// password, no hash of one, and nothing worked out from one but a
// strength score.
type HealthReport struct {
	Generated time.Time `json:"generated"`
	// OlderThanDays is the age past which an unchanged password is stale.
	OlderThanDays int `json:"older_than_days"`
	// Checked counts the live admin and shared credentials checked.
	Checked int `json:"checked"`
	// PersonalLeftOut counts the live personal credentials, which are
	// their owners' alone: the report never reads them.
	PersonalLeftOut int `json:"personal_left_out"`
	// WithoutTOTP counts the checked credentials with no TOTP seed stored;
	// TOTPNotJudged, those of them whose site is not on the built-in list,
	// or whose web address is not a site's, so the report cannot say
	// whether it offers one.
	WithoutTOTP   int `json:"without_totp"`
	TOTPNotJudged int `json:"totp_not_judged"`
	// Reused: groups of credentials that share one password.
	Reused []ReusedPassword `json:"reused"`
	// Weak: a zxcvbn score below 3 (passwords.Strength), or no password.
	Weak []HealthFinding `json:"weak"`
	// Stale: the password unchanged for longer than OlderThanDays.
	Stale []HealthFinding `json:"stale"`
	// Compromised: reported compromised and not rotated since.
	Compromised []HealthFinding `json:"compromised"`
	// MissingTOTP: no TOTP seed stored, though the site offers TOTP.
	MissingTOTP []HealthFinding `json:"missing_totp"`
	// NoURL: no TOTP seed stored and no web address to judge by.
	NoURL []HealthFinding `json:"no_url"`
	// AccountsWithoutMFA: the vault's own accounts that sign in without a
	// second factor (members a provider exempted).
	AccountsWithoutMFA []AccountFinding `json:"accounts_without_mfa"`
}

// HealthFinding is one credential the report flags and why.
type HealthFinding struct {
	Credential string      `json:"credential"`
	Kind       access.Kind `json:"kind"`
	// Detail says what is wrong in plain words.
	Detail string `json:"detail"`
	// Strength is the zxcvbn score (weak passwords only).
	Strength *int `json:"strength,omitempty"`
	// Since is when the password was set (stale) or reported (compromised).
	Since time.Time `json:"since,omitempty"`
	// Site is the service offering TOTP (missing TOTP only).
	Site string `json:"site,omitempty"`
	// Action is what to do: "rotate" (change the password), "add_totp"
	// (turn on the site's authenticator app and store its seed) or
	// "add_url" (record the web address).
	Action string `json:"action"`
}

// ReusedPassword is a group of credentials whose current passwords are the
// same. Which password it is, or anything worked out from it, is never
// part of the report.
type ReusedPassword struct {
	Credentials []HealthFinding `json:"credentials"`
}

// AccountFinding is one of the vault's accounts that signs in without a
// second factor.
type AccountFinding struct {
	Name   string      `json:"name"`
	Role   access.Role `json:"role"`
	Detail string      `json:"detail"`
	// Action is "end_exemption" (user mfa-exempt NAME --off).
	Action string `json:"action"`
}

// The report's bounds and default.
const (
	// DefaultHealthAge is how old an unchanged password may be before the
	// report calls it stale, unless the caller says otherwise.
	DefaultHealthAge = 365 * 24 * time.Hour
	// MinHealthAge and MaxHealthAge bound the age a caller may ask for.
	MinHealthAge = 24 * time.Hour
	MaxHealthAge = 3650 * 24 * time.Hour
)

// The walk's sizes: variables so that tests can make them small.
var (
	// healthChunk is how many heads one read transaction of the report
	// visits (the store contract: long work in short transactions).
	healthChunk = 256
	// healthBytes is the locked buffer the passwords of one chunk are
	// held in between their read and their scoring; a chunk ends early
	// when the next password would not fit.
	healthBytes = 256 << 10
	// healthWalk is how many versions before the current one are compared
	// to find when its password was set.
	healthVersions = 64
	// newHealthKey makes a report's HMAC key (tests fix it, to look for
	// the hashes in what the report and the log say).
	newHealthKey = func() *memguard.LockedBuffer { return memguard.NewBufferRandom(sha256.Size) }
)

// PasswordHealth works out the password health report over the live admin
// and shared credentials and the vault's accounts, for a provider or the
// auditor (access.MayReadHealth); anyone else is refused and the refusal
// recorded. olderThan (0: DefaultHealthAge) is the age past which an
// unchanged password is stale.
//
// Each credential's current version is opened inside the vault, in read
// transactions of healthChunk heads with the keys held only for that
// read; its password is copied into one locked buffer and the decoded
// record wiped. Outside the transaction, with the keys given back (a seal
// can happen between chunks; the report then fails as sealed), each
// password is scored (passwords.Strength) and hashed with HMAC-SHA-256
// under a key of 32 random bytes made for this report, held in a locked
// buffer and destroyed when it returns; then the buffer is wiped. Reuse
// is found by comparing these hashes in memory: neither key nor hash is
// ever stored, logged or returned. Credentials are read as each chunk
// finds them, so the report is not one snapshot of the vault.
//
// Reading it is one report.password_health entry, committed before the
// report is returned, giving the age asked for and the count of each
// finding but no credential's name. One report is made at a time; a
// second asked meanwhile is access.ErrBusy.
func (c *Credentials) PasswordHealth(ctx context.Context, req auditlog.Request, p *access.Principal, olderThan time.Duration) (*HealthReport, error) {
	target := audit.Target{Kind: "report", Name: "password health"}
	if !access.MayReadHealth(p) {
		return nil, c.log.Deny(ctx, req, p, audit.ReportPasswordHealth, target, "only a provider or the auditor reads the password health report")
	}
	if olderThan == 0 {
		olderThan = DefaultHealthAge
	}
	if olderThan < MinHealthAge || olderThan > MaxHealthAge {
		return nil, access.Invalid("older_than", "older_than must be from %d to %d days", int(MinHealthAge.Hours()/24), int(MaxHealthAge.Hours()/24))
	}
	select {
	case c.health <- struct{}{}:
		defer func() { <-c.health }()
	default:
		return nil, fmt.Errorf("%w: a password health report is being made for someone else; try again when it has finished", access.ErrBusy)
	}
	w := &healthWalk{now: c.now(), olderThan: olderThan, groups: map[[sha256.Size]byte][]int{}}
	if err := c.walkHealth(ctx, w); err != nil {
		return nil, err
	}
	var people []access.Person
	if err := c.barrier.View(ctx, func(tx barrier.Tx) (err error) {
		people, err = c.people.All(tx)
		return err
	}); err != nil {
		return nil, err
	}
	rep := w.report(people)
	if err := c.log.Record(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ReportPasswordHealth,
		Target: target, Reason: rep.summary()}); err != nil {
		return nil, err
	}
	return rep, nil
}

// walkHealth reads and scores every credential, a chunk at a time.
func (c *Credentials) walkHealth(ctx context.Context, w *healthWalk) error {
	key := newHealthKey()
	defer key.Destroy()
	held := memguard.NewBuffer(healthBytes)
	defer held.Destroy()
	var from []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk, next, err := c.readHealthChunk(ctx, w, from, held.Bytes())
		if err != nil {
			held.Wipe()
			return err
		}
		w.score(chunk, held.Bytes(), key.Bytes())
		held.Wipe()
		if next == nil {
			return nil
		}
		from = next
		c.pause("health.chunk")
	}
}

// healthItem is what the report keeps of one credential: names, dates and
// a score, never its password.
type healthItem struct {
	name, url, username string
	kind                access.Kind
	hasTOTP             bool
	compromised         *Compromise
	// changed is when the current password was set; atLeast says older
	// versions were left uncompared, so it was set no later than that.
	changed  time.Time
	atLeast  bool
	empty    bool
	strength int
	// off and n place the password in the chunk's locked buffer, until
	// the chunk is scored.
	off, n int
}

// readHealthChunk reads, in one read transaction with the keys held, the
// credentials of up to healthChunk heads from the store key from on,
// copying each current password into held; next is where the next chunk
// starts (nil: none).
func (c *Credentials) readHealthChunk(ctx context.Context, w *healthWalk, from []byte, held []byte) (chunk []healthItem, next []byte, err error) {
	var personal int
	err = c.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			chunk, next, personal = nil, nil, 0
			used, seen := 0, 0
			var failed error
			err := eachHeadFrom(tx, from, func(hd *credHead) bool {
				if seen == healthChunk {
					next = headsAt(hd.ID)
					return false
				}
				seen++
				switch {
				case hd.Deleted:
					return true
				case hd.Kind == access.KindPersonal:
					personal++
					return true
				}
				it, pw, err := passwordSince(tx, hd)
				if err != nil {
					failed = err
					return false
				}
				defer barrier.Wipe(pw)
				if used+len(pw) > len(held) {
					if used == 0 {
						failed = fmt.Errorf("vault: the password of credential %q is longer than the report can hold", hd.Name)
					}
					next = headsAt(hd.ID)
					return false
				}
				it.off, it.n = used, copy(held[used:], pw)
				used += it.n
				chunk = append(chunk, it)
				return true
			})
			return access.FirstErr(err, failed)
		})
	})
	if err != nil {
		return nil, nil, err
	}
	w.personal += personal
	return chunk, next, nil
}

// passwordSince opens hd's current version and returns its password (the
// caller wipes it) with what the report keeps of the credential. It walks
// back through the versions before it while they hold the same password
// (compared in constant time) to find when that password was set: a
// version that changed only the user name, the notes or who may use it
// did not change the password. At most healthVersions versions are compared.
func passwordSince(tx barrier.Tx, hd *credHead) (healthItem, []byte, error) {
	it := healthItem{name: hd.Name, kind: hd.Kind, url: hd.URL, username: hd.Username, hasTOTP: hd.HasTOTP,
		compromised: hd.Compromised}
	var cur credVersion
	if ok, err := tx.GetRecord(storage.BucketCredentials, versionKey(hd.ID, hd.Version), &cur); err != nil || !ok {
		cur.wipe()
		return it, nil, access.FirstErr(err, fmt.Errorf("vault: credential %q has no version %d", hd.Name, hd.Version))
	}
	pw := cur.Password
	cur.Password = nil
	cur.wipe()
	it.changed, it.empty = cur.Created, len(pw) == 0
	for ver := hd.Version - 1; ver >= 1; ver-- {
		if hd.Version-ver > healthVersions {
			it.atLeast = true
			break
		}
		var old credVersion
		ok, err := tx.GetRecord(storage.BucketCredentials, versionKey(hd.ID, ver), &old)
		same := ok && err == nil && subtle.ConstantTimeCompare(old.Password, pw) == 1
		created := old.Created
		old.wipe()
		if err != nil {
			barrier.Wipe(pw)
			return it, nil, err
		}
		if !same || created.IsZero() {
			break
		}
		it.changed = created
	}
	if it.changed.IsZero() {
		it.changed = hd.Created
	}
	return it, pw, nil
}
