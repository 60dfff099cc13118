package wire

import "time"

// ListOptions are the query of GET /v1/creds: names after After, at most
// Limit of them (server default 1,000, most 5,000), matching Query.
type ListOptions struct {
	After string
	Limit int
	Query string
}

// CredentialRequest is the body of POST /v1/creds: a new credential, or a
// new version of one. An omitted secret keeps the previous version's; nil
// Tags or Assignees keep the current ones.
type CredentialRequest struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	URL       string   `json:"url"`
	Username  string   `json:"username"`
	Password  Secret   `json:"password,omitempty"`
	TOTP      Secret   `json:"totp,omitempty"` // otpauth:// URI or base32 seed
	Notes     Secret   `json:"notes,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Assignees []string `json:"assignees,omitempty"`
	// CreateOnly refuses (409) a name already in use instead of writing a
	// new version of that credential.
	CreateOnly bool `json:"create_only,omitempty"`
}

// CredentialInfo is what may be shown of a credential without its secret
// (lists, and the answer to every change).
type CredentialInfo struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	URL       string   `json:"url"`
	Username  string   `json:"username"`
	Tags      []string `json:"tags"`
	Assignees []string `json:"assignees"`
	Version   int      `json:"version"`
	HasTOTP   bool     `json:"has_totp"`
	// TOTPWarning says what is unusual about a TOTP seed kept anyway.
	TOTPWarning string    `json:"totp_warning,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	// Compromised, when set, means: change this password now.
	Compromised *Compromise `json:"compromised,omitempty"`
	// Access, in a list, says how the caller may read a credential they
	// are not assigned: "grant until T" or "break-glass until T".
	Access string `json:"access,omitempty"`
	// Handover, when set, says who handed this login over to the council
	// and whether a clerk has confirmed receiving it.
	Handover *Handover `json:"handover,omitempty"`
}

// HandoverRequest is the body of POST /v1/handovers: the login of a
// council account that the caller hands over to the council.
type HandoverRequest struct {
	Name     string `json:"name"`
	URL      string `json:"url,omitempty"`
	Username string `json:"username"`
	Password Secret `json:"password"`
	TOTP     Secret `json:"totp,omitempty"` // otpauth:// URI or base32 seed
	Reason   string `json:"reason,omitempty"`
}

// Handover says who handed a login over, when and why, and which clerk
// confirmed receiving it (zero ConfirmedAt: not yet).
type Handover struct {
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	Reason      string    `json:"reason,omitempty"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"`
	ConfirmedAt time.Time `json:"confirmed_at,omitempty"`
}

// Compromise records a suspected compromise of a credential.
type Compromise struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
}

// Credential is the answer to GET /v1/creds/{name}[?version=N]: the public
// fields, then the secret ones (totp_uri and notes only when stored).
type Credential struct {
	CredentialInfo
	Password Secret `json:"password"`
	TOTPURI  Secret `json:"totp_uri,omitempty"`
	Notes    Secret `json:"notes,omitempty"`
}

// AppendJSON appends c's JSON to dst without copies dst's owner cannot
// wipe (see [AppendObject]).
func (c Credential) AppendJSON(dst []byte) ([]byte, error) {
	fields, values := []string{"password"}, [][]byte{c.Password}
	if c.TOTPURI != nil {
		fields, values = append(fields, "totp_uri"), append(values, c.TOTPURI)
	}
	if c.Notes != nil {
		fields, values = append(fields, "notes"), append(values, c.Notes)
	}
	return AppendObject(dst, c.CredentialInfo, fields, values)
}

// Wipe zeroes the secret fields.
func (c Credential) Wipe() {
	c.Password.Wipe()
	c.TOTPURI.Wipe()
	c.Notes.Wipe()
}

// TOTPCode is the answer to GET /v1/creds/{name}/totp.
type TOTPCode struct {
	Code        string `json:"code"`
	SecondsLeft int    `json:"seconds_left"`
	Period      int    `json:"period"`
	Digits      int    `json:"digits"`
	// Encoder is "steam" for Steam Guard codes (letters), else empty.
	Encoder string `json:"encoder,omitempty"`
	// Warning says what is unusual about the seed (a short one).
	Warning string `json:"warning,omitempty"`
}

// Version is one stored version in GET /v1/creds/{name}/history (no
// secrets).
type Version struct {
	Version   int    `json:"version"`
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
	Username  string `json:"username"`
	URL       string `json:"url"`
	HasTOTP   bool   `json:"has_totp"`
	Current   bool   `json:"current"`
}

// CompromisedRequest is the body of POST /v1/creds/{name}/compromised.
type CompromisedRequest struct {
	Reason string `json:"reason"`
}

// GenpassRequest is the body of POST /v1/genpass and the generate field of
// a rotation; zero fields take the NCSC defaults (three capitalised words
// joined by "-").
type GenpassRequest struct {
	Words      int     `json:"words"`
	Separator  *string `json:"separator,omitempty"`
	Digits     int     `json:"digits"`
	NoCapitals bool    `json:"no_capitals,omitempty"`
	MinLength  int     `json:"min_length,omitempty"`
}

// Generated is a generated password and its strength (POST /v1/genpass;
// also what genpass --json prints).
type Generated struct {
	EntropyBits float64 `json:"entropy_bits"`
	Words       int     `json:"words"`
	Password    Secret  `json:"password"`
}

// AppendJSON appends g's JSON to dst, the password written last and only
// into dst (see [AppendObject]).
func (g Generated) AppendJSON(dst []byte) ([]byte, error) {
	public := struct {
		EntropyBits float64 `json:"entropy_bits"`
		Words       int     `json:"words"`
	}{g.EntropyBits, g.Words}
	return AppendObject(dst, public, []string{"password"}, [][]byte{g.Password})
}

// RotateRequest is the body of POST /v1/creds/{name}/rotate: a new
// password, or Generate (with optional generator settings).
type RotateRequest struct {
	Password Secret          `json:"password,omitempty"`
	Generate *GenpassRequest `json:"generate,omitempty"`
}

// Rotated is the answer to a rotation: the new version, and the password
// when the server generated it.
type Rotated struct {
	CredentialInfo
	Password Secret `json:"password,omitempty"`
}

// AppendJSON appends r's JSON to dst (see [AppendObject]).
func (r Rotated) AppendJSON(dst []byte) ([]byte, error) {
	if r.Password == nil {
		return AppendObject(dst, r.CredentialInfo, nil, nil)
	}
	return AppendObject(dst, r.CredentialInfo, []string{"password"}, [][]byte{r.Password})
}

// RestoreRequest is the body of POST /v1/creds/{name}/restore.
type RestoreRequest struct {
	Version int `json:"version"`
}
