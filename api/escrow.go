package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// ShareRequest is the body of POST /v1/escrow/check.
type ShareRequest struct {
	Share secretBytes `json:"share"`
}

// ShareCheckResponse says whose current share was checked.
type ShareCheckResponse struct {
	vault.ShareCheck
	Message string `json:"message"`
}

// checkShare needs no session: a holder checks an envelope with nothing but
// the envelope, sealed or not. It is rate limited and recorded.
func (s *server) checkShare(c echo.Context) error {
	var in ShareRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Share.wipe()
	res, err := s.v.CheckShare(c.Request().Context(), request(c), string(in.Share))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ShareCheckResponse{ShareCheck: res,
		Message: fmt.Sprintf("valid, current share %d of holder %s (generation %d; %d of %d shares open the vault)",
			res.Index, res.Holder, res.Generation, res.Threshold, res.Shares)})
}

// RekeyRequest is the body of POST /v1/escrow/rekey.
type RekeyRequest struct {
	Shares     int           `json:"shares"`
	Threshold  int           `json:"threshold"`
	Holders    []string      `json:"holders"`
	Passphrase secretBytes   `json:"passphrase"`
	Quorum     []secretBytes `json:"quorum"`
}

// RekeyResponse holds the new envelopes, returned once.
type RekeyResponse struct {
	Generation uint32        `json:"generation"`
	Threshold  int           `json:"threshold"`
	Envelopes  []EnvelopeOut `json:"envelopes"`
}

func (s *server) rekey(c echo.Context) error {
	var in RekeyRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Passphrase.wipe()
	var quorum []string
	for _, q := range in.Quorum {
		quorum = append(quorum, string(q))
		q.wipe()
	}
	res, err := s.v.Rekey(c.Request().Context(), request(c), principal(c), vault.RekeyRequest{Shares: in.Shares,
		Threshold: in.Threshold, Holders: in.Holders, Passphrase: in.Passphrase, Quorum: quorum})
	if err != nil {
		return err
	}
	out := RekeyResponse{Generation: res.Generation, Threshold: int(res.Envelopes[0].Share.Threshold)}
	if out.Envelopes, err = envelopesOut(res.Envelopes); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// PassphraseRequest is the body of POST /v1/recover/passphrase.
type PassphraseRequest struct {
	Passphrase secretBytes `json:"passphrase"`
}

func (s *server) setPassphrase(c echo.Context) error {
	var in PassphraseRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Passphrase.wipe()
	if err := s.v.SetPassphrase(c.Request().Context(), request(c), principal(c), in.Passphrase); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// BreakGlassRequest is the body of POST /v1/breakglass.
type BreakGlassRequest struct {
	Reason string `json:"reason"`
}

func (s *server) breakGlass(c echo.Context) error {
	var in BreakGlassRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	until, err := s.v.OpenBreakGlass(c.Request().Context(), request(c), principal(c), in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]time.Time{"expires": until})
}
