package vault

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

func (f *fixture) put(t testing.TB, p *Principal, name, kind, pw string, assign ...string) CredentialInfo {
	t.Helper()
	info, _, err := f.v.PutCredential(ctx, req, p, CredentialInput{Name: name, Kind: kind, Username: "council",
		Password: []byte(pw), Assignees: assign})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestCredentialVersionsAndRead(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Facebook page", "shared", "first password", "Clerk")
	info := f.put(t, clerk, "Facebook page", "", "second password")
	if info.Version != 2 {
		t.Fatalf("version %d", info.Version)
	}
	for ver, want := range map[int]string{0: "second password", 1: "first password", 2: "second password"} {
		s, err := f.v.ReadCredential(ctx, req, clerk, "facebook PAGE", ver)
		if err != nil {
			t.Fatal(err)
		}
		if string(s.Password()) != want {
			t.Fatalf("version %d: wrong password", ver)
		}
		if got := fmt.Sprintf("%v %+v %s", s, s, s); bytes.Contains([]byte(got), []byte("password ")) && bytes.Contains([]byte(got), []byte(want)) {
			t.Fatal("Secret prints its password")
		}
		s.Destroy()
	}
	if e := f.last(t); e.Action != "cred.read" || e.Actor.Name != "Clerk" || e.Outcome != audit.OutcomeOK {
		t.Fatalf("read not audited: %+v", e)
	}
	if err := f.v.DeleteCredential(ctx, req, clerk, "Facebook page"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.ReadCredential(ctx, req, clerk, "Facebook page", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read deleted: %v", err)
	}
}

func TestTOTPInput(t *testing.T) {
	f := newFixture(t)
	// "not a seed" would be base32 (NOTASEED, a short seed, kept with a
	// warning): a hyphen is not.
	for _, in := range []string{"not-a-seed", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP", "otpauth://totp/x",
		"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=11", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5"} {
		_, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "X", Kind: "admin", Password: []byte("p"), TOTP: in})
		if !errors.Is(err, ErrInvalid) || bytes.Contains([]byte(err.Error()), []byte(in)) {
			t.Errorf("TOTP %q: err = %v", in, err)
		}
	}
	info, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "X", Kind: "admin", Password: []byte("p"),
		TOTP: "JBSW Y3DP EHPK 3PXP", Assignees: []string{"IT Provider"}})
	if err != nil || !info.HasTOTP || !strings.Contains(info.TOTPWarning, "80 bits, below RFC 4226's 128-bit minimum") {
		t.Fatalf("%+v %v", info, err)
	}
	info, _, err = f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "X", TOTP: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"})
	if err != nil || !info.HasTOTP || info.TOTPWarning != "" {
		t.Fatalf("a 160-bit seed: %+v %v", info, err)
	}
}

// Tampering with stored ciphertext, and moving a record, are caught with
// distinct errors; so are a wrong passphrase and a wrong share set (seal_test).
func TestStoredRecordIntegrity(t *testing.T) {
	f := newFixture(t)
	a := f.put(t, f.admin, "Website host", "admin", "host password", "IT Provider")
	b := f.put(t, f.admin, "Email admin", "admin", "email password", "IT Provider")
	keyA, keyB := []byte(a.ID+"/v/00000001"), []byte(b.ID+"/v/00000001") // the version records' keys
	var origA []byte
	mutate := func(fn func(tx Tx) error) {
		if err := f.v.store.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	mutate(func(tx Tx) error { origA = tx.Get(bucketCredentials, keyA); return nil })

	// A record copied onto another record's key.
	mutate(func(tx Tx) error { return tx.Put(bucketCredentials, keyA, tx.Get(bucketCredentials, keyB)) })
	if _, err := f.v.ReadCredential(ctx, req, f.admin, "Website host", 0); !errors.Is(err, ErrMisplaced) {
		t.Fatalf("swapped record: err = %v", err)
	}
	// One flipped ciphertext byte.
	bad := append([]byte(nil), origA...)
	bad[len(bad)-3] ^= 0x40
	mutate(func(tx Tx) error { return tx.Put(bucketCredentials, keyA, bad) })
	if _, err := f.v.ReadCredential(ctx, req, f.admin, "Website host", 0); !errors.Is(err, ErrTampered) {
		t.Fatalf("tampered record: err = %v", err)
	}
	// A rewritten header path (so the path check passes) still fails the AEAD.
	forged := append([]byte(nil), origA...)
	copy(forged[7:], keyB[:len(keyA)])
	mutate(func(tx Tx) error { return tx.Put(bucketCredentials, keyA, forged) })
	if _, err := f.v.ReadCredential(ctx, req, f.admin, "Website host", 0); !errors.Is(err, ErrMisplaced) && !errors.Is(err, ErrTampered) {
		t.Fatalf("forged header: err = %v", err)
	}
	// Restored, it reads again.
	mutate(func(tx Tx) error { return tx.Put(bucketCredentials, keyA, origA) })
	s, err := f.v.ReadCredential(ctx, req, f.admin, "Website host", 0)
	if err != nil || string(s.Password()) != "host password" {
		t.Fatalf("restored: %v", err)
	}
	s.Destroy()
	// Nothing secret is stored in the clear.
	raw, _ := readFile(f.dir)
	for _, secret := range []string{"host password", "email password", f.init.Admin.Password} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("%q is in the database file in the clear", secret)
		}
	}
}

