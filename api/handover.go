package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/vault"
)

// handOver is POST /v1/handovers: any signed-in person hands a council
// account's login over to the council (201 and the credential, without
// its secret).
func (s *server) handOver(c echo.Context) error {
	var in wire.HandoverRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.TOTP.Wipe()
	info, err := s.v.HandOver(c.Request().Context(), request(c), principal(c), vault.HandoverInput{Name: in.Name, URL: in.URL,
		Username: in.Username, Password: in.Password, TOTP: string(in.TOTP), Reason: in.Reason})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, credInfoOut(info))
}

// confirmHandover is POST /v1/handovers/{name}/confirm: a clerk confirms
// receiving a handed-over login.
func (s *server) confirmHandover(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	info, err := s.v.ConfirmHandover(c.Request().Context(), request(c), principal(c), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, credInfoOut(info))
}
