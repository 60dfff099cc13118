package vault

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

// TestAccessMatrix walks every role through every operation, asserting
// allowed or denied, and that every denial left a denied audit entry
// naming the actor and the action.
//
// The contractor column is a member working under an agreement that covers
// "Website host" and "Facebook page": it is allowed what a member is,
// except what contractorDenied names.
func TestAccessMatrix(t *testing.T) {
	const roleContractor Role = "contractor"
	roles := []Role{RoleProvider, RoleClerk, RoleChairman, RoleAuditor, RoleMember, roleContractor}
	contractorDenied := map[string]bool{"request outside a contractor's scope": true}
	type op struct {
		name    string
		action  string
		run     func(f *fixture, p *Principal) error
		allowed map[Role]bool
	}
	// These reveal an admin secret, so an allowed caller must have
	// re-authenticated (access.Reauthed) as well.
	reauth := map[string]bool{"read admin assigned to member": true, "read unassigned admin": true}
	read := func(cred string) func(f *fixture, p *Principal) error {
		return func(f *fixture, p *Principal) error {
			s, err := f.v.ReadCredential(ctx, req, p, cred, 0)
			if s != nil {
				s.Destroy()
			}
			return err
		}
	}
	put := func(name, kind string) func(f *fixture, p *Principal) error {
		return func(f *fixture, p *Principal) error {
			_, _, err := f.v.PutCredential(ctx, req, p, CredentialInput{Name: name, Kind: kind, Password: []byte("pw")})
			return err
		}
	}
	// A refusal is "not permitted", or, to a caller who may not see the
	// credential, the answer a missing name gets (TestUnseenAnswersAsAbsent).
	refused := func(err error) bool {
		return errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) || errors.As(err, new(*InputError))
	}
	all := func(rs ...Role) map[Role]bool {
		m := map[Role]bool{}
		for _, r := range rs {
			m[r] = true
		}
		return m
	}
	ops := []op{
		// Secrets are readable by assignees alone: "Website host" is assigned to the
		// member-role user only, "Facebook page" to the clerk and the member.
		{"read admin assigned to member", "cred.read", read("Website host"), all(RoleMember)},
		{"read shared assigned to clerk+member", "cred.read", read("Facebook page"), all(RoleClerk, RoleMember)},
		{"read unassigned admin", "cred.read", read("Router admin"), all()},
		{"create admin", "cred.create", put("New admin", "admin"), all(RoleProvider)},
		{"hand over a login", "cred.handover", func(f *fixture, p *Principal) error {
			_, err := f.v.HandOver(ctx, req, p, HandoverInput{Name: "Council X", Username: "@council", Password: []byte("pw")})
			return err
		}, all(roles...)},
		{"confirm a hand-over", "cred.handover_confirm", func(f *fixture, p *Principal) error {
			_, err := f.v.ConfirmHandover(ctx, req, p, "Handed over")
			return err
		}, all(RoleClerk)},
		{"create shared", "cred.create", put("New shared", "shared"), all(RoleProvider, RoleClerk)},
		{"create personal", "cred.create", put("Own login", "personal"), all(RoleProvider, RoleClerk, RoleChairman, RoleMember)},
		{"update shared", "cred.update", put("Facebook page", ""), all(RoleProvider, RoleClerk)},
		{"update admin", "cred.update", put("Router admin", ""), all(RoleProvider)},
		{"delete admin", "cred.delete", func(f *fixture, p *Principal) error {
			return f.v.DeleteCredential(ctx, req, p, "Router admin")
		}, all(RoleProvider)},
		{"create user", "user.create", func(f *fixture, p *Principal) error {
			_, err := f.v.CreateUser(ctx, req, p, "Newcomer", RoleMember, time.Time{})
			return err
		}, all(RoleProvider)},
		{"list users", "user.list", func(f *fixture, p *Principal) error {
			_, err := f.v.ListUsers(ctx, req, p)
			return err
		}, all(RoleProvider, RoleAuditor)},
		{"disable user", "user.disable", func(f *fixture, p *Principal) error {
			return f.v.DisableUser(ctx, req, p, "Spare")
		}, all(RoleProvider)},
		{"offboard user", "user.offboard", func(f *fixture, p *Principal) error {
			_, err := f.v.Offboard(ctx, req, p, "Spare", 90)
			return err
		}, all(RoleProvider)},
		{"complete contractor", "user.complete", func(f *fixture, p *Principal) error {
			_, err := f.v.CompleteContractor(ctx, req, p, "Temp contractor")
			return err
		}, all(RoleProvider)},
		{"request in a contractor's scope", "request.create", func(f *fixture, p *Principal) error {
			_, err := f.v.CreateRequest(ctx, req, p, "Website CMS", "plugin update", time.Hour)
			return err
		}, all(RoleProvider, RoleClerk, RoleChairman, RoleMember)},
		{"request outside a contractor's scope", "request.create", func(f *fixture, p *Principal) error {
			_, err := f.v.CreateRequest(ctx, req, p, "Router admin", "plugin update", time.Hour)
			return err
		}, all(RoleProvider, RoleClerk, RoleChairman, RoleMember)},
		{"export audit", "audit.export", func(f *fixture, p *Principal) error {
			return f.v.ExportAudit(ctx, req, p, Filter{}, FormatJSONL, io.Discard)
		}, all(RoleProvider, RoleAuditor)},
		{"verify audit", "audit.verify", func(f *fixture, p *Principal) error {
			_, err := f.v.VerifyAudit(ctx, req, p)
			return err
		}, all(RoleProvider, RoleAuditor)},
		{"seal", "sys.seal", func(f *fixture, p *Principal) error {
			return f.v.Seal(ctx, req, p)
		}, all(RoleProvider, RoleChairman)},
		{"view annual review", "report.access_review", func(f *fixture, p *Principal) error {
			_, err := f.v.AnnualReview(ctx, req, p)
			return err
		}, all(RoleProvider, RoleClerk, RoleAuditor)},
		{"confirm in annual review", "review.confirm", func(f *fixture, p *Principal) error {
			return f.v.ConfirmReview(ctx, req, p, "Facebook page", "")
		}, all(RoleProvider, RoleClerk)},
		{"sign off annual review", "review.signoff", func(f *fixture, p *Principal) error {
			// Refused as unconfirmed (an input error, unrecorded) only
			// after the role check; then confirm each and sign off.
			if _, err := f.v.SignOffReview(ctx, req, p); !errors.As(err, new(*InputError)) {
				return err
			}
			r, err := f.v.AnnualReview(ctx, req, p)
			if err != nil {
				return err
			}
			for _, it := range r.Items { // every admin and shared login the matrix made so far
				if err := f.v.ConfirmReview(ctx, req, p, it.Credential, ""); err != nil {
					return err
				}
			}
			_, err = f.v.SignOffReview(ctx, req, p)
			return err
		}, all(RoleProvider, RoleClerk)},
	}
	for _, o := range ops {
		for _, role := range roles {
			t.Run(o.name+"/"+string(role), func(t *testing.T) {
				f := newFixture(t)
				allowed := o.allowed[role]
				if role == roleContractor {
					allowed = o.allowed[RoleMember] && !contractorDenied[o.name]
				}
				f.put(t, f.admin, "Website CMS", "shared", "pw")
				f.addContractor(t, "Temp contractor", "T-1", "Website CMS")
				var actor *Principal
				switch role {
				case RoleProvider:
					actor = f.admin
				case roleContractor:
					// A scope names existing credentials: make them first
					// (the puts below then assign them to the actor).
					f.put(t, f.admin, "Website host", "admin", "pw")
					f.put(t, f.admin, "Facebook page", "shared", "pw")
					actor, _ = f.addContractor(t, "Actor", "A-1", "Website host", "Facebook page", "Website CMS")
				default:
					actor, _ = f.addUser(t, "Actor", role)
				}
				member, _ := f.addUser(t, "Member", RoleMember)
				f.addUser(t, "Spare", RoleMember)
				clerkName := "Actor"
				if role != RoleClerk {
					f.addUser(t, "Clerk", RoleClerk)
					clerkName = "Clerk"
				}
				memberName := member.Name
				if role == RoleMember || role == roleContractor {
					memberName = "Actor"
				}
				f.put(t, f.admin, "Website host", "admin", "pw", memberName)
				f.put(t, f.admin, "Facebook page", "shared", "pw", clerkName, memberName)
				f.put(t, f.admin, "Router admin", "admin", "pw")
				if _, err := f.v.HandOver(ctx, req, member, HandoverInput{Name: "Handed over", Username: "@council", Password: []byte("pw")}); err != nil {
					t.Fatal(err)
				}
				if reauth[o.name] {
					// The re-authentication column: a session that has not
					// confirmed who it is again is asked to, and nothing is
					// read or recorded; one that may not read is refused
					// exactly as if it had.
					stale := *actor
					stale.ReauthAt = time.Time{}
					before := len(f.entries(t))
					err := o.run(f, &stale)
					switch {
					case allowed && (!errors.Is(err, ErrReauthNeeded) || len(f.entries(t)) != before):
						t.Fatalf("without re-authentication: %v, %d entries", err, len(f.entries(t))-before)
					case !allowed && !refused(err):
						t.Fatalf("without re-authentication, refused as %v; want a refusal", err)
					}
				}
				before := len(f.entries(t))
				err := o.run(f, actor)
				if allowed {
					if err != nil {
						t.Fatalf("allowed, but err = %v", err)
					}
					return
				}
				if !refused(err) {
					t.Fatalf("should be denied, err = %v", err)
				}
				es := f.entries(t)
				if len(es) != before+1 {
					t.Fatalf("denial wrote %d entries, want 1", len(es)-before)
				}
				e := es[len(es)-1]
				if e.Outcome != audit.OutcomeDenied || string(e.Action) != o.action || e.Actor.ID != actor.UserID || !audit.IsIncident(e) {
					t.Fatalf("denial entry = %+v", e)
				}
			})
		}
	}
}

