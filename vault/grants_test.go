package vault

import (
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

func (f *fixture) canRead(t *testing.T, p *Principal, name string) bool {
	t.Helper()
	s, err := f.v.ReadCredential(ctx, req, p, name, 0)
	if err == nil {
		s.Destroy()
		return true
	}
	// Refused, or (to one who may not see it) answered as missing.
	if !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("read: %v", err)
	}
	return false
}

// Request, approve, expire, revoke, with a fake clock: no read succeeds
// outside a grant, and every refusal is recorded.
func TestGrantTimeline(t *testing.T) {
	f := newFixture(t)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Website admin", "admin", "pw", "IT Provider")
	// A contractor whose access ends in 3 hours.
	if _, err := f.v.CreateUser(ctx, req, f.admin, "Contractor", RoleMember, f.clock.Now().Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	con := f.principal(t, "Contractor")

	if f.canRead(t, con, "Website admin") {
		t.Fatal("read before any request")
	}
	if _, err := f.v.CreateRequest(ctx, req, con, "Website admin", "fix", time.Hour); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short reason: %v", err)
	}
	f.put(t, member, "Member's own bank", "personal", "pw")
	if _, err := f.v.CreateRequest(ctx, req, con, "Member's own bank", "I would like to see it", time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("request for a personal credential: %v", err)
	}
	r, err := f.v.CreateRequest(ctx, req, con, "Website admin", "update the site's plugins", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if f.canRead(t, con, "Website admin") {
		t.Fatal("read while the request is pending")
	}
	// Nobody decides their own request; members and providers do not decide at all.
	own, _ := f.v.CreateRequest(ctx, req, clerk, "Website admin", "clerk wants a look", time.Hour)
	if _, _, err := f.v.DecideRequest(ctx, req, clerk, own.ID, true, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("self-approval: %v", err)
	}
	if e := f.last(t); e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "own request") {
		t.Fatalf("self-approval entry %+v", e)
	}
	if _, _, err := f.v.DecideRequest(ctx, req, member, r.ID, true, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member approval: %v", err)
	}
	if pending, _ := f.v.ListRequests(ctx, chair); len(pending) != 2 || pending[0].Status != RequestPending {
		t.Fatalf("approver's list: %+v", pending)
	}
	if mine, _ := f.v.ListRequests(ctx, con); len(mine) != 1 {
		t.Fatalf("requester's list: %+v", mine)
	}
	if _, _, err := f.v.DecideRequest(ctx, req, member, r.ID, true, "two\nlines"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a member with a bad reason: %v, want refused as a member", err)
	}
	for _, bad := range []string{"two\nlines", strings.Repeat("é", 501), "bad \xff byte", "fine\u202egnirts", "line\u2028break"} {
		var fe *InputError
		if _, _, err := f.v.DecideRequest(ctx, req, chair, r.ID, true, bad); !errors.As(err, &fe) || fe.Field != "reason" {
			t.Fatalf("reason %.10q: %v", bad, err)
		}
	}
	if _, _, err := f.v.DecideRequest(ctx, req, chair, r.ID, false, strings.Repeat("é", 500)); err != nil { // 500 characters, 1,000 bytes
		t.Fatalf("a 500-character reason: %v", err)
	}
	r, err = f.v.CreateRequest(ctx, req, con, "Website admin", "update the site's plugins", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ar, g, err := f.v.DecideRequest(ctx, req, chair, r.ID, true, " until the plugins are done ")
	if err != nil || g.Until.Sub(f.clock.Now()) != 2*time.Hour || ar.DecisionReason != "until the plugins are done" {
		t.Fatalf("approve: %+v %+v %v", ar, g, err)
	}
	if e := f.last(t); !strings.HasSuffix(e.Reason, "; reason given: until the plugins are done") {
		t.Fatalf("approval entry %+v", e)
	}
	if _, _, err := f.v.DecideRequest(ctx, req, chair, r.ID, false, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("decided twice: %v", err)
	}
	if !f.canRead(t, con, "Website admin") {
		t.Fatal("read refused inside the grant")
	}
	if e := f.last(t); !strings.Contains(e.Reason, "grant "+g.ID) {
		t.Fatalf("grant read entry %+v", e)
	}
	f.clock.Advance(2*time.Hour + time.Second)
	if f.canRead(t, con, "Website admin") {
		t.Fatal("read after the grant expired")
	}
	if e := f.last(t); e.Outcome != audit.OutcomeDenied {
		t.Fatal("refusal after expiry not recorded")
	}
	// A second grant cannot outlive the account (which ends in 59 minutes).
	r2, _ := f.v.CreateRequest(ctx, req, con, "Website admin", "finish the plugin update", 5*time.Hour)
	_, g2, err := f.v.DecideRequest(ctx, req, chair, r2.ID, true, "")
	if err != nil || !g2.Until.Equal(f.clock.Now().Add(time.Hour-time.Second)) {
		t.Fatalf("grant outlives the account: %+v %v", g2, err)
	}
	// Revoked early.
	if err := f.v.RevokeGrant(ctx, req, member, g2.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member revoke: %v", err)
	}
	if err := f.v.RevokeGrant(ctx, req, clerk, g2.ID); err != nil {
		t.Fatal(err)
	}
	if f.canRead(t, con, "Website admin") {
		t.Fatal("read after revocation")
	}
	// After the end date the contractor cannot log in at all.
	f.clock.Advance(time.Hour)
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Contractor", Password: []byte("x"), TOTP: "000000"}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("expired contractor login: %v", err)
	}
	if _, _, err := f.v.DecideRequest(ctx, req, chair, own.ID, true, ""); err != nil {
		t.Fatalf("approving the clerk's own request by the chairman: %v", err)
	}
}

