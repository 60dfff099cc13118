package vault

import (
	"errors"
	"testing"
	"time"
)

// approvedDevice is a command line's request to sign in as a new clerk,
// approved by the clerk.
func approvedDevice(t *testing.T, f *fixture) DeviceGrant {
	t.Helper()
	a := f.account(t, "Clerk", RoleClerk)
	_, clerk := f.login(t, a) // a real session: an approval is checked against it as stored
	f.clock.Advance(30 * time.Second)
	if err := f.v.Reauthenticate(ctx, req, clerk, Reauth{Password: append([]byte(nil), a.password...), TOTP: code(t, a.totpURI, f.clock.Now())}); err != nil {
		t.Fatal(err)
	}
	g, err := f.v.StartDevice(ctx, req, "Clerk")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.DecideDevice(ctx, req, clerk, g.UserCode, true); err != nil {
		t.Fatal(err)
	}
	return g
}

// A command line's request ends at a seal, as every session does: an
// approved request not yet collected gets no session after the unseal
// (whose state check passes with the request's record gone).
func TestDeviceEndsAtSeal(t *testing.T) {
	f := newFixture(t)
	g := approvedDevice(t, f)
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.PollDevice(ctx, req, g.DeviceCode); !errors.Is(err, ErrSealed) {
		t.Fatalf("poll while sealed: %v", err)
	}
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.PollDevice(ctx, req, g.DeviceCode); !errors.Is(err, ErrDeviceUnknown) {
		t.Fatalf("poll after unseal: %v", err)
	}
}

// Through the vault's facade: an approval by the named person gives the
// command line a session the vault accepts.
func TestDeviceThroughTheVault(t *testing.T) {
	f := newFixture(t)
	g := approvedDevice(t, f)
	token, p, err := f.v.PollDevice(ctx, req, g.DeviceCode)
	if err != nil || p.Name != "Clerk" {
		t.Fatalf("poll: %v", err)
	}
	if who, err := f.v.Authenticate(ctx, token); err != nil || who.Name != "Clerk" {
		t.Fatalf("session: %v", err)
	}
}
