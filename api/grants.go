package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
)

func (s *server) createRequest(c echo.Context) error {
	var in wire.AccessRequestBody
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := time.ParseDuration(in.For)
	if err != nil {
		return errBadRequest(`for must be a duration such as "2h" or "30m"`)
	}
	r, err := s.v.CreateRequest(c.Request().Context(), request(c), principal(c), in.Credential, in.Reason, d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, requestOut(*r))
}

func (s *server) listRequests(c echo.Context) error {
	list, err := s.v.ListRequests(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, each(list, requestOut))
}

func (s *server) decideRequest(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in wire.DecisionBody
		if c.Request().ContentLength != 0 {
			if err := bind(c, &in); err != nil {
				return err
			}
		}
		r, g, err := s.v.DecideRequest(c.Request().Context(), request(c), principal(c), c.Param("id"), approve, in.Reason)
		if err != nil {
			return err
		}
		out := wire.Decision{Request: (*wire.AccessRequest)(r), Grant: (*wire.Grant)(g)}
		return c.JSON(http.StatusOK, out)
	}
}

func (s *server) revokeGrant(c echo.Context) error {
	if err := s.v.RevokeGrant(c.Request().Context(), request(c), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) accessReview(c echo.Context) error {
	days, err := queryInt(c, "days")
	if err != nil {
		return err
	}
	reg, err := s.v.AccessReview(c.Request().Context(), request(c), principal(c), days)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, each(reg, registerOut))
}

// passwordHealth is GET /v1/report/password-health?older_than=365d.
func (s *server) passwordHealth(c echo.Context) error {
	age, err := olderThan(c.QueryParam("older_than"))
	if err != nil {
		return err
	}
	rep, err := s.v.PasswordHealth(c.Request().Context(), request(c), principal(c), age)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, healthOut(*rep))
}

// olderThan reads the report's age ("" is the vault's default), as an
// input error on older_than.
func olderThan(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	d, err := wire.ParseAge(s)
	switch {
	case err != nil:
		return 0, &bodyError{Field: "older_than", Msg: "older_than " + err.Error()}
	case d == 0: // given as 0: not the default, which is asked for by leaving it out
		return 0, &bodyError{Field: "older_than", Msg: "older_than must be from 1 to 3650 days"}
	}
	return d, nil
}

func (s *server) credReview(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	if err := s.v.ReviewCredential(c.Request().Context(), request(c), principal(c), name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
