package credentials

import (
	"context"
	"fmt"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
)

// TOTPCode is a stored credential's current one-time code.
type TOTPCode struct {
	Code        string `json:"code"`
	SecondsLeft int    `json:"seconds_left"`
	Period      int    `json:"period"`
	Digits      int    `json:"digits"`
	// Encoder is "steam" for Steam Guard codes (letters), else empty.
	Encoder string `json:"encoder,omitempty"`
	// Warning says what is unusual about the seed (a short one).
	Warning string `json:"warning,omitempty"`
}

// CredentialTOTP returns the current code of a credential's TOTP seed. It is
// a read like any other: assignees only, recorded (reason "TOTP code")
// and committed before the code is computed.
func (c *Credentials) CredentialTOTP(ctx context.Context, req auditlog.Request, p *access.Principal, name string) (TOTPCode, error) {
	sec, err := c.readCredential(ctx, req, p, name, 0, "TOTP code; ")
	if err != nil {
		return TOTPCode{}, err
	}
	defer sec.Destroy()
	if sec.TOTPURI() == nil {
		return TOTPCode{}, notFound("TOTP seed for credential", sec.Name)
	}
	s, err := parseTOTP(string(sec.TOTPURI()), sec.Name)
	if err != nil {
		return TOTPCode{}, fmt.Errorf("vault: stored TOTP of %q is unreadable", sec.Name)
	}
	now := c.now()
	out := TOTPCode{Code: s.code(now), SecondsLeft: int(int64(s.period) - now.Unix()%int64(s.period)), Period: s.period,
		Digits: s.digits, Warning: s.warning()}
	if s.steam {
		out.Encoder = "steam"
	}
	return out, nil
}
