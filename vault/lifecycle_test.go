package vault

import (
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

// A shared login is reported compromised, rotated with a generated
// three-word password, and its history shows both versions; an old
// version can be restored.
func TestCompromiseRotateHistoryRestore(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Facebook page", "shared", "first password", "Clerk")

	if err := f.v.MarkCompromised(ctx, req, member, "Facebook page", "saw it on a sticky note"); !errors.Is(err, ErrNotFound) { // unseen: as if absent
		t.Fatalf("member report: %v", err)
	}
	if err := f.v.MarkCompromised(ctx, req, clerk, "Facebook page", "x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no reason: %v", err)
	}
	if err := f.v.MarkCompromised(ctx, req, clerk, "Facebook page", "phishing email clicked"); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); e.Action != "cred.compromised" || !audit.IsIncident(e) {
		t.Fatalf("compromise entry %+v", e)
	}
	list, _ := f.v.ListCredentialsAll(ctx, clerk)
	if len(list) != 1 || list[0].Compromised == nil || list[0].Compromised.By != "Clerk" {
		t.Fatalf("list does not show the compromise: %+v", list)
	}
	if _, _, err := f.v.RotateCredential(ctx, req, member, "Facebook page", []byte("x"), nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("member rotate: %v", err)
	}
	opts := DefaultGenOptions()
	info, gen, err := f.v.RotateCredential(ctx, req, clerk, "Facebook page", nil, &opts)
	if err != nil || gen == nil || info.Version != 2 || info.Compromised != nil {
		t.Fatalf("rotate: %+v %v", info, err)
	}
	s, _ := f.v.ReadCredential(ctx, req, clerk, "Facebook page", 0)
	if string(s.Password()) != string(gen.Password) || strings.Count(string(gen.Password), "-") != 2 {
		t.Fatalf("rotated password not stored or not three words")
	}
	s.Destroy()
	hist, err := f.v.CredentialHistory(ctx, req, clerk, "Facebook page")
	if err != nil || len(hist) != 2 || hist[0].Version != 2 || !hist[0].Current || hist[1].Version != 1 || hist[0].CreatedBy != "Clerk" {
		t.Fatalf("history: %+v %v", hist, err)
	}
	info, err = f.v.RestoreVersion(ctx, req, clerk, "Facebook page", 1)
	if err != nil || info.Version != 3 {
		t.Fatalf("restore: %+v %v", info, err)
	}
	s, _ = f.v.ReadCredential(ctx, req, clerk, "Facebook page", 0)
	if string(s.Password()) != "first password" {
		t.Fatal("restore did not bring back version 1")
	}
	s.Destroy()
	if _, err := f.v.RestoreVersion(ctx, req, clerk, "Facebook page", 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore of a missing version: %v", err)
	}
	if _, err := f.v.CredentialHistory(ctx, req, member, "Facebook page"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("member history: %v", err)
	}
}

func TestUndelete(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "first", "IT Provider")
	f.put(t, f.admin, "Website host", "", "second")
	if err := f.v.DeleteCredential(ctx, req, f.admin, "Website host"); err != nil {
		t.Fatal(err)
	}
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	if _, err := f.v.UndeleteCredential(ctx, req, clerk, "Website host"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("clerk undelete of an admin credential: %v", err)
	}
	info, err := f.v.UndeleteCredential(ctx, req, f.admin, "website HOST")
	if err != nil || info.Version != 2 {
		t.Fatalf("undelete: %+v %v", info, err)
	}
	s, err := f.v.ReadCredential(ctx, req, f.admin, "Website host", 1)
	if err != nil || string(s.Password()) != "first" {
		t.Fatalf("history after undelete: %v", err)
	}
	s.Destroy()
	if _, err := f.v.UndeleteCredential(ctx, req, f.admin, "Website host"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("undelete over a live credential: %v", err)
	}
	f.v.DeleteCredential(ctx, req, f.admin, "Website host")
	f.clock.Advance(UndeleteWindow + time.Hour)
	if _, err := f.v.UndeleteCredential(ctx, req, f.admin, "Website host"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("undelete after the window: %v", err)
	}
}
