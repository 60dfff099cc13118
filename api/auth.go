package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/vault"
)

const principalKey = "strongroom.principal"

func principal(c echo.Context) *vault.Principal {
	p, _ := c.Get(principalKey).(*vault.Principal)
	return p
}

// authenticate reads the session token from the Authorization header only
// (never a query parameter), and lets a session that must change its
// password do nothing else.
func (s *server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return vault.ErrUnauthenticated
		}
		p, err := s.v.AuthenticateFrom(c.Request().Context(), request(c), token)
		if err != nil {
			return err
		}
		if p.MustChange {
			switch c.Path() {
			case "/v1/auth/password", "/v1/auth/logout", "/v1/auth/whoami":
			default:
				return vault.ErrPasswordChange
			}
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

func (s *server) login(c echo.Context) error {
	var in wire.LoginRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Password.Wipe()
	defer in.NewPassword.Wipe()
	var newPW []byte
	if len(in.NewPassword) > 0 {
		newPW = in.NewPassword
	}
	token, p, err := s.v.Login(c.Request().Context(), request(c), vault.LoginRequest{Name: in.Name,
		Password: in.Password, TOTP: strings.TrimSpace(in.TOTP), NewPassword: newPW, RecoveryCode: in.RecoveryCode})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.LoginResponse{Token: token, Name: p.Name, Role: string(p.Role), MustChange: p.MustChange})
}

func (s *server) logout(c echo.Context) error {
	if err := s.v.Logout(c.Request().Context(), request(c), principal(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) changePassword(c echo.Context) error {
	var in wire.PasswordRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.OldPassword.Wipe()
	defer in.NewPassword.Wipe()
	if err := s.v.ChangePassword(c.Request().Context(), request(c), principal(c), in.OldPassword, in.NewPassword); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// reauth re-authenticates the session with the caller's password and a
// new TOTP code (vault.Reauthenticate, recorded as auth.reauth); admin
// secrets and their TOTP codes need one within vault.ReauthWindow.
func (s *server) reauth(c echo.Context) error {
	var in wire.ReauthRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Password.Wipe()
	err := s.v.Reauthenticate(c.Request().Context(), request(c), principal(c),
		vault.Reauth{Password: in.Password, TOTP: strings.TrimSpace(in.TOTP)})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) whoami(c echo.Context) error {
	p := principal(c)
	return c.JSON(http.StatusOK, wire.Whoami{Name: p.Name, Role: string(p.Role), MustChange: p.MustChange})
}

func (s *server) recoveryCodes(c echo.Context) error {
	codes, err := s.v.NewRecoveryCodes(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.RecoveryCodes{Codes: codes})
}

func (s *server) resetMFA(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	uri, err := s.v.ResetMFA(c.Request().Context(), request(c), principal(c), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.MFAReset{Name: name, TOTPURI: uri})
}

func (s *server) mfaExempt(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in wire.ExemptRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := s.v.SetMFAExempt(c.Request().Context(), request(c), principal(c), name, in.Exempt); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
