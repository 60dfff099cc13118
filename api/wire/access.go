package wire

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// AccessRequestBody is the body of POST /v1/requests.
type AccessRequestBody struct {
	Credential string `json:"credential"`
	Reason     string `json:"reason"`
	For        string `json:"for"` // a Go duration: "2h", "30m"
}

// AccessRequest is a request for time-limited access to a credential.
type AccessRequest struct {
	ID          string        `json:"id"`
	Credential  string        `json:"credential"`
	CredID      string        `json:"credential_id"`
	Requester   string        `json:"requester"`
	RequesterID string        `json:"requester_id"`
	Reason      string        `json:"reason"`
	For         time.Duration `json:"for_ns"`
	Created     time.Time     `json:"created"`
	Status      string        `json:"status"`
	DecidedBy   string        `json:"decided_by,omitempty"`
	DecidedAt   time.Time     `json:"decided_at,omitempty"`
	GrantID     string        `json:"grant_id,omitempty"`
	// DecisionReason is what the approver said when deciding, if anything.
	DecisionReason string `json:"decision_reason,omitempty"`
}

// DecisionBody is the optional body of POST /v1/requests/ID/approve and
// /deny: the approver's reason, one line of at most 500 characters.
type DecisionBody struct {
	Reason string `json:"reason"`
}

// Grant is time-limited access to a credential, from an approved request.
type Grant struct {
	ID         string    `json:"id"`
	Credential string    `json:"credential"`
	CredID     string    `json:"credential_id"`
	User       string    `json:"user"`
	UserID     string    `json:"user_id"`
	From       time.Time `json:"from"`
	Until      time.Time `json:"until"`
	RequestID  string    `json:"request_id"`
	ApprovedBy string    `json:"approved_by"`
	RevokedBy  string    `json:"revoked_by,omitempty"`
	RevokedAt  time.Time `json:"revoked_at,omitempty"`
}

// Decision is the answer to POST /v1/requests/{id}/approve or deny; Grant
// is null for a denial.
type Decision struct {
	Grant   *Grant         `json:"grant"`
	Request *AccessRequest `json:"request"`
}

// RegisterEntry is one account in GET /v1/report/access-review.
type RegisterEntry struct {
	Credential   string    `json:"credential"`
	Kind         string    `json:"kind"`
	Holders      []Holder  `json:"holders"`
	LastUsed     time.Time `json:"last_used,omitempty"`
	LastReviewed time.Time `json:"last_reviewed,omitempty"`
	ReviewedBy   string    `json:"reviewed_by,omitempty"`
	ReviewDue    bool      `json:"review_due"`
	Compromised  bool      `json:"compromised"`
}

// Holder is someone who holds access to an account in the register.
type Holder struct {
	Name     string    `json:"name"`
	Via      string    `json:"via"` // "assigned" or "grant until …"
	LastUsed time.Time `json:"last_used,omitempty"`
}

// PasswordHealth is GET /v1/report/password-health: what is wrong with the
// council's admin and shared passwords and its accounts, never a secret
// or a hash of one. Each credential finding carries links to its page and
// to its change form in the web interface.
type PasswordHealth struct {
	Generated          time.Time        `json:"generated"`
	OlderThanDays      int              `json:"older_than_days"`
	Checked            int              `json:"checked"`
	PersonalLeftOut    int              `json:"personal_left_out"`
	WithoutTOTP        int              `json:"without_totp"`
	TOTPNotJudged      int              `json:"totp_not_judged"`
	Reused             []ReusedPassword `json:"reused"`
	Weak               []HealthFinding  `json:"weak"`
	Stale              []HealthFinding  `json:"stale"`
	Compromised        []HealthFinding  `json:"compromised"`
	MissingTOTP        []HealthFinding  `json:"missing_totp"`
	NoURL              []HealthFinding  `json:"no_url"`
	AccountsWithoutMFA []AccountFinding `json:"accounts_without_mfa"`
}

// ReusedPassword is a group of credentials that share one password.
type ReusedPassword struct {
	Credentials []HealthFinding `json:"credentials"`
}

// HealthFinding is one credential the report flags.
type HealthFinding struct {
	Credential string    `json:"credential"`
	Kind       string    `json:"kind"`
	Detail     string    `json:"detail"`
	Strength   *int      `json:"strength,omitempty"`
	Since      time.Time `json:"since,omitempty"`
	Site       string    `json:"site,omitempty"`
	Action     string    `json:"action"` // rotate, add_totp or add_url
	Links      Links     `json:"links"`
}

// Links are web addresses (paths on the vault's own origin) for a finding.
type Links struct {
	Credential string `json:"credential"`       // the credential's page
	Rotate     string `json:"rotate,omitempty"` // its "change the password" form
	People     string `json:"people,omitempty"` // the People page (accounts)
}

// AccountFinding is an account that signs in without a second factor.
type AccountFinding struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Detail string `json:"detail"`
	Action string `json:"action"` // end_exemption
	Links  Links  `json:"links"`
}

// ParseAge reads the password health report's older_than: a whole number
// of days ("365", "365d") or a Go duration ("8760h"); it names no field,
// the caller does.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok || (s != "" && strings.Trim(s, "0123456789") == "") {
		if !ok {
			days = s
		}
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100000 { // beyond that a Duration overflows
			return 0, errors.New("must be a number of days, such as 365d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("must be a number of days, such as 365d, or a duration such as 8760h")
	}
	return d, nil
}
