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
	es, raws := f.entries(t)
	var got []audit.Entry
	for _, e := range es {
		if e.Action == audit.AuthTokenRefused {
			got = append(got, e)
		}
	}
	// The first names the session's account; the session is then gone,
	// and the rest are a token with no session, from this address.
	if len(got) != 2 {
		t.Fatalf("%d entries for 5 refusals: %+v", len(got), got)
	}
	if e := got[0]; e.Actor.Name != "Clerk" || e.Target.ID != SessionID(key) || !strings.HasPrefix(e.Reason, "session token refused: session idle since") {
		t.Errorf("the first: %+v", e)
	}
	if e := got[1]; e.Actor.Name != "" || e.Target.ID != "" || e.Reason != "session token refused: "+unknownToken {
		t.Errorf("the second: %+v", e)
	}
	for _, raw := range raws {
		if bytes.Contains(raw, []byte(token)) || bytes.Contains(raw, []byte(key)) || bytes.Contains(raw, []byte(token[len(tokenPrefix):])) {
			t.Fatalf("the token or its hash in an entry: %s", raw)
		}
	}
	// A made-up token counts with the others from the address.
	if _, err := f.a.AuthenticateFrom(ctx, fromA, tokenPrefix+strings.Repeat("A", 43)); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	if _, err := f.a.AuthenticateFrom(ctx, fromA, "not a token"); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	if n := len(f.count(t, audit.AuthTokenRefused)); n != 2 {
		t.Fatalf("%d entries after a flood within a minute", n)
	}
	f.advance(time.Minute)
	refusals(1)
	all := f.count(t, audit.AuthTokenRefused)
	if e := all[len(all)-1]; len(all) != 3 || !strings.HasSuffix(e.Reason, "(6 refusals since the last such entry)") {
		t.Fatalf("the next minute: %d entries, last %+v", len(all), e)
	}
	// Another address is its own stream.
	if _, err := f.a.AuthenticateFrom(ctx, fromB, token); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatal(err)
	}
	if all := f.count(t, audit.AuthTokenRefused); len(all) != 4 || all[3].Client.IP != fromB.IP {
		t.Fatalf("from B: %+v", all)
	}
}

// A disabled account's session that is still stored is recorded against
// the account.
func TestRefusedTokenOfDisabledAccount(t *testing.T) {
	f := newFixture(t)
	clerk := f.addUser(t, "Clerk", access.RoleClerk)
	token, p, err := f.a.Login(ctx, fromA, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)})
	if err != nil {
		t.Fatal(err)
	}
	// Disabled without its sessions ended (as a restored backup could be).
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
