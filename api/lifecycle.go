package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// CompromisedRequest is the body of POST /v1/creds/:name/compromised.
type CompromisedRequest struct {
	Reason string `json:"reason"`
}

func (s *server) credCompromised(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in CompromisedRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := s.v.MarkCompromised(c.Request().Context(), request(c), principal(c), name, in.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// RotateRequest is the body of POST /v1/creds/:name/rotate: a new password,
// or generate (with optional generator settings).
type RotateRequest struct {
	Password secretBytes     `json:"password"`
	Generate *GenpassRequest `json:"generate"`
}

func (s *server) credRotate(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in RotateRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Password.wipe()
	var opts *vault.GenOptions
	if in.Generate != nil {
		o := vault.DefaultGenOptions()
		if in.Generate.Words != 0 {
			o.Words = in.Generate.Words
		}
		if in.Generate.Separator != nil {
			o.Separator = *in.Generate.Separator
		}
		o.Digits, o.Capitals, o.MinLength = in.Generate.Digits, !in.Generate.NoCapitals, in.Generate.MinLength
		opts = &o
	}
	info, gen, err := s.v.RotateCredential(c.Request().Context(), request(c), principal(c), name, in.Password, opts)
	if err != nil {
		return err
	}
	if gen == nil {
		return c.JSON(http.StatusOK, info)
	}
	defer wipeBytes(gen.Password)
	body, err := secretJSON(info, []string{"password"}, [][]byte{gen.Password})
	if err != nil {
		return err
	}
	defer wipeBytes(body)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

// RestoreRequest is the body of POST /v1/creds/:name/restore.
type RestoreRequest struct {
	Version int `json:"version"`
}

func (s *server) credRestore(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in RestoreRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	info, err := s.v.RestoreVersion(c.Request().Context(), request(c), principal(c), name, in.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

func (s *server) credHistory(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	h, err := s.v.CredentialHistory(c.Request().Context(), request(c), principal(c), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h)
}
