package identity

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"strongroom/vault/access"
)

// The factor a login offers is tried in order (recovery code, exemption,
// TOTP) and confirmed on the stored account: a code is used once, an
// exemption holds only for a member, a TOTP step only once.
func TestSecondFactors(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Strongroom", AccountName: "clerk"})
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCodeCustom(key.Secret(), now, totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	rc := newRecoveryCode()
	u := &Record{Role: access.RoleClerk, TOTPSecret: key.Secret(), RecoveryCodes: []string{hashRecoveryCode(rc)}}
	cases := []struct {
		name    string
		in      LoginRequest
		mutate  func(*Record)
		refusal string
	}{
		{"TOTP", LoginRequest{TOTP: code}, nil, ""},
		{"TOTP step used", LoginRequest{TOTP: code}, func(r *Record) { r.LastTOTPStep = now.Unix() / 30 }, "TOTP code already used"},
		{"wrong TOTP", LoginRequest{TOTP: "000000"}, nil, "wrong TOTP code"},
		{"recovery code", LoginRequest{RecoveryCode: rc}, nil, ""},
		{"recovery code twice", LoginRequest{RecoveryCode: rc}, func(r *Record) { r.RecoveryCodes = nil }, "wrong or used recovery code"},
		{"exempt clerk", LoginRequest{}, func(r *Record) { r.MFAExempt = true }, "wrong TOTP code"},
		{"exempt member", LoginRequest{}, func(r *Record) { r.MFAExempt, r.Role = true, access.RoleMember }, ""},
	}
	for _, c := range cases {
		cur := *u
		cur.RecoveryCodes = append([]string(nil), u.RecoveryCodes...)
		if c.mutate != nil {
			c.mutate(&cur)
		}
		refusal, _, _ := factorFor(c.in, &cur).confirm(c.in, &cur, now)
		if refusal != c.refusal {
			t.Errorf("%s: refusal %q, want %q", c.name, refusal, c.refusal)
		}
	}
}
