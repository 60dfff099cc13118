package credentials

import (
	"context"
	"fmt"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPCode is a stored credential's current one-time code.
type TOTPCode struct {
	Code        string `json:"code"`
	SecondsLeft int    `json:"seconds_left"`
	Period      int    `json:"period"`
	Digits      int    `json:"digits"`
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
	k, err := otp.NewKeyFromURL(string(sec.TOTPURI()))
	if err != nil {
		return TOTPCode{}, fmt.Errorf("vault: stored TOTP of %q is unreadable", sec.Name)
	}
	period := k.Period()
	if period == 0 {
		period = 30
	}
	now := c.now()
	code, err := totp.GenerateCodeCustom(k.Secret(), now, totp.ValidateOpts{Period: uint(period), Digits: k.Digits(), Algorithm: k.Algorithm()})
	if err != nil {
		return TOTPCode{}, fmt.Errorf("vault: TOTP of %q: %w", sec.Name, err)
	}
	return TOTPCode{Code: code, SecondsLeft: int(int64(period) - now.Unix()%int64(period)), Period: int(period), Digits: k.Digits().Length()}, nil
}
