package wire

import "time"

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
