package api

import (
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/transfer"
	"strongroom/vault"
)

// importBodyLimit allows a KDBX or CSV file of transfer.MaxFileSize,
// base64-encoded in JSON, with room for the other fields.
const importBodyLimit = "24M"

func (s *server) importFile(c echo.Context) error {
	var in wire.ImportRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Password.Wipe()
	defer in.Data.Wipe()
	defer in.KeyFile.Wipe()
	data, err := decodeBase64(in.Data)
	defer wipeBytes(data)
	if err != nil {
		return errBadRequest("data must be the file in base64")
	}
	keyFile, err := decodeBase64(in.KeyFile)
	defer wipeBytes(keyFile)
	if err != nil {
		return errBadRequest("key_file must be the key file in base64")
	}
	csvMap, err := transfer.ParseCSVMap(in.CSVMap)
	if err != nil {
		return err
	}
	refused, known := transfer.KeePassXCRefusals[in.KeePassXCRefused]
	if in.KeePassXCRefused != "" && (!known || in.ConvertedFrom == "") {
		return &vault.InputError{Field: "keepassxc_refused", Msg: "keepassxc_refused is not a reason code Strongroom knows, or comes without converted_from"}
	}
	rep, err := s.v.Import(c.Request().Context(), request(c), principal(c), vault.ImportOptions{
		Format: in.Format, Kind: in.Kind, Assignees: in.Assignees, Tag: in.Tag, DryRun: in.DryRun, ConvertedFrom: in.ConvertedFrom,
	}, func() (*transfer.Result, error) {
		if refused != nil { // keepassxc-cli's refusal, recorded as the vault's own
			return nil, refused
		}
		return transfer.Decode(in.Format, data, transfer.KDBXKey{Password: in.Password, KeyFile: keyFile, EmptyPassword: in.EmptyPassword}, csvMap)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, importOut(*rep))
}

// decodeBase64 decodes standard base64 (newlines ignored) into bytes the
// caller wipes, as base64.StdEncoding.DecodeString would.
func decodeBase64(b64 []byte) ([]byte, error) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(out, b64)
	return out[:n], err
}

func (s *server) exportFile(c echo.Context) error {
	var in wire.ExportRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Passphrase.Wipe()
	defer in.Password.Wipe()
	defer in.TOTP.Wipe()
	if in.Format != "kdbx" {
		return errBadRequest("format must be kdbx")
	}
	out, rep, err := s.v.ExportKDBX(c.Request().Context(), request(c), principal(c),
		vault.Reauth{Password: in.Password, TOTP: string(in.TOTP)}, in.Passphrase)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.ExportResponse{File: base64.StdEncoding.EncodeToString(out), ExportReport: wire.ExportReport(*rep)})
}
