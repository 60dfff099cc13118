package vault

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

// TestPasswordHealth: every check finds what was planted and nothing
// else, the provider and the auditor read it and it is recorded as one
// entry of counts, everyone else is refused and recorded as denied, and
// no password (nor anything long enough to be a hash) appears in the
// report or in any entry.
func TestPasswordHealth(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	aud, _ := f.addUser(t, "Auditor", RoleAuditor)
	chair, _ := f.addUser(t, "Chairman", RoleChairman)
	member, _ := f.addUser(t, "Member", RoleMember)
	if err := f.v.SetMFAExempt(ctx, req, f.admin, "Member", true); err != nil {
		t.Fatal(err)
	}
	const (
		shared = "Plover-Quince-Mandolin-42"         // strong, used three times
		weak   = "parish2024"                        // weak
		strong = "Kestrel-Obelisk-Saffron-Umbra-913" // strong, used once
		own    = "Kestrel-Obelisk-Saffron-Umbra-913" // a personal credential's: never read
	)
	planted := []string{shared, weak, strong}
	put := func(p *Principal, in CredentialInput) {
		t.Helper()
		if _, _, err := f.v.PutCredential(ctx, req, p, in); err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
	}
	// Old and unchanged: set 400 days ago, later versions changed only who may use it.
	put(f.admin, CredentialInput{Name: "Router admin", Kind: "admin", URL: "192.168.1.1", Password: []byte(strong), Assignees: []string{"IT Provider"}})
	f.clock.Advance(400 * 24 * time.Hour)
	put(f.admin, CredentialInput{Name: "Router admin", Assignees: []string{"IT Provider", "Clerk"}})
	// Reused across three, one of them on a site that offers TOTP.
	put(f.admin, CredentialInput{Name: "Facebook page", Kind: "shared", URL: "https://www.facebook.com/parish", Password: []byte(shared), Assignees: []string{"Clerk"}})
	put(f.admin, CredentialInput{Name: "Website host", Kind: "admin", URL: "https://my.ionos.co.uk", Password: []byte(shared),
		TOTP: "JBSWY3DPEHPK3PXPJBSWY3DP", Assignees: []string{"IT Provider"}})
	put(clerk, CredentialInput{Name: "Newsletter", Kind: "shared", URL: "mailchimp.com", Password: []byte(shared), Assignees: []string{"Clerk"}})
	// Weak, with no web address; reported compromised and not rotated.
	put(f.admin, CredentialInput{Name: "Noticeboard PC", Kind: "shared", Password: []byte(weak), Assignees: []string{"Clerk"}})
	if err := f.v.MarkCompromised(ctx, req, clerk, "Noticeboard PC", "left on a sticky note"); err != nil {
		t.Fatal(err)
	}
	// A personal credential sharing a planted password: left out.
	put(member, CredentialInput{Name: "My bank", Kind: "personal", Password: []byte(own)})
	// A rotated compromise is no longer a finding; a retired credential is not checked.
	put(f.admin, CredentialInput{Name: "Old forum", Kind: "shared", URL: "https://forum.example.org", Password: []byte("Gannet-Tundra-Whistle-77"), Assignees: []string{"Clerk"}})
	if err := f.v.MarkCompromised(ctx, req, clerk, "Old forum", "phishing e-mail"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.RotateCredential(ctx, req, f.admin, "Old forum", []byte("Heron-Marble-Cobalt-Lantern-58"), nil); err != nil {
		t.Fatal(err)
	}
	put(f.admin, CredentialInput{Name: "Retired", Kind: "shared", Password: []byte(weak), Assignees: []string{"Clerk"}})
	if err := f.v.DeleteCredential(ctx, req, f.admin, "Retired"); err != nil {
		t.Fatal(err)
	}
	planted = append(planted, "Gannet-Tundra-Whistle-77", "Heron-Marble-Cobalt-Lantern-58")

	// Those who may not read it are refused, each refusal one denied entry.
	for _, p := range []*Principal{clerk, chair, member} {
		before := len(f.entries(t))
		if _, err := f.v.PasswordHealth(ctx, req, p, 0); !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s: %v", p.Role, err)
		}
		es := f.entries(t)
		if e := es[len(es)-1]; len(es) != before+1 || e.Action != audit.ReportPasswordHealth || e.Outcome != audit.OutcomeDenied || e.Actor.Name != p.Name {
			t.Fatalf("%s's refusal recorded as %+v (%d new entries)", p.Role, e, len(es)-before)
		}
	}
	if _, err := f.v.PasswordHealth(ctx, req, f.admin, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an age under a day: %v", err)
	} else if ie := (*InputError)(nil); !errors.As(err, &ie) || ie.Field != "older_than" {
		t.Fatalf("the age's error names %+v", ie)
	}

	for _, p := range []*Principal{f.admin, aud} {
		before := len(f.entries(t))
		rep, err := f.v.PasswordHealth(ctx, req, p, 365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Checked != 6 || rep.PersonalLeftOut != 1 || rep.OlderThanDays != 365 {
			t.Fatalf("checked %d, personal %d, days %d", rep.Checked, rep.PersonalLeftOut, rep.OlderThanDays)
		}
		if len(rep.Reused) != 1 || names(rep.Reused[0].Credentials) != "Facebook page, Newsletter, Website host" ||
			!strings.Contains(rep.Reused[0].Credentials[0].Detail, "Newsletter, Website host") {
			t.Fatalf("reused: %+v", rep.Reused)
		}
		if names(rep.Weak) != "Noticeboard PC" || rep.Weak[0].Strength == nil || *rep.Weak[0].Strength >= 3 {
			t.Fatalf("weak: %+v", rep.Weak)
		}
		if names(rep.Stale) != "Router admin" || !rep.Stale[0].Since.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) ||
			!strings.Contains(rep.Stale[0].Detail, "400 days") {
			t.Fatalf("stale (the version that only changed its assignees does not count): %+v", rep.Stale)
		}
		if names(rep.Compromised) != "Noticeboard PC" || !strings.Contains(rep.Compromised[0].Detail, "Clerk") {
			t.Fatalf("compromised: %+v", rep.Compromised)
		}
		// Facebook and Mailchimp offer TOTP and have none; the IONOS one has
		// a seed; the router (an IP address) and the forum (not listed)
		// are not judged; the noticeboard PC has no address to judge by.
		if names(rep.MissingTOTP) != "Facebook page, Newsletter" || rep.MissingTOTP[0].Site != "Facebook" || rep.MissingTOTP[0].Action != "add_totp" {
			t.Fatalf("missing TOTP: %+v", rep.MissingTOTP)
		}
		if names(rep.NoURL) != "Noticeboard PC" || rep.WithoutTOTP != 6-1 || rep.TOTPNotJudged != 2 {
			t.Fatalf("no URL %+v, without TOTP %d, not judged %d", rep.NoURL, rep.WithoutTOTP, rep.TOTPNotJudged)
		}
		if len(rep.AccountsWithoutMFA) != 1 || rep.AccountsWithoutMFA[0].Name != "Member" || rep.AccountsWithoutMFA[0].Role != RoleMember {
			t.Fatalf("accounts without MFA: %+v", rep.AccountsWithoutMFA)
		}
		es := f.entries(t)
		e := es[len(es)-1]
		if len(es) != before+1 || e.Action != audit.ReportPasswordHealth || e.Outcome != audit.OutcomeOK || e.Actor.Name != p.Name ||
			!strings.Contains(e.Reason, "6 admin and shared credentials checked") || !strings.Contains(e.Reason, "3 sharing a password in 1 groups, 1 weak, 1 stale") {
			t.Fatalf("the read is recorded as %+v (%d new entries)", e, len(es)-before)
		}
		for _, name := range []string{"Facebook", "Noticeboard", "Router", "Newsletter"} {
			if strings.Contains(e.Reason, name) {
				t.Fatalf("the entry names a credential: %s", e.Reason)
			}
		}
		out, _ := json.Marshal(rep)
		noSecrets(t, "the report", string(out), planted, true)
	}
	for _, e := range f.entries(t) {
		line, _ := json.Marshal(e) // its own ids and chain hashes are hex: only its reason is searched for hashes
		noSecrets(t, "an entry", string(line), planted, false)
		noSecrets(t, "an entry's reason", e.Reason, planted, true)
	}
}

