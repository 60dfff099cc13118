// The password health report's scoring and findings: what each chunk's
// passwords are worth, which share one, and the report in plain words.

package credentials

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/passwords"
)

// healthWalk is a report being made: what is kept of each credential read
// so far, and the keyed hashes of their passwords, which live only until
// the report is made.
type healthWalk struct {
	now       time.Time
	olderThan time.Duration
	items     []healthItem
	personal  int
	groups    map[[sha256.Size]byte][]int // keyed hash -> indexes into items
}

// score scores and hashes a chunk's passwords, held in buf, on every CPU
// (zxcvbn is the report's cost), and adds the chunk to the walk. key is
// the report's HMAC key; each worker's HMAC holds pads derived from it on
// the Go heap until the chunk is scored, after which they are garbage.
func (w *healthWalk) score(chunk []healthItem, buf, key []byte) {
	sums := make([][sha256.Size]byte, len(chunk))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunk)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mac := hmac.New(sha256.New, key)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(chunk) {
					return
				}
				it := &chunk[i]
				pw := buf[it.off : it.off+it.n]
				mac.Reset()
				mac.Write(pw)
				mac.Sum(sums[i][:0])
				it.strength = passwords.Strength(pw, strengthHints(it))
			}
		}()
	}
	wg.Wait()
	for i := range chunk {
		chunk[i].off, chunk[i].n = 0, 0
		if !chunk[i].empty { // no password is weak, not shared
			w.groups[sums[i]] = append(w.groups[sums[i]], len(w.items))
		}
		w.items = append(w.items, chunk[i])
	}
	clear(sums)
}

// strengthHints are the words zxcvbn counts as guessable for a credential:
// its name, its user name, the site's name and the council's own words.
func strengthHints(it *healthItem) []string {
	hints := []string{it.name, it.username, "council", "parish", "strongroom"}
	if w := siteWord(it.url); w != "" {
		hints = append(hints, w)
	}
	return hints
}

// report makes the report from the walk and the vault's accounts, and
// forgets the keyed hashes.
func (w *healthWalk) report(people []access.Person) *HealthReport {
	rep := &HealthReport{Generated: w.now, OlderThanDays: int(w.olderThan / (24 * time.Hour)), Checked: len(w.items),
		PersonalLeftOut: w.personal, Reused: []ReusedPassword{}, Weak: []HealthFinding{}, Stale: []HealthFinding{},
		Compromised: []HealthFinding{}, MissingTOTP: []HealthFinding{}, NoURL: []HealthFinding{},
		AccountsWithoutMFA: []AccountFinding{}}
	byName := func(a, b *healthItem) int { return cmp.Compare(access.NameKey(a.name), access.NameKey(b.name)) }
	for _, idx := range w.groups {
		if len(idx) < 2 {
			continue
		}
		members := make([]*healthItem, len(idx))
		for i, j := range idx {
			members[i] = &w.items[j]
		}
		slices.SortFunc(members, byName)
		g := ReusedPassword{}
		for _, m := range members {
			var others []string
			for _, o := range members {
				if o != m {
					others = append(others, o.name)
				}
			}
			g.Credentials = append(g.Credentials, HealthFinding{Credential: m.name, Kind: m.kind, Action: "rotate",
				Detail: "the same password as " + strings.Join(others, ", ")})
		}
		rep.Reused = append(rep.Reused, g)
	}
	clear(w.groups)
	slices.SortFunc(rep.Reused, func(a, b ReusedPassword) int {
		return cmp.Or(cmp.Compare(len(b.Credentials), len(a.Credentials)),
			cmp.Compare(access.NameKey(a.Credentials[0].Credential), access.NameKey(b.Credentials[0].Credential)))
	})
	slices.SortFunc(w.items, func(a, b healthItem) int { return byName(&a, &b) })
	for i := range w.items {
		w.findings(rep, &w.items[i])
	}
	for _, u := range people {
		if u.MFAExempt && !u.Disabled && !u.Expired(w.now) {
			rep.AccountsWithoutMFA = append(rep.AccountsWithoutMFA, AccountFinding{Name: u.Name, Role: u.Role, Action: "end_exemption",
				Detail: "a provider exempted this account from the authenticator code: its password alone signs in"})
		}
	}
	slices.SortFunc(rep.AccountsWithoutMFA, func(a, b AccountFinding) int { return cmp.Compare(access.NameKey(a.Name), access.NameKey(b.Name)) })
	return rep
}

// strengthWords say what each zxcvbn score below 3 means.
var strengthWords = [3]string{"too easy to guess", "very easy to guess", "easy to guess"}

// findings adds what is wrong with one credential to rep.
func (w *healthWalk) findings(rep *HealthReport, it *healthItem) {
	f := func(detail, action string) HealthFinding {
		return HealthFinding{Credential: it.name, Kind: it.kind, Detail: detail, Action: action}
	}
	switch {
	case it.empty:
		weak := f("no password is stored", "rotate")
		weak.Strength = new(int)
		rep.Weak = append(rep.Weak, weak)
	case it.strength < 3:
		weak := f(fmt.Sprintf("strength %d of 4: %s", it.strength, strengthWords[it.strength]), "rotate")
		score := it.strength
		weak.Strength = &score
		rep.Weak = append(rep.Weak, weak)
	}
	if age := w.now.Sub(it.changed); age > w.olderThan {
		days := int(age / (24 * time.Hour))
		detail := fmt.Sprintf("unchanged since %s (%d days)", it.changed.Format("2 January 2006"), days)
		if it.atLeast {
			detail = fmt.Sprintf("unchanged for at least %d days (only its last %d versions were compared)", days, healthVersions+1)
		}
		stale := f(detail, "rotate")
		stale.Since = it.changed
		rep.Stale = append(rep.Stale, stale)
	}
	if cp := it.compromised; cp != nil {
		bad := f(fmt.Sprintf("reported compromised by %s on %s (%s) and not rotated since", cp.By,
			cp.Since.Format("2 January 2006"), cp.Reason), "rotate")
		bad.Since = cp.Since
		rep.Compromised = append(rep.Compromised, bad)
	}
	if it.hasTOTP {
		return
	}
	rep.WithoutTOTP++
	switch judged, site := judgeSite(it.url); judged {
	case siteNoURL:
		rep.NoURL = append(rep.NoURL, f("no web address is recorded, so the report cannot tell whether the site offers TOTP", "add_url"))
	case siteOffersTOTP:
		missing := f(site+" offers an authenticator app (TOTP) and no TOTP seed is stored", "add_totp")
		missing.Site = site
		rep.MissingTOTP = append(rep.MissingTOTP, missing)
	default:
		rep.TOTPNotJudged++
	}
}

// summary is the report's audit entry reason: the age asked for and how
// many of each finding, never which credentials. The log is readable
// without the keys (a stolen copy of the database shows it), so it must
// not point at the weakest logins.
func (r *HealthReport) summary() string {
	reused := 0
	for _, g := range r.Reused {
		reused += len(g.Credentials)
	}
	return fmt.Sprintf("stale after %d days; %d admin and shared credentials checked (%d personal left out): "+
		"%d sharing a password in %d groups, %d weak, %d stale, %d compromised and not rotated, "+
		"%d without TOTP where the site offers it, %d with no web address to judge by; %d accounts without a second factor",
		r.OlderThanDays, r.Checked, r.PersonalLeftOut, reused, len(r.Reused), len(r.Weak), len(r.Stale), len(r.Compromised),
		len(r.MissingTOTP), len(r.NoURL), len(r.AccountsWithoutMFA))
}