func TestExpiredContractorCannotLogIn(t *testing.T) {
	f := newFixture(t)
	otl, err := f.v.CreateUser(ctx, req, f.admin, "Contractor", RoleMember, f.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	in := LoginRequest{Name: "Contractor", Password: []byte(otl.Password), TOTP: code(t, otl.TOTPURI, f.clock.Now()), NewPassword: []byte("velvet tractor pebble")}
	tok, _, err := f.v.Login(ctx, req, in)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.v.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("a session outlived the account")
	}
	in.Password, in.NewPassword, in.TOTP = []byte("velvet tractor pebble"), nil, code(t, otl.TOTPURI, f.clock.Now())
	if _, _, err := f.v.Login(ctx, req, in); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("login after the end date: %v", err)
	}
	if e := f.last(t); !strings.Contains(e.Reason, "account ended") {
		t.Fatalf("entry %+v", e)
	}
	if _, err := f.v.CreateUser(ctx, req, f.admin, "Past", RoleMember, f.clock.Now().Add(-time.Minute)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("end date in the past: %v", err)
	}
}

func TestOffboardListsWhatToRotate(t *testing.T) {
	f := newFixture(t)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	clerk, otl := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")
	f.put(t, f.admin, "Website admin", "admin", "pw", "IT Provider")
	f.put(t, f.admin, "Bank", "admin", "pw", "IT Provider")
	r, _ := f.v.CreateRequest(ctx, req, clerk, "Website admin", "annual return upload", 48*time.Hour)
	f.v.DecideRequest(ctx, req, chair, r.ID, true, "")
	if !f.canRead(t, clerk, "Website admin") || !f.canRead(t, clerk, "Facebook page") {
		t.Fatal("setup reads failed")
	}
	tok, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: []byte(otl.Password), TOTP: code(t, otl.TOTPURI, f.clock.Now()),
		NewPassword: []byte("velvet tractor pebble")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Offboard(ctx, req, clerk, "Clerk", 90); !errors.Is(err, ErrForbidden) {
		t.Fatalf("clerk offboarding: %v", err)
	}
	rep, err := f.v.Offboard(ctx, req, f.admin, "clerk", 90)
	if err != nil || rep.GrantsRevoked != 1 || len(rep.Rotate) != 2 {
		t.Fatalf("offboard: %+v %v", rep, err)
	}
	if rep.Rotate[0].Credential != "Facebook page" || !strings.Contains(rep.Rotate[0].Why, "assigned") || rep.Rotate[0].Action != "rotate" ||
		rep.Rotate[1].Credential != "Website admin" || !strings.Contains(rep.Rotate[1].Why, "grant") || !strings.Contains(rep.Rotate[1].Why, "read 1 times") {
		t.Fatalf("rotate list: %+v", rep.Rotate)
	}
	if _, err := f.v.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("session survived offboarding")
	}
	if f.canRead(t, clerk, "Website admin") {
		t.Fatal("grant survived offboarding")
	}
	if e := f.last(t); e.Action != "cred.read" {
		t.Fatalf("last entry %+v", e)
	}
}

