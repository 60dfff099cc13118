package vault

import (
	"context"

	"strongroom/vault/credentials"
)

// The annual access review (package credentials, review.go): every live
// admin and shared credential confirmed by the clerk or a provider, and
// the whole review signed off, once a year.
type (
	// AnnualReview is credentials.AnnualReview.
	AnnualReview = credentials.AnnualReview
	// ReviewItem is credentials.ReviewItem.
	ReviewItem = credentials.ReviewItem
	// ReviewDue is credentials.ReviewDue.
	ReviewDue = credentials.ReviewDue
	// Signoff is credentials.Signoff.
	Signoff = credentials.Signoff
	// OverdueAccount is credentials.OverdueAccount.
	OverdueAccount = credentials.OverdueAccount
	// ReviewStatus is credentials.ReviewStatus.
	ReviewStatus = credentials.ReviewStatus
)

// The review's states and its items' states.
const (
	ReviewFirst   = credentials.ReviewFirst
	ReviewOverdue = credentials.ReviewOverdue
	ReviewDone    = credentials.ReviewDone
	ItemToConfirm = credentials.ItemToConfirm
	ItemConfirmed = credentials.ItemConfirmed
	ItemChanged   = credentials.ItemChanged
)

// AnnualReview is the year's access review: the clerk, a provider or the
// auditor (read only); recorded, and refused (recorded) for anyone else.
func (v *Vault) AnnualReview(ctx context.Context, req Request, p *Principal) (*AnnualReview, error) {
	return v.creds.AnnualReview(ctx, req, p)
}

// ConfirmReview records that the holders of credential name are right,
// in the review under way (clerk or provider); mark, if given, is what
// the review showed, and a credential changed since is ErrConflict.
func (v *Vault) ConfirmReview(ctx context.Context, req Request, p *Principal, name, mark string) error {
	return v.creds.ConfirmReview(ctx, req, p, name, mark)
}

// SignOffReview signs the review off once every admin and shared
// credential is confirmed as it is now; the next is due a year on.
func (v *Vault) SignOffReview(ctx context.Context, req Request, p *Principal) (*Signoff, error) {
	return v.creds.SignOffReview(ctx, req, p)
}

// ReviewStatus is where the annual review stands, for the home pages:
// not recorded.
func (v *Vault) ReviewStatus(ctx context.Context) (ReviewDue, error) {
	return v.creds.ReviewStatusNow(ctx)
}

// MayRunReview says p may confirm and sign off the annual review.
func MayRunReview(p *Principal) bool { return credentials.MayRunReview(p) }

// MayViewReview says p may see the annual review.
func MayViewReview(p *Principal) bool { return credentials.MayViewReview(p) }
