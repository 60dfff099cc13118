package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/vault"
)

// The command line's side of a sign-in approved in the web interface
// (RFC 8628; vault/identity/device.go). The person's side is web_device.go.

// deviceStart is POST /v1/auth/device.
func (s *server) deviceStart(c echo.Context) error {
	var in wire.DeviceStartRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	g, err := s.v.StartDevice(c.Request().Context(), request(c), strings.TrimSpace(in.User))
	if err != nil {
		return err
	}
	base := s.publicURL
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return c.JSON(http.StatusOK, wire.DeviceStart{DeviceCode: g.DeviceCode, UserCode: g.UserCode,
		VerificationURI: base + "/ui/device",
		ExpiresIn:       int(g.ExpiresIn.Seconds()), Interval: int(g.Interval.Seconds())})
}

// deviceAnswers are the poll's answers: RFC 8628's name and plain words.
var deviceAnswers = []struct {
	err         error
	code, words string
}{
	{vault.ErrDevicePending, "authorization_pending", "waiting for the person to approve the code in the web interface"},
	{vault.ErrDeviceSlowDown, "slow_down", "polled too often: wait longer between polls"},
	{vault.ErrDeviceDenied, "access_denied", "the sign-in was refused"},
	{vault.ErrDeviceExpired, "expired_token", "the code expired before it was approved: start again"},
	{vault.ErrDeviceUnknown, "invalid_grant", "no sign-in is waiting with this device code (never issued, already used, or ended when the vault was sealed): start again"},
}

// deviceToken is POST /v1/auth/device/token.
func (s *server) deviceToken(c echo.Context) error {
	var in wire.DeviceTokenRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.DeviceCode == "" {
		return &bodyError{Field: "device_code", Msg: "device_code is missing: give the one POST /v1/auth/device answered"}
	}
	token, p, err := s.v.PollDevice(c.Request().Context(), request(c), in.DeviceCode)
	for _, a := range deviceAnswers {
		if errors.Is(err, a.err) {
			body := wire.DeviceTokenError{Error: a.code, Description: a.words, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
			return c.JSON(http.StatusBadRequest, body)
		}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.LoginResponse{Token: token, Name: p.Name, Role: string(p.Role), MustChange: p.MustChange})
}
