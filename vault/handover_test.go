package vault

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"strongroom/audit"
)

const handedPassword = "Xcom-council-8f3kq!"

// handOver is the councillor's hand-over of the council's X login.
func (f *fixture) handOver(t *testing.T, p *Principal, name string) CredentialInfo {
	t.Helper()
	info, err := f.v.HandOver(ctx, req, p, HandoverInput{Name: name, Username: "@DraytonBassettPC", URL: "https://x.com",
		Password: []byte(handedPassword), TOTP: "JBSWY3DPEHPK3PXP", Reason: "I ran the account until May"})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func readsPassword(t *testing.T, f *fixture, p *Principal, name string) (bool, error) {
	t.Helper()
	s, err := f.v.ReadCredential(ctx, req, p, name, 0)
	if err != nil {
		return false, err
	}
	defer s.Destroy()
	return string(s.Password()) == handedPassword, nil
}

// A member hands the X login over: it is shared, owned by nobody, assigned
// to every active clerk and to the member, and readable by them alone;
// its entry names the depositor and carries no secret.
func TestHandoverAssignsClerksAndDepositor(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	clerk2, _ := f.addUser(t, "Deputy Clerk", RoleClerk)
	gone, _ := f.addUser(t, "Old Clerk", RoleClerk)
	if err := f.v.DisableUser(ctx, req, f.admin, gone.Name); err != nil {
		t.Fatal(err)
	}
	member, _ := f.addUser(t, "Councillor Jones", RoleMember)
	chair, _ := f.addUser(t, "Chairman", RoleChairman)
	auditor, _ := f.addUser(t, "Auditor", RoleAuditor)

	info := f.handOver(t, member, "X (Twitter)")
	if info.Kind != KindShared || info.Version != 1 || !info.HasTOTP {
		t.Fatalf("hand-over stored as %+v", info)
	}
	if want := []string{"Clerk", "Councillor Jones", "Deputy Clerk"}; !slices.Equal(info.Assignees, want) {
		t.Fatalf("assignees = %v, want %v", info.Assignees, want)
	}
	if info.Handover == nil || info.Handover.By != "Councillor Jones" || info.Handover.Reason != "I ran the account until May" ||
		!info.Handover.ConfirmedAt.IsZero() {
		t.Fatalf("hand-over record = %+v", info.Handover)
	}
	e := f.last(t)
	if e.Action != audit.CredHandover || e.Outcome != audit.OutcomeOK || e.Actor.ID != member.UserID || e.Target.Name != "X (Twitter)" ||
		!strings.Contains(e.Reason, "handed over by Councillor Jones") || !strings.Contains(e.Reason, "Clerk, Councillor Jones, Deputy Clerk") {
		t.Fatalf("entry = %+v", e)
	}
	for _, ent := range f.entries(t) {
		if line := ent.Line(); bytes.Contains(line, []byte(handedPassword)) || bytes.Contains(line, []byte("JBSWY3DPEHPK3PXP")) {
			t.Fatalf("entry %d holds the secret: %s", ent.Seq, line)
		}
	}
	for _, p := range []*Principal{clerk, clerk2, member} {
		if ok, err := readsPassword(t, f, p, "X (Twitter)"); !ok || err != nil {
			t.Fatalf("%s cannot read it: %v", p.Name, err)
		}
	}
	for _, p := range []*Principal{f.admin, chair, auditor} {
		if _, err := readsPassword(t, f, p, "X (Twitter)"); !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s read a login handed to the clerk: %v", p.Name, err)
		}
		if e := f.last(t); e.Outcome != audit.OutcomeDenied || e.Actor.ID != p.UserID {
			t.Fatalf("%s's attempt not recorded as denied: %+v", p.Name, e)
		}
	}
}

// The member who handed it over may read it but not choose who else may,
// nor change it: it is the council's.
func TestHandoverDepositorCannotReassign(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Councillor Jones", RoleMember)
	f.addUser(t, "Friend", RoleMember)
	f.handOver(t, member, "X (Twitter)")
	_, _, err := f.v.PutCredential(ctx, req, member, CredentialInput{Name: "X (Twitter)", Assignees: []string{"Councillor Jones", "Friend"}})
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("the depositor changed the assignees: %v", err)
	}
	if e := f.last(t); e.Outcome != audit.OutcomeDenied || e.Action != audit.CredUpdate {
		t.Fatalf("refusal entry = %+v", e)
	}
	if _, _, err := f.v.RotateCredential(ctx, req, member, "X (Twitter)", []byte("a new one of mine"), nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("the depositor rotated it: %v", err)
	}
	list, err := f.v.ListCredentialsAll(ctx, member)
	if err != nil || len(list) != 1 || !slices.Equal(list[0].Assignees, []string{"Clerk", "Councillor Jones"}) {
		t.Fatalf("after the refusals: %+v, %v", list, err)
	}
}

