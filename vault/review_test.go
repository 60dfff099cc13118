package vault

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

// reviewItem finds name's item in r.
func reviewItem(t *testing.T, r *AnnualReview, name string) ReviewItem {
	t.Helper()
	for _, it := range r.Items {
		if it.Credential == name {
			return it
		}
	}
	t.Fatalf("%q is not in the review (%d items)", name, len(r.Items))
	return ReviewItem{}
}

func mustReview(t *testing.T, f *fixture, p *Principal) *AnnualReview {
	t.Helper()
	r, err := f.v.AnnualReview(ctx, req, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The review lists exactly the live admin and shared credentials, each
// with its holders, this year's reads and denials, and its rotation age.
func TestAnnualReviewLists(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Router admin", "admin", "pw", "IT Provider")
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk", "Member")
	f.put(t, member, "Member own", "personal", "pw")
	f.put(t, f.admin, "Old shared", "shared", "pw", "Clerk")
	if err := f.v.DeleteCredential(ctx, req, f.admin, "Old shared"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		s, err := f.v.ReadCredential(ctx, req, member, "Facebook page", 0)
		if err != nil {
			t.Fatal(err)
		}
		s.Destroy()
	}
	if s, err := f.v.ReadCredential(ctx, req, member, "Router admin", 0); err == nil {
		s.Destroy()
		t.Fatal("a member read an admin secret not assigned to them")
	}
	f.clock.Advance(24 * time.Hour)
	rotatedAt := f.clock.Now()
	if _, _, err := f.v.RotateCredential(ctx, req, f.admin, "Router admin", []byte("a new long password"), nil); err != nil {
		t.Fatal(err)
	}
	// A new version that changes only who holds it is no password change.
	f.put(t, f.admin, "Facebook page", "", "", "Clerk", "Member")
	r := mustReview(t, f, clerk)
	if len(r.Items) != 2 || r.Items[0].Credential != "Facebook page" || r.Items[1].Credential != "Router admin" {
		t.Fatalf("items %+v; want Facebook page and Router admin only", r.Items)
	}
	fb := reviewItem(t, r, "Facebook page")
	if len(fb.Holders) != 2 || fb.Holders[0].Name != "Clerk" || fb.Holders[1].Name != "Member" || fb.Reads != 2 || fb.Denials != 0 ||
		fb.LastUsed.IsZero() || !fb.RotatedIsCreation || fb.Rotated.Equal(rotatedAt) || fb.State != ItemToConfirm || !fb.MayChange {
		t.Fatalf("Facebook page: %+v", fb)
	}
	ra := reviewItem(t, r, "Router admin")
	if len(ra.Holders) != 1 || ra.Holders[0].Name != "IT Provider" || ra.Reads != 0 || ra.Denials != 1 ||
		ra.RotatedIsCreation || !ra.Rotated.Equal(rotatedAt) || ra.MayChange {
		t.Fatalf("Router admin: %+v (rotated %v)", ra, rotatedAt)
	}
	if r.Unconfirmed != 2 || !r.MayConfirm || r.Due.Status != ReviewFirst {
		t.Fatalf("review: unconfirmed %d, may confirm %v, due %+v", r.Unconfirmed, r.MayConfirm, r.Due)
	}
	if e := f.last(t); e.Action != audit.ReportAccessReview || e.Actor.Name != "Clerk" || !strings.Contains(e.Reason, "annual review") {
		t.Fatalf("viewing the review recorded %+v", e)
	}
	// Reads from before the year are not this year's.
	f.clock.Advance(366 * 24 * time.Hour)
	if fb := reviewItem(t, mustReview(t, f, clerk), "Facebook page"); fb.Reads != 0 || fb.LastUsed.IsZero() {
		t.Fatalf("a year later: %+v", fb)
	}
}

// Each confirmation is recorded; a change after it (assignees, rotation,
// a new grant) needs confirming again; sign-off is refused while any is
// unconfirmed, then records the next due date a year on.
func TestAnnualReviewConfirmAndSignOff(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Router admin", "admin", "pw", "IT Provider")
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")

	mark := reviewItem(t, mustReview(t, f, clerk), "Facebook page").Mark
	if err := f.v.ConfirmReview(ctx, req, clerk, "Facebook page", mark); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); e.Action != audit.ReviewConfirm || e.Target.Name != "Facebook page" || e.Outcome != audit.OutcomeOK ||
		!strings.Contains(e.Reason, "holders confirmed: Clerk") {
		t.Fatalf("confirmation entry %+v", e)
	}
	if it := reviewItem(t, mustReview(t, f, clerk), "Facebook page"); it.State != ItemConfirmed || it.ConfirmedBy != "Clerk" {
		t.Fatalf("after confirming: %+v", it)
	}

	// Refused while Router admin is unconfirmed: an input error naming
	// the field and the credential; nothing recorded as signed off.
	_, err := f.v.SignOffReview(ctx, req, clerk)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "credentials" || !strings.Contains(ie.Msg, "Router admin") || strings.Contains(ie.Msg, "Facebook page") {
		t.Fatalf("sign-off with one unconfirmed: %v", err)
	}

	// Changing the assignees undoes the confirmation; a mark from before
	// the change is refused as a conflict, and records nothing.
	f.put(t, f.admin, "Facebook page", "", "", "Clerk", "Member")
	if it := reviewItem(t, mustReview(t, f, clerk), "Facebook page"); it.State != ItemChanged {
		t.Fatalf("after a change of assignees: %+v", it)
	}
	before := len(f.entries(t))
	if err := f.v.ConfirmReview(ctx, req, clerk, "Facebook page", mark); !errors.Is(err, ErrConflict) || len(f.entries(t)) != before {
		t.Fatalf("confirming with a stale mark: %v, %d entries", err, len(f.entries(t))-before)
	}
	confirmAll := func(p *Principal) {
		t.Helper()
		for _, it := range mustReview(t, f, p).Items {
			if err := f.v.ConfirmReview(ctx, req, p, it.Credential, it.Mark); err != nil {
				t.Fatalf("confirming %s: %v", it.Credential, err)
			}
		}
	}
	confirmAll(clerk)

	// A rotation undoes it too (a new grant: TestAnnualReviewGrantNeedsReconfirm).
	if _, _, err := f.v.RotateCredential(ctx, req, f.admin, "Router admin", []byte("a new long password"), nil); err != nil {
		t.Fatal(err)
	}
	if it := reviewItem(t, mustReview(t, f, clerk), "Router admin"); it.State != ItemChanged {
		t.Fatalf("after a rotation: %+v", it)
	}
	if _, err := f.v.SignOffReview(ctx, req, clerk); !errors.As(err, &ie) || !strings.Contains(ie.Msg, "Router admin") {
		t.Fatalf("sign-off after a rotation: %v", err)
	}
	confirmAll(f.admin)

	s, err := f.v.SignOffReview(ctx, req, clerk)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	if !s.At.Equal(now) || !s.NextDue.Equal(now.AddDate(1, 0, 0)) || s.Confirmed != 2 || s.By != "Clerk" {
		t.Fatalf("sign-off %+v", s)
	}
	if e := f.last(t); e.Action != audit.ReviewSignoff || e.Outcome != audit.OutcomeOK || !strings.Contains(e.Reason, now.AddDate(1, 0, 0).Format(time.DateOnly)) {
		t.Fatalf("sign-off entry %+v", e)
	}
	d, err := f.v.ReviewStatus(ctx)
	if err != nil || d.Status != ReviewDone || !d.DueBy.Equal(s.NextDue) || d.Last == nil || d.Last.By != "Clerk" {
		t.Fatalf("status after sign-off: %+v, %v", d, err)
	}
	// The next review starts afresh: nothing is confirmed in it yet.
	if r := mustReview(t, f, clerk); r.Unconfirmed != 2 || reviewItem(t, r, "Facebook page").State != ItemToConfirm {
		t.Fatalf("the next review: %+v", r)
	}
}

// A new grant after a confirmation needs it confirmed again; a grant that
// ends does not.
func TestAnnualReviewGrantNeedsReconfirm(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")
	it := reviewItem(t, mustReview(t, f, clerk), "Facebook page")
	if err := f.v.ConfirmReview(ctx, req, clerk, "Facebook page", it.Mark); err != nil {
		t.Fatal(err)
	}
	ar, err := f.v.CreateRequest(ctx, req, member, "Facebook page", "post the meeting notice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.DecideRequest(ctx, req, clerk, ar.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	it = reviewItem(t, mustReview(t, f, clerk), "Facebook page")
	if it.State != ItemChanged || len(it.Holders) != 2 {
		t.Fatalf("after a grant: %+v", it)
	}
	if err := f.v.ConfirmReview(ctx, req, clerk, "Facebook page", it.Mark); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour) // the grant ends
	if it := reviewItem(t, mustReview(t, f, clerk), "Facebook page"); it.State != ItemConfirmed || len(it.Holders) != 1 {
		t.Fatalf("after the grant ended: %+v", it)
	}
	if _, err := f.v.SignOffReview(ctx, req, clerk); err != nil {
		t.Fatal(err)
	}
}

// A fresh vault shows a first review due a year after set-up, not an
// overdue one; a year on, or a year after a sign-off, it is overdue.
func TestAnnualReviewDue(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	setUp := f.clock.Now()
	d, err := f.v.ReviewStatus(ctx)
	if err != nil || d.Status != ReviewFirst || !d.DueBy.Equal(setUp.AddDate(1, 0, 0)) || d.Last != nil {
		t.Fatalf("fresh vault: %+v, %v", d, err)
	}
	f.clock.Advance(364 * 24 * time.Hour)
	if d, _ := f.v.ReviewStatus(ctx); d.Status != ReviewFirst {
		t.Fatalf("after 364 days: %+v", d)
	}
	f.clock.Advance(2 * 24 * time.Hour)
	if d, _ := f.v.ReviewStatus(ctx); d.Status != ReviewOverdue {
		t.Fatalf("after 366 days, never reviewed: %+v", d)
	}
	if r := mustReview(t, f, clerk); r.Due.Status != ReviewOverdue {
		t.Fatalf("the review page says %+v", r.Due)
	}
	if _, err := f.v.SignOffReview(ctx, req, clerk); err != nil { // nothing to confirm
		t.Fatal(err)
	}
	if d, _ := f.v.ReviewStatus(ctx); d.Status != ReviewDone {
		t.Fatalf("after sign-off: %+v", d)
	}
	f.clock.Advance(366 * 24 * time.Hour)
	if d, _ := f.v.ReviewStatus(ctx); d.Status != ReviewOverdue {
		t.Fatalf("a year after the sign-off: %+v", d)
	}
}

// An account past its end date shows as overdue for completion, with
// what it still holds.
func TestAnnualReviewOverdueAccounts(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	if _, err := f.v.CreateUser(ctx, req, f.admin, "Web contractor", RoleMember, f.clock.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.put(t, f.admin, "Website host", "admin", "pw", "Web contractor")
	if r := mustReview(t, f, clerk); len(r.Overdue) != 0 {
		t.Fatalf("before the end date: %+v", r.Overdue)
	}
	f.clock.Advance(72 * time.Hour)
	r := mustReview(t, f, clerk)
	if len(r.Overdue) != 1 || r.Overdue[0].Name != "Web contractor" || len(r.Overdue[0].Holds) != 1 || r.Overdue[0].Holds[0] != "Website host" {
		t.Fatalf("after the end date: %+v", r.Overdue)
	}
}

// The clerk and a provider run the review; the auditor sees it read only;
// the chairman and a member are refused, and each refusal is recorded.
func TestAnnualReviewRoles(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "Clerk", RoleClerk)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	member, _ := f.addUser(t, "Member", RoleMember)
	auditor, _ := f.addUser(t, "Auditor", RoleAuditor)
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk", "Member")
	r := mustReview(t, f, auditor)
	if r.MayConfirm || len(r.Items) != 1 {
		t.Fatalf("the auditor's review: %+v", r)
	}
	mark := r.Items[0].Mark
	type try struct {
		who    *Principal
		action audit.Action
		run    func(p *Principal) error
	}
	view := func(p *Principal) error { _, err := f.v.AnnualReview(ctx, req, p); return err }
	confirm := func(p *Principal) error { return f.v.ConfirmReview(ctx, req, p, "Facebook page", mark) }
	signoff := func(p *Principal) error { _, err := f.v.SignOffReview(ctx, req, p); return err }
	for _, c := range []try{
		{chair, audit.ReportAccessReview, view}, {member, audit.ReportAccessReview, view},
		{chair, audit.ReviewConfirm, confirm}, {member, audit.ReviewConfirm, confirm}, {auditor, audit.ReviewConfirm, confirm},
		{chair, audit.ReviewSignoff, signoff}, {member, audit.ReviewSignoff, signoff}, {auditor, audit.ReviewSignoff, signoff},
	} {
		before := len(f.entries(t))
		err := c.run(c.who)
		es := f.entries(t)
		// Not permitted; or, to one who may not see the credential, the
		// answer a missing name gets (TestUnseenAnswersAsAbsent).
		if !(errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound)) || len(es) != before+1 {
			t.Fatalf("%s %s: %v, %d entries", c.who.Name, c.action, err, len(es)-before)
		}
		if e := es[len(es)-1]; e.Action != c.action || e.Outcome != audit.OutcomeDenied || e.Actor.Name != c.who.Name {
			t.Fatalf("%s %s: entry %+v", c.who.Name, c.action, e)
		}
	}
	if d, _ := f.v.ReviewStatus(ctx); d.Status != ReviewFirst {
		t.Fatalf("refusals changed the review: %+v", d)
	}
}

