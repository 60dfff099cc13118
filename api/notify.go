package api

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/internal/notify"
	"strongroom/vault"
)

// mailSettings is GET /v1/notify/settings: each kind of e-mail, whether
// the council has it on, and whether the server switched it off.
func (s *server) mailSettings(c echo.Context) error {
	switch principal(c).Role { // not members or auditors: nobody probing learns what goes unmailed
	case vault.RoleProvider, vault.RoleClerk, vault.RoleChairman:
	default:
		return vault.ErrForbidden
	}
	off, err := s.v.MailOff(c.Request().Context())
	if err != nil {
		return err
	}
	out := wire.MailSettings{Kinds: []wire.MailKind{}}
	for _, k := range notify.Kinds {
		on, serverOff := !slices.Contains(off, string(k)), slices.Contains(s.mailOff, k)
		out.Kinds = append(out.Kinds, wire.MailKind{Kind: string(k), On: on, ServerOff: serverOff, Sent: on && !serverOff})
	}
	return c.JSON(http.StatusOK, out)
}

// setMail is PUT /v1/notify/settings/{kind} {"on": BOOL} (a provider).
func (s *server) setMail(c echo.Context) error {
	kind, err := notify.ParseKind(c.Param("kind"))
	if err != nil {
		return &bodyError{Field: "kind", Msg: "kind must be one of " + notify.KindList()}
	}
	var in wire.MailSwitch
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.On == nil {
		return &bodyError{Field: "on", Msg: `field "on" is required: true or false`}
	}
	if err := s.v.SetMail(c.Request().Context(), request(c), principal(c), string(kind), *in.On); err != nil {
		return err
	}
	return s.mailSettings(c)
}