// Fail closed: when the audit entry cannot be written, no secret comes back.
func TestReadFailsClosed(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Website host", "admin", "host password", "IT Provider")
	f.store.mu.Lock()
	f.store.failAudit = true
	f.store.mu.Unlock()
	s, err := f.v.ReadCredential(ctx, req, f.admin, "Website host", 0)
	if !errors.Is(err, errDiskFull) || s != nil {
		t.Fatalf("read with failing audit: %v %v", s, err)
	}
	member, _ := &Principal{UserID: "nobody", Name: "nobody", Role: RoleMember}, 0
	if _, err := f.v.ReadCredential(ctx, req, member, "Website host", 0); !errors.Is(err, errDiskFull) {
		t.Fatalf("unrecorded refusal must fail as an audit failure: %v", err)
	}
	f.store.mu.Lock()
	f.store.failAudit = false
	f.store.mu.Unlock()
	inc, err := f.v.Incidents(ctx, req, f.admin, time.Time{}, time.Time{})
	n := 0
	for _, i := range inc {
		if i.Kind == "audit write failure" {
			n++
		}
	}
	if err != nil || n != 2 {
		t.Fatalf("audit write failures among incidents: %d (%v)", n, err)
	}
}

// Concurrent audited reads share fsyncs through Batch; each must still get
// exactly one entry, and the chain must stay whole (seq and prev are derived
// inside the transaction, so a retried batch function cannot fork it).
func TestConcurrentReadsKeepTheChain(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	member, _ := f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Facebook page", "shared", "pw", "Clerk")
	before := len(f.entries(t))
	const workers, reads = 8, 25
	errs := make(chan error, workers*reads)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func(w int) {
			defer func() { done <- struct{}{} }()
			p := clerk
			if w%2 == 1 {
				p = member // refused, and recorded
			}
			for i := 0; i < reads; i++ {
				s, err := f.v.ReadCredential(ctx, req, p, "Facebook page", 0)
				if s != nil {
					s.Destroy()
				}
				if (p == clerk) != (err == nil) {
					errs <- fmt.Errorf("worker %d read %d: %v", w, i, err)
				}
			}
		}(w)
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	es := f.entries(t)
	if got := len(es) - before; got != workers*reads {
		t.Fatalf("%d entries for %d reads", got, workers*reads)
	}
	res, err := f.v.VerifyAudit(ctx, req, f.admin)
	if err != nil || !res.OK {
		t.Fatalf("chain after concurrent reads: %+v %v", res, err)
	}
}