// noSecrets fails if text holds a planted password, or a run of hex or
// base64 long enough to be a SHA-256 (a hash of one).
func noSecrets(t *testing.T, what, text string, planted []string, hashes bool) {
	t.Helper()
	for _, pw := range planted {
		if strings.Contains(text, pw) {
			t.Fatalf("%s holds the password %q: %s", what, pw, text)
		}
	}
	if m := hashLike.FindString(text); hashes && m != "" {
		t.Fatalf("%s holds %q, which could be a hash: %s", what, m, text)
	}
}

// hashLike: 40 hex digits, or 43 base64 characters, in a row (a SHA-256
// is 64 hex digits or 43 base64 characters).
var hashLike = regexp.MustCompile(`[0-9a-f]{40,}|[A-Za-z0-9+/_-]{43,}`)

func names(fs []HealthFinding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Credential)
	}
	return strings.Join(out, ", ")
}

// TestPasswordHealthFailsClosed: a report whose reading cannot be recorded
// is not returned.
func TestPasswordHealthFailsClosed(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Facebook page", "shared", "parish2024", "IT Provider")
	f.store.mu.Lock()
	f.store.failAudit = true
	f.store.mu.Unlock()
	rep, err := f.v.PasswordHealth(ctx, req, f.admin, 0)
	if !errors.Is(err, errDiskFull) || rep != nil {
		t.Fatalf("unrecorded report: %v %+v", err, rep)
	}
}