// A name in use is refused on the field "name" and nothing is written:
// the stored login keeps its password; a name the depositor may not see
// is refused without saying what holds it.
func TestHandoverRefusesATakenName(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Councillor Jones", RoleMember)
	f.handOver(t, member, "X (Twitter)")
	f.put(t, f.admin, "Router admin", "admin", "router pw")
	before := len(f.entries(t))
	for _, name := range []string{"X (Twitter)", "x (twitter)", "Router admin"} {
		_, err := f.v.HandOver(ctx, req, member, HandoverInput{Name: name, Username: "other", Password: []byte("another password")})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "name" {
			t.Fatalf("%q: err = %v, want an input error on name", name, err)
		}
		if strings.Contains(err.Error(), "another password") {
			t.Fatalf("the error quotes the password: %v", err)
		}
		if name == "Router admin" && strings.Contains(err.Error(), "already") {
			t.Fatalf("a credential the member may not see was confirmed: %v", err)
		}
	}
	if n := len(f.entries(t)); n != before {
		t.Fatalf("a refused hand-over wrote %d entries", n-before)
	}
	if ok, err := readsPassword(t, f, clerk, "X (Twitter)"); !ok || err != nil {
		t.Fatalf("the first hand-over's password was changed: %v %v", ok, err)
	}
}

// Input is checked by cred put's rules (one place) and a password is
// required; the reason is one line.
func TestHandoverValidatesInput(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Councillor Jones", RoleMember)
	cases := []struct {
		in    HandoverInput
		field string
	}{
		{HandoverInput{Name: "", Username: "u", Password: []byte("pw")}, "name"},
		{HandoverInput{Name: "X", Username: "u", Password: nil}, "password"},
		{HandoverInput{Name: "X", Username: " ", Password: []byte("pw")}, "username"},
		{HandoverInput{Name: "X", Username: "u", Password: []byte("pw"), TOTP: "not a seed!"}, "totp"},
		{HandoverInput{Name: "X", Username: "u", Password: bytes.Repeat([]byte("p"), 5000)}, ""},
		{HandoverInput{Name: "X", Username: "u", Password: []byte("pw"), Reason: "two\nlines"}, "reason"},
	}
	for _, c := range cases {
		_, err := f.v.HandOver(ctx, req, member, c.in)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("%+v: err = %v, want an input error on %q", c.in.Name, err, c.field)
		}
	}
	list, _ := f.v.ListCredentialsAll(ctx, f.admin)
	if len(list) != 0 {
		t.Fatalf("refused hand-overs stored %d credentials", len(list))
	}
}

// Only a clerk confirms; the confirmation is recorded, shows on the
// credential, and takes it off the clerk's list to confirm.
func TestHandoverConfirmation(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Councillor Jones", RoleMember)
	f.handOver(t, member, "X (Twitter)")
	f.put(t, f.admin, "Facebook page", "shared", "fb", "Clerk")
	pending, err := f.v.PendingHandovers(ctx, clerk)
	if err != nil || len(pending) != 1 || pending[0].Credential != "X (Twitter)" || pending[0].By != "Councillor Jones" {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	if other, _ := f.v.PendingHandovers(ctx, member); other != nil {
		t.Fatalf("a member has hand-overs to confirm: %+v", other)
	}
	for _, p := range []*Principal{member, f.admin} {
		if _, err := f.v.ConfirmHandover(ctx, req, p, "X (Twitter)"); !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s confirmed: %v", p.Name, err)
		}
		if e := f.last(t); e.Action != audit.CredHandoverConfirm || e.Outcome != audit.OutcomeDenied || e.Actor.ID != p.UserID {
			t.Fatalf("refusal entry = %+v", e)
		}
	}
	if _, err := f.v.ConfirmHandover(ctx, req, clerk, "Facebook page"); !errors.As(err, new(*InputError)) {
		t.Fatalf("confirmed a login nobody handed over: %v", err)
	}
	info, err := f.v.ConfirmHandover(ctx, req, clerk, "X (Twitter)")
	if err != nil || info.Handover == nil || info.Handover.ConfirmedBy != "Clerk" || info.Handover.ConfirmedAt.IsZero() {
		t.Fatalf("confirm = %+v, %v", info.Handover, err)
	}
	if e := f.last(t); e.Action != audit.CredHandoverConfirm || e.Outcome != audit.OutcomeOK || e.Actor.ID != clerk.UserID ||
		!strings.Contains(e.Reason, "Councillor Jones") {
		t.Fatalf("confirmation entry = %+v", e)
	}
	if pending, _ := f.v.PendingHandovers(ctx, clerk); len(pending) != 0 {
		t.Fatalf("still pending after confirmation: %+v", pending)
	}
	if _, err := f.v.ConfirmHandover(ctx, req, clerk, "X (Twitter)"); !errors.As(err, new(*InputError)) {
		t.Fatalf("confirmed twice: %v", err)
	}
}

