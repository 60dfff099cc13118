package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/vault"
)

func (s *server) credCompromised(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in wire.CompromisedRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := s.v.MarkCompromised(c.Request().Context(), request(c), principal(c), name, in.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) credRotate(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in wire.RotateRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Password.Wipe()
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
		return c.JSON(http.StatusOK, credInfoOut(info))
	}
	defer wipeBytes(gen.Password)
	body, err := wire.Rotated{CredentialInfo: credInfoOut(info), Password: gen.Password}.AppendJSON(nil)
	if err != nil {
		return err
	}
	defer wipeBytes(body)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

func (s *server) credRestore(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in wire.RestoreRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	info, err := s.v.RestoreVersion(c.Request().Context(), request(c), principal(c), name, in.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, credInfoOut(info))
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
	return c.JSON(http.StatusOK, each(h, versionOut))
}
