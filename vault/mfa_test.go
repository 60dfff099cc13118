package vault

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRecoveryCodesResetAndExemption(t *testing.T) {
	f := newFixture(t)
	clerk, otl := f.addUser(t, "Clerk", RoleClerk)
	pw := []byte("velvet tractor pebble")
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: []byte(otl.Password), TOTP: code(t, otl.TOTPURI, f.clock.Now()), NewPassword: pw}); err != nil {
		t.Fatal(err)
	}
	codes, err := f.v.NewRecoveryCodes(ctx, req, clerk)
	if err != nil || len(codes) != 10 {
		t.Fatalf("codes: %v %v", codes, err)
	}
	// A code stands in for TOTP once.
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: pw, RecoveryCode: strings.ToUpper(codes[3])}); err != nil {
		t.Fatalf("recovery login: %v", err)
	}
	if e := f.last(t); !strings.Contains(e.Reason, "recovery code used (9 left)") {
		t.Fatalf("entry %+v", e)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: pw, RecoveryCode: codes[3]}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("reused recovery code: %v", err)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: []byte("wrong password!"), RecoveryCode: codes[4]}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("recovery code without the password: %v", err)
	}
	// A disabled account stays shut whatever the second factor.
	member, motl := f.addUser(t, "Member", RoleMember)
	_ = member
	f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: []byte(motl.Password), TOTP: code(t, motl.TOTPURI, f.clock.Now()), NewPassword: pw})
	// Exemption: members only, by a provider.
	if err := f.v.SetMFAExempt(ctx, req, clerk, "Member", true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("clerk exempts: %v", err)
	}
	if err := f.v.SetMFAExempt(ctx, req, f.admin, "Clerk", true); !errors.Is(err, ErrInvalid) {
		t.Fatalf("clerk exempted: %v", err)
	}
	if err := f.v.SetMFAExempt(ctx, req, f.admin, "Member", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: pw}); err != nil {
		t.Fatalf("exempt member login: %v", err)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: pw}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("clerk without TOTP: %v", err)
	}
	if err := f.v.DisableUser(ctx, req, f.admin, "Member"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: pw}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("disabled exempt member: %v", err)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: pw, RecoveryCode: codes[5]}); err != nil {
		t.Fatalf("recovery login: %v", err)
	}
	// Reset by a provider: the old seed and the codes stop working.
	if _, err := f.v.ResetMFA(ctx, req, clerk, "Clerk"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("clerk reset: %v", err)
	}
	uri, err := f.v.ResetMFA(ctx, req, f.admin, "Clerk")
	if err != nil || !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Fatalf("reset: %q %v", uri, err)
	}
	f.clock.Advance(time.Minute)
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: pw, TOTP: code(t, otl.TOTPURI, f.clock.Now())}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("old seed after reset: %v", err)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: pw, RecoveryCode: codes[6]}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("old recovery code after reset: %v", err)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: pw, TOTP: code(t, uri, f.clock.Now())}); err != nil {
		t.Fatalf("new seed: %v", err)
	}
}
