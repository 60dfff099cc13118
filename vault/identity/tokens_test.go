package identity

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
)

// Every refused token is recorded, at most once a minute per token (per
// address for a token with no session), with a count, and never with the
// token or its hash.
func TestRefusedTokensRecorded(t *testing.T) {
	f := newFixture(t)
	clerk := f.addUser(t, "Clerk", access.RoleClerk)
	token, p, err := f.a.Login(ctx, fromA, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)})
	if err != nil {
		t.Fatal(err)
	}
	key := p.Session()
	f.advance(31 * time.Minute) // idle
	refusals := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := f.a.AuthenticateFrom(ctx, fromA, token); !errors.Is(err, access.ErrUnauthenticated) {
				t.Fatalf("an idle session: %v", err)
			}
		}
	}
	refusals(5)
	// The first ends the session; the rest are the same token, whose
	// session the vault remembers.
	got := f.count(t, audit.AuthTokenRefused)
	if len(got) != 1 {
		t.Fatalf("%d entries for 5 refusals: %+v", len(got), got)
	}
	if e := got[0]; e.Actor.Name != "Clerk" || e.Target.ID != SessionID(key) || !strings.HasPrefix(e.Reason, "session token refused: session idle since") {
		t.Errorf("the entry: %+v", e)
	}
	// Made-up tokens name nobody and count per address.
	if _, err := f.a.AuthenticateFrom(ctx, fromA, tokenPrefix+strings.Repeat("A", 43)); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	if _, err := f.a.AuthenticateFrom(ctx, fromA, "not a token"); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	all := f.count(t, audit.AuthTokenRefused)
	if len(all) != 2 || all[1].Actor.Name != "" || all[1].Target.ID != "" || all[1].Reason != "session token refused: "+unknownToken {
		t.Fatalf("made-up tokens: %+v", all)
	}
	f.advance(time.Minute)
	refusals(1)
	all = f.count(t, audit.AuthTokenRefused)
	if e := all[len(all)-1]; len(all) != 3 || e.Actor.Name != "Clerk" || !strings.HasSuffix(e.Reason, "(5 refusals since the last such entry)") {
		t.Fatalf("the next minute: %d entries, last %+v", len(all), e)
	}
	// The same token from elsewhere is the same stream; a made-up token
	// from elsewhere is that address's own.
	if _, err := f.a.AuthenticateFrom(ctx, fromB, token); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	if _, err := f.a.AuthenticateFrom(ctx, fromB, "not a token"); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	if all := f.count(t, audit.AuthTokenRefused); len(all) != 4 || all[3].Client.IP != fromB.IP || all[3].Actor.Name != "" {
		t.Fatalf("from B: %+v", all)
	}
	_, raws := f.entries(t)
	for _, raw := range raws {
		if bytes.Contains(raw, []byte(token)) || bytes.Contains(raw, []byte(key)) || bytes.Contains(raw, []byte(token[len(tokenPrefix):])) {
			t.Fatalf("the token or its hash in an entry: %s", raw)
		}
	}
}

// A token whose account was disabled is recorded against the account,
// whether its session was removed with the disabling or is still stored.
func TestRefusedTokenOfDisabledAccount(t *testing.T) {
	f := newFixture(t)
	clerk := f.addUser(t, "Clerk", access.RoleClerk)
	token, _, err := f.a.Login(ctx, fromA, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)})
	if err != nil {
		t.Fatal(err)
	}
	admin := access.NewPrincipal("admin", "IT Provider", access.RoleProvider, "")
	if err := f.a.DisableUser(ctx, fromB, admin, "Clerk"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AuthenticateFrom(ctx, fromA, token); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	es := f.count(t, audit.AuthTokenRefused)
	if len(es) != 1 || es[0].Actor.Name != "Clerk" || es[0].Reason != "session token refused: session ended: account disabled or offboarded" {
		t.Fatalf("%+v", es)
	}
}

// A disabled account's session that is still stored (disabled without its
// sessions ended, as a restored backup could be) is recorded against the
// account.
func TestRefusedTokenOfDisabledAccountStillStored(t *testing.T) {
	f := newFixture(t)
	clerk := f.addUser(t, "Clerk", access.RoleClerk)
	token, p, err := f.a.Login(ctx, fromA, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.updateUser(ctx, fromA, access.NewPrincipal("", "test", access.RoleProvider, ""), p.UserID, audit.UserDisable,
		func(u *Record) (string, error) { u.Disabled = true; return "", nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AuthenticateFrom(ctx, fromA, token); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	es := f.count(t, audit.AuthTokenRefused)
	if len(es) != 1 || es[0].Actor.Name != "Clerk" || es[0].Reason != "session token refused: account disabled or offboarded" {
		t.Fatalf("%+v", es)
	}
}

func (f *fixture) count(t *testing.T, action audit.Action) []audit.Entry {
	t.Helper()
	es, _ := f.entries(t)
	var out []audit.Entry
	for _, e := range es {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}
