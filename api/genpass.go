package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/vault"
)

func (s *server) genpass(c echo.Context) error {
	var in wire.GenpassRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	opts := vault.DefaultGenOptions()
	if in.Words != 0 {
		opts.Words = in.Words
	}
	if in.Separator != nil {
		opts.Separator = *in.Separator
	}
	opts.Digits, opts.Capitals, opts.MinLength = in.Digits, !in.NoCapitals, in.MinLength
	g, err := vault.GeneratePassword(opts)
	if err != nil {
		return err
	}
	defer wipeBytes(g.Password)
	body, err := wire.Generated{EntropyBits: g.EntropyBits, Words: g.Words, Password: g.Password}.AppendJSON(nil)
	if err != nil {
		return err
	}
	defer wipeBytes(body)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}