func TestAccessReviewRegister(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")
	f.put(t, f.admin, "Website admin", "admin", "pw", "IT Provider")
	f.put(t, member, "Own", "personal", "pw")
	f.canRead(t, clerk, "Facebook page")
	f.clock.Advance(100 * 24 * time.Hour)
	if err := f.v.ReviewCredential(ctx, req, member, "Facebook page"); !errors.Is(err, ErrNotFound) { // unseen: as if absent
		t.Fatalf("member review: %v", err)
	}
	if err := f.v.ReviewCredential(ctx, req, clerk, "Facebook page"); err != nil {
		t.Fatal(err)
	}
	reg, err := f.v.AccessReview(ctx, req, clerk, 90)
	if err != nil || len(reg) != 2 {
		t.Fatalf("register: %+v %v", reg, err)
	}
	// The never-reviewed admin login comes first, flagged; the reviewed one is not.
	if reg[0].Credential != "Website admin" || !reg[0].ReviewDue || reg[1].ReviewDue || reg[1].ReviewedBy != "Clerk" {
		t.Fatalf("flags: %+v", reg)
	}
	if h := reg[1].Holders; len(h) != 1 || h[0].Name != "Clerk" || h[0].Via != "assigned" || h[0].LastUsed.IsZero() {
		t.Fatalf("holders: %+v", h)
	}
	if _, err := f.v.AccessReview(ctx, req, member, 90); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member register: %v", err)
	}
}

// A request for an admin credential is the chairman's to approve (or,
// where the council chose so, a provider's who is not the requester); a
// shared one's the clerk's or the chairman's. Every refusal is recorded.
func TestRequestApprovers(t *testing.T) {
	for _, approver := range []AdminApprover{"", "provider"} {
		f := newFixtureConfig(t, BoltOptions{}, []string{"Chairman", "Vice-chair", "Clerk"}, 2, func(c *Config) { c.AdminApprover = approver })
		clerk, _ := f.addUser(t, "Clerk", RoleClerk)
		chair, _ := f.addUser(t, "Chairman", RoleChairman)
		member, _ := f.addUser(t, "Member", RoleMember)
		other, _ := f.addUser(t, "Second provider", RoleProvider)
		f.put(t, f.admin, "Router admin", "admin", "pw", "Second provider")
		f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")
		ask := func(p *Principal, cred string) string {
			t.Helper()
			r, err := f.v.CreateRequest(ctx, req, p, cred, "to fix the website", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
		decide := func(p *Principal, id string) error {
			_, _, err := f.v.DecideRequest(ctx, req, p, id, true, "")
			return err
		}
		adminReq := ask(member, "Router admin")
		for _, p := range []*Principal{clerk, member} {
			if err := decide(p, adminReq); !errors.Is(err, ErrForbidden) || f.last(t).Outcome != audit.OutcomeDenied {
				t.Fatalf("%s (approver %q) decided an admin request: %v", p.Role, approver, err)
			}
		}
		err := decide(f.admin, adminReq)
		if approver == "provider" {
			if err != nil {
				t.Fatalf("a provider, where the council chose so: %v", err)
			}
			// A provider's own request is never a provider's to approve.
			own := ask(f.admin, "Router admin")
			if err := decide(f.admin, own); !errors.Is(err, ErrForbidden) {
				t.Fatalf("a provider approved their own request: %v", err)
			}
			if err := decide(other, own); err != nil {
				t.Fatalf("another provider: %v", err)
			}
		} else {
			if !errors.Is(err, ErrForbidden) || !strings.Contains(f.last(t).Reason, "decided by the chairman") {
				t.Fatalf("a provider approved an admin request by default: %v %+v", err, f.last(t))
			}
			if err := decide(chair, adminReq); err != nil {
				t.Fatalf("the chairman: %v", err)
			}
		}
		sharedReq := ask(member, "Facebook page")
		if err := decide(f.admin, sharedReq); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a provider decided a shared request: %v", err)
		}
		if err := decide(clerk, sharedReq); err != nil {
			t.Fatalf("the clerk, a shared request: %v", err)
		}
	}
}
