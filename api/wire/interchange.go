package wire

// ImportRequest is the body of POST /v1/import. Data and KeyFile are the
// files in base64 (standard encoding), kept as Secret bytes because a CSV
// or XML export holds passwords in the clear; Password opens a KDBX file.
type ImportRequest struct {
	Format    string   `json:"format"`
	Data      Secret   `json:"data"`
	Password  Secret   `json:"password,omitempty"`
	KeyFile   Secret   `json:"key_file,omitempty"`
	CSVMap    string   `json:"csv_map,omitempty"`
	Kind      string   `json:"kind,omitempty"`
	Assignees []string `json:"assignees,omitempty"`
	Tag       string   `json:"tag,omitempty"`
	DryRun    bool     `json:"dry_run,omitempty"`
	// ConvertedFrom says the client converted the file first (an Argon2d
	// KDBX read by keepassxc-cli); it is recorded with the import.
	ConvertedFrom string `json:"converted_from,omitempty"`
	// EmptyPassword says the KDBX password is the empty one (an empty
	// password file), not absent.
	EmptyPassword bool `json:"empty_password,omitempty"`
	// KeePassXCRefused, with ConvertedFrom, says keepassxc-cli could not
	// open the file, as one of transfer.KeePassXCRefusals' codes; the
	// server records the refusal as its own and answers 400.
	KeePassXCRefused string `json:"keepassxc_refused,omitempty"`
}

// ImportReport is the answer to an import (or a dry run).
type ImportReport struct {
	Format        string         `json:"format"`
	Kind          string         `json:"kind"`
	DryRun        bool           `json:"dry_run"`
	ConvertedFrom string         `json:"converted_from,omitempty"`
	Imported      []ImportedItem `json:"imported"`
	Skipped       []Skipped      `json:"skipped"`
}

// ImportedItem is one credential an import created.
type ImportedItem struct {
	Name    string   `json:"name"`
	Source  string   `json:"source"`
	Tags    []string `json:"tags"`
	HasTOTP bool     `json:"has_totp"`
	// History is how many earlier versions came from the file's password
	// history (stored as versions 1 to History).
	History int `json:"history,omitempty"`
	// Note says what was changed on the way in: a renamed duplicate, a
	// TOTP seed that could not be kept.
	Note string `json:"note,omitempty"`
}

// Skipped is an entry of the file that was not imported, and why.
type Skipped struct {
	Source string `json:"source"`
	Title  string `json:"title,omitempty"`
	Reason string `json:"reason"`
}

// ExportRequest asks for a KDBX export: the file's passphrase, and the
// caller's own password and a fresh TOTP code (re-authentication).
type ExportRequest struct {
	Format     string `json:"format"`
	Passphrase Secret `json:"passphrase"`
	Password   Secret `json:"password"`
	TOTP       Secret `json:"totp"`
}

// ExportReport says what an export holds.
type ExportReport struct {
	Exported int `json:"exported"`
	// OthersPersonal counts other people's personal credentials, which are
	// theirs alone and never exported.
	OthersPersonal int `json:"others_personal_left_out"`
}

// ExportResponse is the export file (base64) and what it holds.
type ExportResponse struct {
	File string `json:"file"`
	ExportReport
}
