package wire

import "time"

// Error is the one shape of every error response.
type Error struct {
	Error string `json:"error"`
	// Field names the input at fault, for an invalid input.
	Field string `json:"field,omitempty"`
	// Reauth is true when the request needs a fresh re-authentication of
	// the session first (POST /v1/auth/reauth with the caller's password
	// and a new TOTP code), or when that re-authentication failed: a
	// client branches on it, never on the message.
	Reauth    bool   `json:"reauth,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Status is the answer to GET /v1/sys/status (no session needed).
type Status struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Progress    int    `json:"progress"`
	Threshold   int    `json:"threshold"`
	Shares      int    `json:"shares"`
	Generation  uint32 `json:"generation"`
	VaultID     string `json:"vault_id,omitempty"`
	Council     string `json:"council,omitempty"`
	VerifierKey string `json:"verifier_key,omitempty"`
	// VerifierKeySource says where verifier_key comes from and how far
	// to trust it (the envelopes print the key to trust).
	VerifierKeySource string `json:"verifier_key_source,omitempty"`
	// Recovery is set while the vault is in emergency recovery.
	Recovery *RecoveryStatus `json:"recovery,omitempty"`
	// Delivery reports each notifier (e-mail, webhook, syslog).
	Delivery []Delivery `json:"delivery,omitempty"`
	// Backups reports the scheduled backups and their off-site copies
	// (server --backup-dir, --backup-copy) since the server started.
	Backups *Backups `json:"backups,omitempty"`
}

// Backups is the server's scheduled backups since it started: the last
// one written, and the last off-site copy's result. CopyError is a fixed
// sentence, never the command's output.
type Backups struct {
	LastFile  string    `json:"last_file,omitempty"`
	LastAt    time.Time `json:"last_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// CopyCommand says whether --backup-copy is set.
	CopyCommand bool      `json:"copy_command"`
	CopyFile    string    `json:"copy_file,omitempty"`
	CopyAt      time.Time `json:"copy_at,omitzero"`
	CopyOK      bool      `json:"copy_ok"`
	CopyError   string    `json:"copy_error,omitempty"`
}

// Delivery is one notifier's state: entries delivered, failed attempts
// (in all and in a row now), messages refused for good, entries waiting.
// LastError is a fixed sentence, never a server's reply.
type Delivery struct {
	Name      string    `json:"name"`
	Delivered uint64    `json:"delivered"`
	Failures  uint64    `json:"failures"`
	Refused   uint64    `json:"refused"`
	Pending   uint64    `json:"pending"`
	Failing   int       `json:"failing"`
	LastError string    `json:"last_error,omitempty"`
	LastOK    time.Time `json:"last_ok,omitzero"`
	LastFail  time.Time `json:"last_failure,omitzero"`
	Waiting   bool      `json:"waiting,omitempty"`
	// FailingSince is when the failures in a row began.
	FailingSince time.Time `json:"failing_since,omitzero"`
}

// RewrapResponse is the answer to POST /v1/escrow/rewrap.
type RewrapResponse struct {
	Term     uint32   `json:"term"`
	Resealed int      `json:"resealed"`
	Dropped  []uint32 `json:"dropped_terms"`
}

// RecoveryStatus tells everyone why routine changes are refused.
type RecoveryStatus struct {
	Since   time.Time `json:"since"`
	Holders []string  `json:"holders"`
	Message string    `json:"message"`
}

// InitRequest is the body of POST /v1/sys/init.
type InitRequest struct {
	Council    string   `json:"council"`
	Shares     int      `json:"shares"`
	Threshold  int      `json:"threshold"`
	Holders    []string `json:"holders"`
	Admin      string   `json:"admin"`
	Passphrase Secret   `json:"passphrase"`
}

// InitResponse is returned exactly once; it holds the shares and the first
// provider's one-time password.
type InitResponse struct {
	VaultID     string       `json:"vault_id"`
	VerifierKey string       `json:"verifier_key"`
	Admin       OneTimeLogin `json:"admin"`
	Envelopes   []Envelope   `json:"envelopes"`
}

// Envelope is one holder's envelope in the init and rekey answers: the
// plain text and the printable PDF (base64 in JSON).
type Envelope struct {
	Holder string `json:"holder"`
	Index  int    `json:"index"`
	Text   string `json:"text"`
	PDF    []byte `json:"pdf"`
}

// UnsealRequest is the body of POST /v1/sys/unseal: exactly one of
// passphrase, share (a text envelope or the share alone), or reset.
type UnsealRequest struct {
	Passphrase Secret `json:"passphrase,omitempty"`
	Share      Secret `json:"share,omitempty"`
	Reset      bool   `json:"reset,omitempty"`
}

// UnsealResponse reports the seal state after the step.
type UnsealResponse struct {
	Sealed    bool            `json:"sealed"`
	Progress  int             `json:"progress"`
	Threshold int             `json:"threshold"`
	Holders   []string        `json:"holders,omitempty"`
	Recovery  *RecoveryStatus `json:"recovery,omitempty"`
}

// Sealed is the answer to POST /v1/sys/seal.
type Sealed struct {
	Sealed bool `json:"sealed"`
}

// ShareRequest is the body of POST /v1/escrow/check.
type ShareRequest struct {
	Share Secret `json:"share"`
}

// ShareCheck says whose current share was checked.
type ShareCheck struct {
	Index      int    `json:"index"`
	Holder     string `json:"holder"`
	Generation uint32 `json:"generation"`
	Threshold  int    `json:"threshold"`
	Shares     int    `json:"shares"`
}

// ShareCheckResponse is the answer to POST /v1/escrow/check.
type ShareCheckResponse struct {
	ShareCheck
	Message string `json:"message"`
}

// RekeyRequest is the body of POST /v1/escrow/rekey: by the operator
// passphrase, or by a quorum of current envelopes.
type RekeyRequest struct {
	Shares     int      `json:"shares"`
	Threshold  int      `json:"threshold"`
	Holders    []string `json:"holders,omitempty"`
	Passphrase Secret   `json:"passphrase"`
	Quorum     []Secret `json:"quorum,omitempty"`
}

// RekeyResponse holds the new envelopes, returned once.
type RekeyResponse struct {
	Generation uint32     `json:"generation"`
	Threshold  int        `json:"threshold"`
	Envelopes  []Envelope `json:"envelopes"`
}

// PassphraseRequest is the body of POST /v1/recover/passphrase.
type PassphraseRequest struct {
	Passphrase Secret `json:"passphrase"`
}

// BreakGlassRequest is the body of POST /v1/breakglass.
type BreakGlassRequest struct {
	Reason string `json:"reason"`
}

// BreakGlass is the answer to POST /v1/breakglass: when the access ends.
type BreakGlass struct {
	Expires time.Time `json:"expires"`
}

// MailKind is one kind of the vault's e-mail and its switches (GET
// /v1/notify/settings): On is the council's stored setting, ServerOff
// says the server's --mail-off switches it off whatever the council
// chose, and Sent is whether it is sent (On and not ServerOff).
type MailKind struct {
	Kind      string `json:"kind"`
	On        bool   `json:"on"`
	ServerOff bool   `json:"server_off"`
	Sent      bool   `json:"sent"`
}

// MailSettings is GET /v1/notify/settings.
type MailSettings struct {
	Kinds []MailKind `json:"kinds"`
}

// MailSwitch is the body of PUT /v1/notify/settings/{kind}.
type MailSwitch struct {
	On *bool `json:"on"`
}