// A read is planned in a read-only transaction and committed in a write
// one; if the credential changes in between, the read is planned again:
// the secret returned and the entry recorded are both the new version's.
func TestReadReplannedWhenHeadChanges(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Router", "admin", "old password", "IT Provider")
	f.store.mu.Lock()
	f.store.afterView = func() { f.put(t, f.admin, "Router", "", "new password") }
	f.store.mu.Unlock()
	s, err := f.v.ReadCredential(ctx, Request{ID: "replan"}, f.admin, "Router", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	if string(s.Password()) != "new password" || s.Version != 2 {
		t.Fatalf("got version %d", s.Version)
	}
	var reads []*audit.Entry
	for _, e := range f.entries(t) {
		if e.RequestID == "replan" {
			reads = append(reads, e)
		}
	}
	if len(reads) != 1 || reads[0].Action != "cred.read" || reads[0].Reason != "version 2" {
		t.Fatalf("entries for the read: %+v", reads)
	}
}

func TestListPagesFiltersAndNames(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	for i := 0; i < 25; i++ {
		kind, assign := "admin", []string{"IT Provider"}
		if i%5 == 0 {
			kind, assign = "shared", []string{"Clerk"}
		}
		f.put(t, f.admin, fmt.Sprintf("Account %02d", 24-i), kind, "pw", assign...)
	}
	for i := 0; i < 30; i++ { // versions sort after their head; the list skips them
		f.put(t, f.admin, "Account 07", "", fmt.Sprintf("pw %d", i))
	}
	var all []string
	for after, pages := "", 0; ; pages++ {
		page, more, err := f.v.ListCredentials(ctx, f.admin, ListOptions{After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			all = append(all, c.Name)
		}
		if !more {
			if pages != 2 || len(page) != 5 {
				t.Fatalf("pages %d, last %d", pages, len(page))
			}
			break
		}
		after = page[len(page)-1].Name
	}
	if len(all) != 25 || all[0] != "Account 00" || all[24] != "Account 24" || !sort.StringsAreSorted(all) {
		t.Fatalf("paged list: %v", all)
	}
	got, _, _ := f.v.ListCredentials(ctx, clerk, ListOptions{})
	if len(got) != 5 || got[0].Name != "Account 04" { // the clerk sees the shared ones only
		t.Fatalf("clerk sees %d", len(got))
	}
	got, _, _ = f.v.ListCredentials(ctx, f.admin, ListOptions{Query: "account 1"})
	if len(got) != 10 {
		t.Fatalf("query: %d", len(got))
	}
	got, _, _ = f.v.ListCredentials(ctx, f.admin, ListOptions{Name: "ACCOUNT 07"})
	if len(got) != 1 || got[0].Version != 31 {
		t.Fatalf("by name: %+v", got)
	}
	if got, _, _ = f.v.ListCredentials(ctx, clerk, ListOptions{Name: "Account 07"}); len(got) != 0 {
		t.Fatal("by name shows what the caller may not see")
	}
}

// A delete whose transaction fails (its audit entry cannot be written)
// changes nothing, and the name index, which noted the delete before the
// transaction failed, must not keep saying the credential is gone.
func TestFailedDeleteLeavesCredentialFindable(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Router", "admin", "router password", "IT Provider")
	f.store.mu.Lock()
	f.store.failAudit = true
	f.store.mu.Unlock()
	if err := f.v.DeleteCredential(ctx, req, f.admin, "Router"); err == nil {
		t.Fatal("delete without its audit entry succeeded")
	}
	f.store.mu.Lock()
	f.store.failAudit = false
	f.store.mu.Unlock()
	s, err := f.v.ReadCredential(ctx, req, f.admin, "Router", 0)
	if err != nil {
		t.Fatalf("after the failed delete: %v", err)
	}
	s.Destroy()
	if list, _ := f.v.ListCredentialsAll(ctx, f.admin); len(list) != 1 {
		t.Fatalf("list after the failed delete: %d", len(list))
	}
}

// A caller who may see few credentials pages through several chunks of
// the name index.
func TestListAcrossIndexChunks(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	var items []CredentialInput
	for i := 0; i < 700; i++ {
		kind := "admin"
		if i%100 == 99 {
			kind = "shared"
		}
		items = append(items, CredentialInput{Name: fmt.Sprintf("Account %03d", i), Kind: kind, Password: []byte("pw"), Assignees: []string{"IT Provider"}})
	}
	for _, in := range items {
		if _, _, err := f.v.PutCredential(ctx, req, f.admin, in); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for after := ""; ; {
		page, more, err := f.v.ListCredentials(ctx, clerk, ListOptions{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			got = append(got, c.Name)
		}
		if !more {
			break
		}
		after = page[len(page)-1].Name
	}
	if len(got) != 7 || got[0] != "Account 099" || got[6] != "Account 699" {
		t.Fatalf("clerk's pages: %v", got)
	}
}
