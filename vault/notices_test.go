package vault

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"strongroom/audit"
)

// Deciders follows DecideRequest's own rule: a shared login's request is
// the clerk's and the chairman's (not the requester's, nor a disabled
// account's), an admin one's the chairman's, or a provider's too where
// the council chose so; and each one named may in fact decide it.
func TestDeciders(t *testing.T) {
	for _, approver := range []AdminApprover{"", "provider"} {
		f := newFixtureConfig(t, BoltOptions{}, []string{"Chairman", "Vice-chair", "Clerk"}, 2, func(c *Config) { c.AdminApprover = approver })
		clerk, _ := f.addUser(t, "Clerk", RoleClerk)
		chair, _ := f.addUser(t, "Chair", RoleChairman)
		gone, _ := f.addUser(t, "Old Clerk", RoleClerk)
		member, _ := f.addUser(t, "Member", RoleMember)
		if err := f.v.DisableUser(ctx, req, f.admin, "Old Clerk"); err != nil {
			t.Fatal(err)
		}
		shared := f.put(t, f.admin, "Bank", "shared", "a password")
		admin := f.put(t, f.admin, "Router", "admin", "a password")
		for _, c := range []struct {
			credID string
			by     *Principal
			want   []string
		}{
			{shared.ID, member, []string{clerk.UserID, chair.UserID}},
			{shared.ID, clerk, []string{chair.UserID}},
			{admin.ID, member, map[AdminApprover][]string{"": {chair.UserID}, "provider": {f.admin.UserID, chair.UserID}}[approver]},
		} {
			got, err := f.v.Deciders(ctx, c.credID, c.by.UserID)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			slices.Sort(c.want)
			if !slices.Equal(got, c.want) || slices.Contains(got, gone.UserID) {
				t.Errorf("approver %q: deciders of %s by %s = %v, want %v", approver, c.credID, c.by.Name, got, c.want)
			}
		}
		// Each decider named may decide, and the clerk, not named for the
		// admin login, may not.
		ar, err := f.v.CreateRequest(ctx, req, member, "Router", "the router needs a reboot", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.v.DecideRequest(ctx, req, clerk, ar.ID, true, ""); err == nil {
			t.Fatal("the clerk decided a request for an admin login")
		}
		if _, _, err := f.v.DecideRequest(ctx, req, chair, ar.ID, false, "  the router was rebooted this morning "); err != nil {
			t.Fatal(err)
		}
		if got, why, err := f.v.Requester(ctx, ar.ID); err != nil || got != member.UserID || why != "the router was rebooted this morning" {
			t.Fatalf("Requester = %q, %q, %v; want the member's id and the chairman's reason, trimmed", got, why, err)
		}
		if got, why, err := f.v.Requester(ctx, "no-such-request"); err != nil || got != "" || why != "" {
			t.Fatalf("Requester of no request = %q, %q, %v", got, why, err)
		}
	}
}

// Attention lists what is compromised and not rotated, and the reviews
// due by the register's own rule.
func TestAttention(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Bank", "shared", "a password")
	f.put(t, f.admin, "Router", "admin", "a password")
	if err := f.v.MarkCompromised(ctx, req, f.admin, "Bank", "seen on a sticky note"); err != nil {
		t.Fatal(err)
	}
	comp, rev, err := f.v.Attention(ctx)
	if err != nil || len(comp) != 1 || comp[0].Credential != "Bank" || comp[0].By != "IT Provider" || len(rev) != 0 {
		t.Fatalf("Attention = %+v, %+v, %v", comp, rev, err)
	}
	f.clock.Advance(91 * 24 * time.Hour)
	if err := f.v.ReviewCredential(ctx, req, f.admin, "Router"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.RotateCredential(ctx, req, f.admin, "Bank", []byte("a new password"), nil); err != nil {
		t.Fatal(err)
	}
	comp, rev, err = f.v.Attention(ctx)
	if err != nil || len(comp) != 0 || len(rev) != 1 || rev[0].Credential != "Bank" || rev[0].By != "" {
		t.Fatalf("after 91 days, Router reviewed and Bank rotated: %+v, %+v, %v", comp, rev, err)
	}
	reg, err := f.v.AccessReview(ctx, req, f.admin, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range reg {
		if e.ReviewDue != (e.Credential == "Bank") {
			t.Errorf("the register and the reminders disagree on %s", e.Credential)
		}
	}
	f.v.Seal(ctx, req, f.admin)
	if _, _, err := f.v.Attention(ctx); !errors.Is(err, ErrSealed) {
		t.Fatalf("Attention while sealed: %v", err)
	}
}

// The council's mail switches: a provider's alone, recorded, kept inside
// the state seal (a change around the vault is refused as a rollback).
func TestMailSettings(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	if off, err := f.v.MailOff(ctx); err != nil || len(off) != 0 {
		t.Fatalf("by default: %v, %v", off, err)
	}
	if err := f.v.SetMail(ctx, req, clerk, "digest", false); !errors.As(err, new(*ForbiddenError)) {
		t.Fatalf("a clerk changed a mail setting: %v", err)
	}
	if e := f.last(t); e.Action != audit.SysMailSetting || e.Outcome != audit.OutcomeDenied {
		t.Fatalf("the refusal is not recorded: %+v", e)
	}
	if err := f.v.SetMail(ctx, req, f.admin, "Digest!", false); !errors.As(err, new(*InputError)) {
		t.Fatalf("a malformed kind: %v", err)
	}
	before := readMeta(t, f)
	for _, k := range []string{"reviews", "digest", "digest"} {
		if err := f.v.SetMail(ctx, req, f.admin, k, false); err != nil {
			t.Fatal(err)
		}
	}
	if off, err := f.v.MailOff(ctx); err != nil || !slices.Equal(off, []string{"digest", "reviews"}) {
		t.Fatalf("off = %v, %v", off, err)
	}
	if err := f.v.SetMail(ctx, req, f.admin, "reviews", true); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); e.Action != audit.SysMailSetting || e.Outcome != audit.OutcomeOK || e.Target.Name != "reviews" || e.Reason != "e-mail of this kind switched on" {
		t.Fatalf("not recorded: %+v", e)
	}
	if off, _ := f.v.MailOff(ctx); !slices.Equal(off, []string{"digest"}) {
		t.Fatalf("off = %v", off)
	}
	// Put the settings back as they were, around the vault.
	if err := f.store.Update(ctx, func(tx Tx) error {
		if before == nil {
			return tx.Delete(bucketMeta, keyMailSettings)
		}
		return tx.Put(bucketMeta, keyMailSettings, before)
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.v.CheckState(ctx); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("a mail setting changed around the vault: %v", err)
	}
}

func readMeta(t *testing.T, f *fixture) []byte {
	t.Helper()
	var b []byte
	if err := f.store.View(ctx, func(tx Tx) error { b = tx.Get(bucketMeta, keyMailSettings); return nil }); err != nil {
		t.Fatal(err)
	}
	return b
}

// The reminders' last day is saved outside the state seal: it moves
// while sealed, and changing it is no rollback.
func TestReminderDay(t *testing.T) {
	f := newFixture(t)
	if d, err := f.v.ReminderDay(ctx); err != nil || d != 0 {
		t.Fatalf("never sent: %d, %v", d, err)
	}
	f.v.Seal(ctx, req, f.admin)
	if err := f.v.SetReminderDay(ctx, 20261202); err != nil {
		t.Fatal(err)
	}
	if d, err := f.v.ReminderDay(ctx); err != nil || d != 20261202 {
		t.Fatalf("saved while sealed: %d, %v", d, err)
	}
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatalf("unseal after the day moved while sealed: %v", err)
	}
}

// A scheduled backup that cannot be written is recorded, with the outcome
// error and a fixed reason, after the failure.
func TestScheduledBackupFailureIsRecorded(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(dir, []byte("a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.BackupToDir(ctx, dir, BackupRetention{Daily: 1}); err == nil {
		t.Fatal("a backup into a file succeeded")
	}
	e := f.last(t)
	if e.Action != audit.BackupCreate || e.Outcome != audit.OutcomeError || e.Reason != "the scheduled backup could not be written" || e.Actor.Name == "" {
		t.Fatalf("the failure is not recorded: %+v", e)
	}
	ok := t.TempDir()
	if _, _, err := f.v.BackupToDir(ctx, ok, BackupRetention{Daily: 1}); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); e.Outcome != audit.OutcomeOK {
		t.Fatalf("a good backup: %+v", e)
	}
}
