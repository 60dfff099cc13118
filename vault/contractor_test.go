package vault

import (
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"strongroom/vault/identity"
	"strongroom/vault/storage"
)

// addContractor adds a contractor under agreement ref covering scope,
// ending in a week.
func (f *fixture) addContractor(t testing.TB, name, ref string, scope ...string) (*Principal, OneTimeLogin) {
	t.Helper()
	otl, err := f.v.CreatePerson(ctx, req, f.admin, NewPerson{Name: name, Role: RoleMember, Expires: f.clock.Now().Add(7 * 24 * time.Hour),
		Contract: &Contract{Agreement: ref, Scope: scope}})
	if err != nil {
		t.Fatal(err)
	}
	return f.principal(t, name), otl
}

func TestContractorScopeIsRecorded(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website admin", "admin", "pw")
	f.put(t, f.admin, "Website FTP", "shared", "pw")
	f.addContractor(t, "Web Co", "WEB-2026-04", "website admin", "Website FTP", "Website admin")
	if e := f.last(t); e.Action != audit.UserCreate || !strings.Contains(e.Reason, "contractor under agreement WEB-2026-04, scope: Website admin, Website FTP") {
		t.Fatalf("entry %+v", e)
	}
	users, err := f.v.ListUsers(ctx, req, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	var got *User
	for i := range users {
		if users[i].Name == "Web Co" {
			got = &users[i]
		}
	}
	if got == nil || !got.Contractor || got.Agreement != "WEB-2026-04" || strings.Join(got.Scope, "|") != "Website admin|Website FTP" ||
		got.Expires.IsZero() || got.Overdue || !got.Completed.IsZero() {
		t.Fatalf("listed as %+v", got)
	}
}

func TestContractorBadInputRefused(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website admin", "admin", "pw")
	f.put(t, f.admin, "Own", "personal", "pw")
	week := f.clock.Now().Add(7 * 24 * time.Hour)
	ok := Contract{Agreement: "WEB-1", Scope: []string{"Website admin"}}
	cases := []struct {
		name  string
		np    NewPerson
		field string
	}{
		{"not a member", NewPerson{Name: "A", Role: RoleClerk, Expires: week, Contract: &ok}, "role"},
		{"no end date", NewPerson{Name: "B", Role: RoleMember, Contract: &ok}, "expires"},
		{"no agreement", NewPerson{Name: "C", Role: RoleMember, Expires: week, Contract: &Contract{Scope: ok.Scope}}, "agreement"},
		{"agreement on two lines", NewPerson{Name: "D", Role: RoleMember, Expires: week, Contract: &Contract{Agreement: "A\nB", Scope: ok.Scope}}, "agreement"},
		{"no scope", NewPerson{Name: "E", Role: RoleMember, Expires: week, Contract: &Contract{Agreement: "WEB-1"}}, "scope"},
		{"unknown credential", NewPerson{Name: "F", Role: RoleMember, Expires: week, Contract: &Contract{Agreement: "WEB-1", Scope: []string{"Website admin", "Nope"}}}, "scope"},
		{"personal credential", NewPerson{Name: "G", Role: RoleMember, Expires: week, Contract: &Contract{Agreement: "WEB-1", Scope: []string{"Own"}}}, "scope"},
	}
	before := len(f.entries(t))
	for _, c := range cases {
		_, err := f.v.CreatePerson(ctx, req, f.admin, c.np)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("%s: %v; want an input error on %q", c.name, err, c.field)
		}
	}
	if _, err := f.v.CreatePerson(ctx, req, f.admin, NewPerson{Name: "F", Role: RoleMember, Expires: week}); err != nil {
		t.Fatalf("nothing was left behind by a refusal: %v", err)
	}
	if n := len(f.entries(t)) - before; n != 1 {
		t.Fatalf("%d entries; want the one account made", n)
	}
}

