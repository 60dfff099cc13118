package credentials

import (
	"context"
	"errors"
	"strings"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"testing"
)

var ctx = context.Background()

// A name index rebuilt from a snapshot older than a commit keeps that
// commit's name: the credential stays findable, and a second credential of
// the same name is refused.
func TestNameIndexRebuiltFromAnOlderSnapshot(t *testing.T) {
	f := newFixture(t)
	if err := f.put(t, "Router", "router password", false); err != nil {
		t.Fatal(err)
	}
	var names *nameIndex
	stale := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- f.b.View(ctx, func(tx barrier.Tx) error {
			names = namesOf(tx)
			<-stale // the snapshot is taken; a commit lands meanwhile
			names.mu.Lock()
			names.complete = false // as after a seal and unseal: the next lookup rebuilds
			names.mu.Unlock()
			return ensureNames(tx)
		})
	}()
	if err := f.put(t, "Website", "website password", false); err != nil {
		t.Fatal(err)
	}
	close(stale)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if id, complete := names.lookup("website"); !complete || id == "" {
		t.Fatalf("after the stale rebuild: id %q complete %v: the newer name was dropped", id, complete)
	}
	err := f.put(t, "Website", "another password", true)
	if ee := (*access.ExistsError)(nil); !errors.As(err, &ee) {
		t.Fatalf("a second Website: %v; want *ExistsError", err)
	}
	list, _, err := f.c.ListCredentials(ctx, f.admin, ListOptions{})
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d credentials, %v", len(list), err)
	}
}

// Credential names are kept in their PRECIS form and compared by key: a
// case, width or normal-form twin is the same credential, a look-alike in
// another alphabet is refused naming the one it looks like, and a
// look-alike of one the caller may not see is refused without naming it.
func TestCredentialNameRule(t *testing.T) {
	f := newFixture(t)
	if err := f.put(t, "Caf\u00e9 account", "pw one", false); err != nil {
		t.Fatal(err)
	}
	// NFD, upper case and full width: the same name, so a new version.
	for _, twin := range []string{"Cafe\u0301 account", "CAFÉ ACCOUNT", "Ｃａｆé account"} {
		if err := f.put(t, twin, "pw two", true); !errors.As(err, new(*access.ExistsError)) {
			t.Errorf("%q: %v; want the existing credential", twin, err)
		}
	}
	if list, _, _ := f.c.ListCredentials(ctx, f.admin, ListOptions{}); len(list) != 1 || list[0].Name != "Caf\u00e9 account" {
		t.Fatalf("list %+v", list)
	}
	if err := f.put(t, "Bank admin", "pw", false); err != nil {
		t.Fatal(err)
	}
	var ce *access.ConfusableError
	if err := f.put(t, "B\u0430nk admin", "pw", false); !errors.As(err, &ce) || ce.Existing != "Bank admin" { // Cyrillic а
		t.Fatalf("a Cyrillic look-alike: %v", err)
	}
	if err := f.put(t, "Ba\u043dk", "pw", false); !errors.As(err, new(*access.InputError)) { // a word mixing alphabets
		t.Fatalf("a mixed word: %v", err)
	}
	member := &access.Principal{UserID: "u-member", Name: "Member", Role: access.RoleMember}
	_, _, err := f.c.PutCredential(ctx, auditlog.Request{ID: "m"}, member, CredentialInput{Name: "B\u0430nk admin",
		Kind: string(access.KindPersonal), Password: []byte("pw")})
	if err == nil || strings.Contains(err.Error(), "Bank admin\"") || !strings.Contains(err.Error(), "cannot be used") {
		t.Fatalf("a look-alike of an unseen name: %v", err)
	}
}

// Bringing back a retired credential does not make two live names that
// look the same, and a look-alike is still found after one of two twins
// (from before the rule) is retired.
func TestUndeleteKeepsLookAlikesApart(t *testing.T) {
	f := newFixture(t)
	for _, step := range []error{f.put(t, "paypal", "pw", false), f.c.DeleteCredential(ctx, auditlog.Request{ID: "d"}, f.admin, "paypal"),
		f.put(t, "paypa1", "pw", false)} { // a digit drawn like the l, allowed once "paypal" is gone
		if step != nil {
			t.Fatal(step)
		}
	}
	var ce *access.ConfusableError
	if _, err := f.c.UndeleteCredential(ctx, auditlog.Request{ID: "u"}, f.admin, "paypal"); !errors.As(err, &ce) || ce.Existing != "paypa1" {
		t.Fatalf("undelete beside a look-alike: %v", err)
	}
	if list, _, _ := f.c.ListCredentials(ctx, f.admin, ListOptions{}); len(list) != 1 {
		t.Fatalf("live: %+v", list)
	}
}