// The review's record is inside the state seal: a copy of the database
// with an earlier review put back (here: before its sign-off) is refused
// at unseal, like every other key.
func TestRolledBackReviewIsRefused(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")
	for _, it := range mustReview(t, f, clerk).Items {
		if err := f.v.ConfirmReview(ctx, req, clerk, it.Credential, it.Mark); err != nil {
			t.Fatal(err)
		}
	}
	early := snapshotDB(t, f)
	if _, err := f.v.SignOffReview(ctx, req, clerk); err != nil {
		t.Fatal(err)
	}
	late := snapshotDB(t, f)
	const key = "meta\x00review.annual"
	if before, after := dump(t, early)[key], dump(t, late)[key]; before == nil || bytes.Equal(before, after) {
		t.Fatalf("the sign-off did not change %q", key)
	}
	sweepRollbacks(t, early, late, func(v *Vault) error { return unsealWithShares(f.init.Envelopes[:2], v) }, "meta", "audit")
}

// Confirmations at once, by two people, of different credentials all
// land: each write reads the review's record in its own transaction (a
// group commit may run it again), so none overwrites another.
func TestAnnualReviewConcurrentConfirmations(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	names := []string{"A login", "B login", "C login", "D login", "E login", "F login", "G login", "H login"}
	for _, n := range names {
		f.put(t, f.admin, n, "shared", "pw", "Clerk")
	}
	r := mustReview(t, f, clerk)
	errs := make(chan error, len(r.Items))
	for i, it := range r.Items {
		who := clerk
		if i%2 == 1 {
			who = f.admin
		}
		go func() { errs <- f.v.ConfirmReview(ctx, req, who, it.Credential, it.Mark) }()
	}
	for range r.Items {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if r := mustReview(t, f, clerk); r.Unconfirmed != 0 {
		t.Fatalf("%d of %d confirmations lost", r.Unconfirmed, len(names))
	}
	if _, err := f.v.SignOffReview(ctx, req, clerk); err != nil {
		t.Fatal(err)
	}
}