func TestContractorRequestsStayInScope(t *testing.T) {
	f := newFixture(t)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Website admin", "admin", "pw")
	f.put(t, f.admin, "Bank", "admin", "pw")
	web, _ := f.addContractor(t, "Web Co", "WEB-2026-04", "Website admin")
	r, err := f.v.CreateRequest(ctx, req, web, "Website admin", "plugin update", 2*time.Hour)
	if err != nil {
		t.Fatalf("in scope: %v", err)
	}
	if _, _, err := f.v.DecideRequest(ctx, req, chair, r.ID, true, ""); err != nil || !f.canRead(t, web, "Website admin") {
		t.Fatalf("approved in-scope request: %v", err)
	}
	for _, name := range []string{"Bank", "No such login"} {
		before := len(f.entries(t))
		_, err := f.v.CreateRequest(ctx, req, web, name, "look at the bank", 2*time.Hour)
		var se *ScopeError
		if !errors.As(err, &se) || !errors.Is(err, ErrForbidden) || se.Field != "cred" ||
			!strings.Contains(err.Error(), `cred: "`+name+`" is outside the scope of agreement WEB-2026-04`) {
			t.Fatalf("out of scope %q: %v", name, err)
		}
		es := f.entries(t)[before:]
		if len(es) != 1 || es[0].Action != audit.RequestCreate || es[0].Outcome != audit.OutcomeDenied || es[0].Actor.ID != web.UserID ||
			es[0].Target.Name != name || !strings.Contains(es[0].Reason, "outside the scope of Web Co's agreement WEB-2026-04") {
			t.Fatalf("out of scope %q: entries %+v", name, es)
		}
	}
	// A name that could not be a credential's is not written to the log.
	before := len(f.entries(t))
	var ie *InputError
	if _, err := f.v.CreateRequest(ctx, req, web, strings.Repeat("x", 300), "look at the bank", 2*time.Hour); !errors.As(err, &ie) || ie.Field != "cred" ||
		len(f.entries(t)) != before {
		t.Fatalf("an overlong name: %v", err)
	}
	// Nobody can hand a contractor what the agreement does not cover.
	_, _, err = f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "Bank", Assignees: []string{"Web Co"}})
	if !errors.As(err, &ie) || ie.Field != "assignees" || !strings.Contains(err.Error(), "WEB-2026-04") {
		t.Fatalf("assigning out of scope: %v", err)
	}
	if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "New site", Kind: "shared", Password: []byte("pw"),
		Assignees: []string{"Web Co"}}); !errors.As(err, &ie) || ie.Field != "assignees" {
		t.Fatalf("assigning a new credential: %v", err)
	}
	if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "Website admin", Assignees: []string{"Web Co"}}); err != nil {
		t.Fatalf("assigning in scope: %v", err)
	}
}

func TestCompleteContractor(t *testing.T) {
	f := newFixture(t)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	member, _ := f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Website admin", "admin", "pw")
	f.put(t, f.admin, "Website FTP", "shared", "pw")
	web, otl := f.addContractor(t, "Web Co", "WEB-2026-04", "Website admin", "Website FTP")
	f.put(t, f.admin, "Website FTP", "", "", "Web Co")
	r, _ := f.v.CreateRequest(ctx, req, web, "Website admin", "plugin update", 2*time.Hour)
	if _, _, err := f.v.DecideRequest(ctx, req, chair, r.ID, true, ""); err != nil || !f.canRead(t, web, "Website admin") {
		t.Fatalf("setup: %v", err)
	}
	tok, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Web Co", Password: []byte(otl.Password), TOTP: code(t, otl.TOTPURI, f.clock.Now()),
		NewPassword: []byte("velvet tractor pebble")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.CompleteContractor(ctx, req, member, "Web Co"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a member completing: %v", err)
	}
	var ie *InputError
	if _, err := f.v.CompleteContractor(ctx, req, f.admin, "Member"); !errors.As(err, &ie) || !strings.Contains(err.Error(), "strongroom user offboard") {
		t.Fatalf("completing a member who is not a contractor: %v", err)
	}
	if _, err := f.v.Authenticate(ctx, tok); err != nil {
		t.Fatalf("refusals ended the session: %v", err)
	}
	f.clock.Advance(time.Hour)
	rep, err := f.v.CompleteContractor(ctx, req, f.admin, "web co")
	if err != nil || rep.GrantsRevoked != 1 || len(rep.Rotate) != 2 || !rep.SessionsEnded {
		t.Fatalf("complete: %+v %v", rep, err)
	}
	if rep.Rotate[0].Credential != "Website FTP" || rep.Rotate[0].Why != "assigned" ||
		rep.Rotate[1].Credential != "Website admin" || !strings.Contains(rep.Rotate[1].Why, "grant until") || !strings.Contains(rep.Rotate[1].Why, "read 1 times") {
		t.Fatalf("rotate: %+v", rep.Rotate)
	}
	e := f.last(t)
	if e.Action != audit.UserComplete || e.Outcome != audit.OutcomeOK || e.Target.Name != "Web Co" ||
		!strings.Contains(e.Reason, "agreement WEB-2026-04 completed") || !strings.Contains(e.Reason, "rotate: Website FTP, Website admin") {
		t.Fatalf("entry %+v", e)
	}
	if _, err := f.v.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("session survived completion")
	}
	if f.canRead(t, web, "Website admin") {
		t.Fatal("grant survived completion")
	}
	if _, err := f.v.CompleteContractor(ctx, req, f.admin, "Web Co"); !errors.As(err, &ie) || !strings.Contains(err.Error(), "already") {
		t.Fatalf("completing twice: %v", err)
	}
	users, _ := f.v.ListUsers(ctx, req, f.admin)
	for _, u := range users {
		if u.Name == "Web Co" && (!u.Disabled || u.Completed.IsZero() || u.Overdue) {
			t.Fatalf("listed as %+v", u)
		}
	}
}

