package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/escrow"
	"strongroom/vault"
)

func (s *server) status(c echo.Context) error {
	st, err := s.v.Status(c.Request().Context())
	if err != nil {
		return err
	}
	out := statusOut(st)
	if (s.deliveries != nil || s.backups != nil) && s.maySeeDelivery(c) {
		if s.deliveries != nil {
			for _, d := range s.deliveries() {
				out.Delivery = append(out.Delivery, wire.Delivery(d))
			}
		}
		if s.backups != nil {
			b := s.backups()
			out.Backups = &b
		}
	}
	return c.JSON(http.StatusOK, out)
}

// maySeeDelivery says whether the caller of the public status route is
// told how the vault's messages and backups are getting through: only a signed-in
// provider or clerk (the Messages page's audience), so nobody outside
// learns when incident e-mail is failing. While sealed nobody is signed
// in; the server's log and /metrics still say.
func (s *server) maySeeDelivery(c echo.Context) bool {
	token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok || token == "" {
		return false
	}
	p, err := s.v.AuthenticateFrom(c.Request().Context(), request(c), token)
	return err == nil && !p.MustChange && deliveryAudience(p)
}

// envelopesOut renders envelopes once and wipes the shares they hold.
func envelopesOut(envs []*escrow.Envelope) ([]EnvelopeOut, error) {
	var out []EnvelopeOut
	defer func() {
		for _, env := range envs {
			env.Share.Wipe()
		}
	}()
	for _, env := range envs {
		pdf, err := env.PDF()
		if err != nil {
			return nil, err
		}
		out = append(out, EnvelopeOut{Holder: env.Holder, Index: int(env.Share.Index), Text: env.Text(), PDF: pdf})
	}
	return out, nil
}

func (s *server) init(c echo.Context) error {
	var in wire.InitRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Passphrase.Wipe()
	res, err := s.v.Init(c.Request().Context(), request(c), vault.InitRequest{Council: in.Council, Shares: in.Shares,
		Threshold: in.Threshold, Holders: in.Holders, Admin: in.Admin, Passphrase: in.Passphrase})
	if err != nil {
		return err
	}
	out := wire.InitResponse{VaultID: res.VaultID, VerifierKey: res.VerifierKey,
		Admin: OneTimeLogin{Name: res.Admin.Name, Role: string(vault.RoleProvider), Password: res.Admin.Password, TOTPURI: res.Admin.TOTPURI}}
	if out.Envelopes, err = envelopesOut(res.Envelopes); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *server) unseal(c echo.Context) error {
	var in wire.UnsealRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Passphrase.Wipe()
	defer in.Share.Wipe()
	ctx := c.Request().Context()
	given := 0
	for _, b := range []bool{len(in.Passphrase) > 0, len(in.Share) > 0, in.Reset} {
		if b {
			given++
		}
	}
	if given != 1 {
		return errBadRequest("give exactly one of passphrase, share or reset")
	}
	switch {
	case in.Reset:
		if err := s.v.ResetUnseal(ctx, request(c)); err != nil {
			return err
		}
	case len(in.Passphrase) > 0:
		if err := s.v.UnsealPassphrase(ctx, request(c), in.Passphrase); err != nil {
			return err
		}
	default:
		p, err := s.v.UnsealShare(ctx, request(c), string(in.Share))
		if err != nil {
			return err
		}
		if p.Sealed {
			return c.JSON(http.StatusOK, wire.UnsealResponse{Sealed: true, Progress: p.Have, Threshold: p.Need, Holders: p.Holders})
		}
	}
	st, err := s.v.Status(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.UnsealResponse{Sealed: st.Sealed, Progress: st.Progress, Threshold: st.Threshold,
		Recovery: (*wire.RecoveryStatus)(st.Recovery)})
}

func (s *server) seal(c echo.Context) error {
	if err := s.v.Seal(c.Request().Context(), request(c), principal(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.Sealed{Sealed: true})
}

func queryInt(c echo.Context, name string) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errBadRequest(name + " must be a whole number")
	}
	return n, nil
}
