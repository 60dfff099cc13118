package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// GenpassRequest is the body of POST /v1/genpass; zero fields take the
// NCSC defaults (three capitalised words joined by "-").
type GenpassRequest struct {
	Words      int     `json:"words"`
	Separator  *string `json:"separator"`
	Digits     int     `json:"digits"`
	NoCapitals bool    `json:"no_capitals"`
	MinLength  int     `json:"min_length"`
}

func (s *server) genpass(c echo.Context) error {
	var in GenpassRequest
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
	body, err := secretJSON(map[string]any{"entropy_bits": g.EntropyBits, "words": g.Words}, []string{"password"}, [][]byte{g.Password})
	if err != nil {
		return err
	}
	defer wipeBytes(body)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}