func TestOverdueContractors(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website admin", "admin", "pw")
	f.addContractor(t, "Web Co", "WEB-1", "Website admin")
	f.addContractor(t, "Done Co", "WEB-2", "Website admin")
	if _, err := f.v.CreateUser(ctx, req, f.admin, "Temp member", RoleMember, f.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := f.v.OverdueContractors(ctx); err != nil || len(got) != 0 {
		t.Fatalf("before the end date: %+v %v", got, err)
	}
	if _, err := f.v.CompleteContractor(ctx, req, f.admin, "Done Co"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(8 * 24 * time.Hour)
	got, err := f.v.OverdueContractors(ctx)
	if err != nil || len(got) != 1 || got[0].Name != "Web Co" || got[0].Agreement != "WEB-1" || got[0].Scope[0] != "Website admin" {
		t.Fatalf("overdue: %+v %v", got, err)
	}
	users, _ := f.v.ListUsers(ctx, req, f.admin)
	for _, u := range users {
		if (u.Name == "Web Co") != u.Overdue {
			t.Fatalf("listed as %+v", u)
		}
	}
	if _, err := f.v.CompleteContractor(ctx, req, f.admin, "Web Co"); err != nil {
		t.Fatalf("completing an ended contractor: %v", err)
	}
	if got, err := f.v.OverdueContractors(ctx); err != nil || len(got) != 0 {
		t.Fatalf("after completion: %+v %v", got, err)
	}
}

// An approval checks the requester's agreement as it is when approved,
// not as it was when asked: a request the scope no longer covers (here the
// stored scope is changed under it) is refused and recorded, and no grant
// is made.
func TestApprovalRechecksScope(t *testing.T) {
	f := newFixture(t)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	f.put(t, f.admin, "Website admin", "admin", "pw")
	f.put(t, f.admin, "Website FTP", "shared", "pw")
	web, _ := f.addContractor(t, "Web Co", "WEB-1", "Website admin")
	r, err := f.v.CreateRequest(ctx, req, web, "Website admin", "plugin update", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	err = f.v.barrier.Write(ctx, func(tx barrier.Tx) error {
		u, err := identity.Find(tx, "Web Co")
		if err != nil || u == nil {
			return errors.Join(err, errors.New("no Web Co"))
		}
		u.Contractor = &Agreement{Ref: "WEB-2", Scope: []access.ScopeItem{{ID: "elsewhere", Name: "Website FTP"}}, Since: u.Contractor.Since}
		return tx.PutRecord(storage.BucketUsers, u.ID, u)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, g, err := f.v.DecideRequest(ctx, req, chair, r.ID, true, ""); !errors.Is(err, ErrForbidden) || g != nil {
		t.Fatalf("approval outside the scope: %v, grant %v", err, g)
	}
	if e := f.last(t); e.Action != audit.RequestApprove || e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "agreement WEB-2 does not cover Website admin") {
		t.Fatalf("entry %+v", e)
	}
	if f.canRead(t, web, "Website admin") {
		t.Fatal("a grant was made")
	}
}

// The annual review lists a contractor past their end date whose work was
// never marked completed, disabled or not, with the agreement (as the
// home page's notice does); once completed, no longer.
func TestReviewListsContractorsOverdue(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website admin", "admin", "pw")
	f.addContractor(t, "Web Co", "WEB-2026-04", "Website admin")
	f.clock.Advance(8 * 24 * time.Hour)
	if err := f.v.DisableUser(ctx, req, f.admin, "Web Co"); err != nil {
		t.Fatal(err)
	}
	overdue := func() []string {
		r, err := f.v.AnnualReview(ctx, req, f.admin)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range r.Overdue {
			out = append(out, o.Name+"/"+o.Agreement)
		}
		return out
	}
	if got := overdue(); len(got) != 1 || got[0] != "Web Co/WEB-2026-04" {
		t.Fatalf("overdue in the review: %v", got)
	}
	if _, err := f.v.CompleteContractor(ctx, req, f.admin, "Web Co"); err != nil {
		t.Fatal(err)
	}
	if got := overdue(); len(got) != 0 {
		t.Fatalf("after completion: %v", got)
	}
}
