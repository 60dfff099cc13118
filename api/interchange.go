package api

import (
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/transfer"
	"strongroom/vault"
)

// importBodyLimit allows a KDBX or CSV file of transfer.MaxFileSize,
// base64-encoded in JSON, with room for the other fields.
const importBodyLimit = "24M"

// ImportRequest carries a file to import. Data and KeyFile are base64
// (standard encoding); Password opens a KDBX file.
type ImportRequest struct {
	Format    string      `json:"format"`
	Data      string      `json:"data"`
	Password  secretBytes `json:"password,omitempty"`
	KeyFile   string      `json:"key_file,omitempty"`
	CSVMap    string      `json:"csv_map,omitempty"`
	Kind      string      `json:"kind,omitempty"`
	Assignees []string    `json:"assignees,omitempty"`
	Tag       string      `json:"tag,omitempty"`
	DryRun    bool        `json:"dry_run,omitempty"`
	// ConvertedFrom says the client converted the file first (an Argon2d
	// KDBX read by keepassxc-cli); it is recorded with the import.
	ConvertedFrom string `json:"converted_from,omitempty"`
}

func (s *server) importFile(c echo.Context) error {
	var in ImportRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Password.wipe()
	data, err := base64.StdEncoding.DecodeString(in.Data)
	if err != nil {
		return errBadRequest("data must be the file in base64")
	}
	defer secretBytes(data).wipe()
	keyFile, err := base64.StdEncoding.DecodeString(in.KeyFile)
	if err != nil {
		return errBadRequest("key_file must be the key file in base64")
	}
	defer secretBytes(keyFile).wipe()
	csvMap, err := transfer.ParseCSVMap(in.CSVMap)
	if err != nil {
		return err
	}
	rep, err := s.v.Import(c.Request().Context(), request(c), principal(c), vault.ImportOptions{
		Format: in.Format, Kind: in.Kind, Assignees: in.Assignees, Tag: in.Tag, DryRun: in.DryRun, ConvertedFrom: in.ConvertedFrom,
	}, func() (*transfer.Result, error) {
		return transfer.Decode(in.Format, data, transfer.KDBXKey{Password: in.Password, KeyFile: keyFile}, csvMap)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// ExportRequest asks for a KDBX export: the file's passphrase, and the
// caller's own password and a fresh TOTP code (re-authentication).
type ExportRequest struct {
	Format     string      `json:"format"`
	Passphrase secretBytes `json:"passphrase"`
	Password   secretBytes `json:"password"`
	TOTP       secretBytes `json:"totp"`
}

func (s *server) exportFile(c echo.Context) error {
	var in ExportRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.Passphrase.wipe()
	defer in.Password.wipe()
	defer in.TOTP.wipe()
	if in.Format != "kdbx" {
		return errBadRequest("format must be kdbx")
	}
	out, rep, err := s.v.ExportKDBX(c.Request().Context(), request(c), principal(c),
		vault.Reauth{Password: in.Password, TOTP: string(in.TOTP)}, in.Passphrase)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ExportResponse{File: base64.StdEncoding.EncodeToString(out), ExportReport: *rep})
}

// ExportResponse is the export file (base64) and what it holds.
type ExportResponse struct {
	File string `json:"file"`
	vault.ExportReport
}
