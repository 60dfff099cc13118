package wire

import "time"

// The annual access review: GET /v1/report/access-review/year,
// POST /v1/report/access-review/confirm and /signoff.

// AnnualReview is the year's access review (GET
// /v1/report/access-review/year).
type AnnualReview struct {
	From        time.Time        `json:"from"`
	To          time.Time        `json:"to"`
	Due         ReviewDue        `json:"due"`
	Items       []ReviewItem     `json:"items"`
	Unconfirmed int              `json:"unconfirmed"`
	Overdue     []OverdueAccount `json:"overdue_for_completion"`
	MayConfirm  bool             `json:"may_confirm"`
}

// ReviewDue says where the review stands: Status "first" (never signed
// off, the vault less than a year old), "overdue" or "done"; DueBy is the
// date it is (or was) due.
type ReviewDue struct {
	Status string    `json:"status"`
	DueBy  time.Time `json:"due_by"`
	Last   *Signoff  `json:"last_signoff,omitempty"`
}

// ReviewItem is one admin or shared credential in the review.
type ReviewItem struct {
	Credential  string    `json:"credential"`
	Kind        string    `json:"kind"`
	Holders     []Holder  `json:"holders"`
	LastUsed    time.Time `json:"last_used,omitempty"`
	Compromised bool      `json:"compromised"`
	// Mark names the holding shown: send it back to confirm it.
	Mark    string `json:"mark"`
	Reads   int    `json:"reads"`
	Denials int    `json:"denials"`
	// Rotated is the last rotation, or the creation if RotatedIsCreation.
	Rotated           time.Time `json:"rotated"`
	RotatedIsCreation bool      `json:"rotated_is_creation"`
	// State is "to confirm", "confirmed" or "changed since confirmed".
	State       string    `json:"state"`
	ConfirmedAt time.Time `json:"confirmed_at,omitempty"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"`
	MayChange   bool      `json:"may_change"`
}

// OverdueAccount is an account past its end date, not yet ended:
// overdue for completion.
type OverdueAccount struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
	Holds   []string  `json:"holds"`
	// Agreement: a contractor whose work was never marked completed.
	Agreement string `json:"agreement,omitempty"`
	Disabled  bool   `json:"disabled,omitempty"`
}

// Signoff is a signed-off review (the answer to POST
// /v1/report/access-review/signoff).
type Signoff struct {
	At        time.Time `json:"at"`
	By        string    `json:"by"`
	Confirmed int       `json:"confirmed"`
	NextDue   time.Time `json:"next_due"`
}

// ReviewConfirmBody is the body of POST /v1/report/access-review/confirm:
// the credential, and the mark the review showed for it (optional; given,
// a credential changed since is refused with 409).
type ReviewConfirmBody struct {
	Credential string `json:"credential"`
	Mark       string `json:"mark"`
}
