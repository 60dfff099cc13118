package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/vault"
)

// checkShare needs no session: a holder checks an envelope with nothing but
// the envelope, sealed or not. It is rate limited and recorded.
func (s *server) checkShare(c echo.Context) error {
	var in wire.ShareRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Share.Wipe()
	res, err := s.v.CheckShare(c.Request().Context(), request(c), string(in.Share))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.ShareCheckResponse{ShareCheck: wire.ShareCheck(res),
		Message: fmt.Sprintf("valid, current share %d of holder %s (generation %d; %d of %d shares open the vault)",
			res.Index, res.Holder, res.Generation, res.Threshold, res.Shares)})
}

func (s *server) rewrap(c echo.Context) error {
	res, err := s.v.Rewrap(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.RewrapResponse{Term: res.Term, Resealed: res.Resealed, Dropped: res.Dropped})
}

func (s *server) rekey(c echo.Context) error {
	var in wire.RekeyRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Passphrase.Wipe()
	var quorum []string
	for _, q := range in.Quorum {
		quorum = append(quorum, string(q))
		q.Wipe()
	}
	res, err := s.v.Rekey(c.Request().Context(), request(c), principal(c), vault.RekeyRequest{Shares: in.Shares,
		Threshold: in.Threshold, Holders: in.Holders, Passphrase: in.Passphrase, Quorum: quorum})
	if err != nil {
		return err
	}
	out := wire.RekeyResponse{Generation: res.Generation, Threshold: int(res.Envelopes[0].Share.Threshold)}
	if out.Envelopes, err = envelopesOut(res.Envelopes); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *server) setPassphrase(c echo.Context) error {
	var in wire.PassphraseRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Passphrase.Wipe()
	if err := s.v.SetPassphrase(c.Request().Context(), request(c), principal(c), in.Passphrase); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) breakGlass(c echo.Context) error {
	var in wire.BreakGlassRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	until, err := s.v.OpenBreakGlass(c.Request().Context(), request(c), principal(c), in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.BreakGlass{Expires: until})
}
