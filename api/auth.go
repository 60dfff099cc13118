package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

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
		p, err := s.v.Authenticate(c.Request().Context(), token)
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

// LoginRequest is the body of POST /v1/auth/login.
type LoginRequest struct {
	Name         string      `json:"name"`
	Password     secretBytes `json:"password"`
	TOTP         string      `json:"totp"`
	NewPassword  secretBytes `json:"new_password"`
	RecoveryCode string      `json:"recovery_code"`
}

// LoginResponse carries the session token (in the body, never a URL).
type LoginResponse struct {
	Token      string `json:"token"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	MustChange bool   `json:"must_change_password"`
}

func (s *server) login(c echo.Context) error {
	var in LoginRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Password.wipe()
	defer in.NewPassword.wipe()
	var newPW []byte
	if len(in.NewPassword) > 0 {
		newPW = in.NewPassword
	}
	token, p, err := s.v.Login(c.Request().Context(), request(c), vault.LoginRequest{Name: in.Name,
		Password: in.Password, TOTP: strings.TrimSpace(in.TOTP), NewPassword: newPW, RecoveryCode: in.RecoveryCode})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, LoginResponse{Token: token, Name: p.Name, Role: string(p.Role), MustChange: p.MustChange})
}

func (s *server) logout(c echo.Context) error {
	if err := s.v.Logout(c.Request().Context(), request(c), principal(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// PasswordRequest is the body of POST /v1/auth/password.
type PasswordRequest struct {
	OldPassword secretBytes `json:"old_password"`
	NewPassword secretBytes `json:"new_password"`
}

func (s *server) changePassword(c echo.Context) error {
	var in PasswordRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.OldPassword.wipe()
	defer in.NewPassword.wipe()
	if err := s.v.ChangePassword(c.Request().Context(), request(c), principal(c), in.OldPassword, in.NewPassword); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) whoami(c echo.Context) error {
	p := principal(c)
	return c.JSON(http.StatusOK, map[string]any{"name": p.Name, "role": p.Role, "must_change_password": p.MustChange})
}

func (s *server) recoveryCodes(c echo.Context) error {
	codes, err := s.v.NewRecoveryCodes(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]string{"codes": codes})
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
	return c.JSON(http.StatusOK, map[string]string{"name": name, "totp_uri": uri})
}

// ExemptRequest is the body of POST /v1/users/:name/mfa-exempt.
type ExemptRequest struct {
	Exempt bool `json:"exempt"`
}

func (s *server) mfaExempt(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in ExemptRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := s.v.SetMFAExempt(c.Request().Context(), request(c), principal(c), name, in.Exempt); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