func TestListShowsOnlyWhatTheRoleMaySee(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	auditor, _ := f.addUser(t, "Auditor", RoleAuditor)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")
	f.put(t, member, "Member own", "personal", "pw")
	if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "Audited", Kind: "admin", Password: []byte("p"),
		Assignees: []string{"Auditor"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an auditor was assigned a credential: %v", err)
	}
	want := map[*Principal]int{f.admin: 2, clerk: 1, member: 1, auditor: 2}
	for p, n := range want {
		got, err := f.v.ListCredentialsAll(ctx, p)
		if err != nil || len(got) != n {
			t.Errorf("%s sees %d credentials (%v), want %d", p.Name, len(got), err, n)
		}
	}
}

// A caller who may not see a credential gets, for every operation on it,
// exactly the answer a name with no credential gets; the attempt on the
// one that exists is still recorded as denied.
func TestUnseenAnswersAsAbsent(t *testing.T) {
	f := newFixture(t)
	member, _ := f.addUser(t, "Member", RoleMember)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Router admin", "admin", "pw")
	_, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "Provider bank", Kind: "personal", Password: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]func(p *Principal, name string) error{
		"read": func(p *Principal, name string) error {
			s, err := f.v.ReadCredential(ctx, req, p, name, 0)
			if s != nil {
				s.Destroy()
			}
			return err
		},
		"totp":    func(p *Principal, name string) error { _, err := f.v.CredentialTOTP(ctx, req, p, name); return err },
		"history": func(p *Principal, name string) error { _, err := f.v.CredentialHistory(ctx, req, p, name); return err },
		"delete":  func(p *Principal, name string) error { return f.v.DeleteCredential(ctx, req, p, name) },
		"rotate": func(p *Principal, name string) error {
			_, _, err := f.v.RotateCredential(ctx, req, p, name, []byte("new password here"), nil)
			return err
		},
		"compromised": func(p *Principal, name string) error {
			return f.v.MarkCompromised(ctx, req, p, name, "seen on a post-it")
		},
		"restore":  func(p *Principal, name string) error { _, err := f.v.RestoreVersion(ctx, req, p, name, 1); return err },
		"review":   func(p *Principal, name string) error { return f.v.ReviewCredential(ctx, req, p, name) },
		"undelete": func(p *Principal, name string) error { _, err := f.v.UndeleteCredential(ctx, req, p, name); return err },
	}
	for _, who := range []*Principal{member, clerk} {
		for _, cred := range []string{"Router admin", "Provider bank"} {
			for op, run := range ops {
				if op == "review" && who == clerk && cred == "Router admin" {
					continue // the clerk reviews the register, which names every shared and admin login
				}
				before := len(f.entries(t))
				got := run(who, cred)
				denied := f.entries(t)[before:]
				want := run(who, "No such login")
				if got == nil || want == nil || strings.ReplaceAll(got.Error(), cred, "X") != strings.ReplaceAll(want.Error(), "No such login", "X") {
					t.Errorf("%s %s %q: %v; a missing name: %v", who.Name, op, cred, got, want)
				}
				if op != "undelete" && (len(denied) != 1 || denied[0].Outcome != audit.OutcomeDenied || denied[0].Target.Name != cred) {
					t.Errorf("%s %s %q: entries %+v; want one denied", who.Name, op, cred, denied)
				}
			}
		}
	}
	// A name is one namespace, so a new credential cannot take one; the
	// refusal says only that, and is recorded.
	_, _, err = f.v.PutCredential(ctx, req, member, CredentialInput{Name: "router ADMIN", Kind: "personal", Password: []byte("pw")})
	if !errors.As(err, new(*InputError)) || strings.Contains(err.Error(), "admin credential") || !strings.Contains(err.Error(), "cannot be used") {
		t.Fatalf("taking an unseen name: %v", err)
	}
	if _, err := f.v.CreateRequest(ctx, req, member, "Provider bank", "need it for the audit", time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a request for another's personal login: %v", err)
	}
}