// Offboarding the depositor lists the login as "the leaver knew this
// password" and ends their assignment; the clerk keeps it. Disabling a
// depositor ends it too.
func TestHandoverDepositorLeaves(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.addUser(t, "Councillor Jones", RoleMember)
	member := f.principal(t, "Councillor Jones")
	f.handOver(t, member, "X (Twitter)")
	rep, err := f.v.Offboard(ctx, req, f.admin, "Councillor Jones", 90)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rotate) != 1 || rep.Rotate[0].Credential != "X (Twitter)" || rep.Rotate[0].Action != "rotate" ||
		!strings.Contains(rep.Rotate[0].Why, "the leaver knew this password") {
		t.Fatalf("offboarding report = %+v", rep.Rotate)
	}
	list, _ := f.v.ListCredentialsAll(ctx, clerk)
	if len(list) != 1 || !slices.Equal(list[0].Assignees, []string{"Clerk"}) {
		t.Fatalf("after offboarding: %+v", list)
	}
	if ok, err := readsPassword(t, f, clerk, "X (Twitter)"); !ok || err != nil {
		t.Fatalf("the clerk lost it: %v", err)
	}

	other, _ := f.addUser(t, "Councillor Smith", RoleMember)
	f.handOver(t, other, "Instagram")
	if err := f.v.DisableUser(ctx, req, f.admin, "Councillor Smith"); err != nil {
		t.Fatal(err)
	}
	list, _ = f.v.ListCredentialsAll(ctx, clerk)
	for _, c := range list {
		if slices.Contains(c.Assignees, "Councillor Smith") {
			t.Fatalf("a disabled depositor still holds %q: %v", c.Name, c.Assignees)
		}
	}
	if e := f.last(t); e.Action != audit.CredUpdate || e.Target.Name != "Instagram" || !strings.Contains(e.Reason, "Councillor Smith") {
		t.Fatalf("ending the assignment was not recorded: %+v", e)
	}
}

// With no active clerk there is nobody to receive a login: refused, and
// nothing stored.
func TestHandoverNeedsAClerk(t *testing.T) {
	f := newFixture(t)
	member, _ := f.addUser(t, "Councillor Jones", RoleMember)
	_, err := f.v.HandOver(ctx, req, member, HandoverInput{Name: "X", Username: "u", Password: []byte("pw")})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	if list, _ := f.v.ListCredentialsAll(ctx, f.admin); len(list) != 0 {
		t.Fatalf("stored %+v", list)
	}
}

// Hand-overs of one name at once: the name is checked in each write's own
// transaction, so exactly one is stored, with its own password, and every
// other is refused on the name (none overwrites it). Run with -race.
func TestHandoverRaceOneName(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	const n = 8
	people := make([]*Principal, n)
	for i := range people {
		people[i], _ = f.addUser(t, "Councillor "+string(rune('A'+i)), RoleMember)
	}
	errs := make(chan error, n)
	won := make(chan string, n)
	start := make(chan struct{})
	for i := range people {
		go func(p *Principal) {
			<-start
			pw := "password of " + p.Name
			_, err := f.v.HandOver(ctx, req, p, HandoverInput{Name: "X (Twitter)", Username: "@pc", Password: []byte(pw)})
			if err == nil {
				won <- pw
			}
			errs <- err
		}(people[i])
	}
	close(start)
	refused := 0
	for range people {
		var ie *InputError
		if err := <-errs; errors.As(err, &ie) && ie.Field == "name" {
			refused++
		} else if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if refused != n-1 || len(won) != 1 {
		t.Fatalf("%d refused, %d stored; want %d and 1", refused, len(won), n-1)
	}
	want := <-won
	s, err := f.v.ReadCredential(ctx, req, clerk, "X (Twitter)", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	if string(s.Password()) != want {
		t.Fatalf("stored %q, want the one hand-over that succeeded", s.Password())
	}
	if list, _ := f.v.ListCredentialsAll(ctx, f.admin); len(list) != 1 || list[0].Version != 1 {
		t.Fatalf("credentials after the race: %+v", list)
	}
}

// A contractor who hands a login over gives it to the clerk and keeps no
// hold of it: it is outside their agreement, and they would otherwise
// read every password the clerk later sets on it.
func TestHandoverByAContractor(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Website admin", "admin", "pw")
	web, _ := f.addContractor(t, "Web Co", "WEB-2026-04", "Website admin")
	info := f.handOver(t, web, "Website analytics")
	if !slices.Equal(info.Assignees, []string{"Clerk"}) {
		t.Fatalf("assignees = %v, want the clerk alone", info.Assignees)
	}
	if ok, err := readsPassword(t, f, clerk, "Website analytics"); !ok || err != nil {
		t.Fatalf("the clerk cannot read it: %v", err)
	}
	if _, err := readsPassword(t, f, web, "Website analytics"); err == nil {
		t.Fatal("the contractor reads a login outside their agreement")
	}
}

// A clerk who joined after the hand-over holds none of it, and so cannot
// say they received it.
func TestHandoverConfirmedOnlyByAHolder(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Councillor Jones", RoleMember)
	f.handOver(t, member, "X (Twitter)")
	late, _ := f.addUser(t, "New Clerk", RoleClerk)
	if _, err := f.v.ConfirmHandover(ctx, req, late, "X (Twitter)"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a clerk who does not hold it confirmed it: %v", err)
	}
}
