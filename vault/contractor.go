package vault

import (
	"context"

	"strongroom/vault/access"
	"strongroom/vault/identity"
)

// Contractors (packages identity and credentials), as the vault's callers
// name them.
type (
	// Contract is a contractor's agreement reference and scope, given when
	// the account is added (NewPerson.Contract).
	Contract = identity.Contract
	// Contractor is a contractor's agreement as the access review and the
	// home pages show it.
	Contractor = identity.Contractor
	// Agreement is a contractor's agreement as it is kept on the account.
	Agreement = access.Agreement
	// ScopeError is a contractor's request, grant or assignment refused
	// because the agreement does not cover the credential.
	ScopeError = access.ScopeError
)

// CompleteContractor marks a contractor's work completed ("work
// completed"): the account ends at once (disabled, its sessions ended),
// its grants are revoked, and the report lists what the contractor could
// read since the agreement was recorded, to rotate. Recorded as
// user.complete; a provider only. Anyone who is not a contractor is an
// input error pointing at Offboard.
func (v *Vault) CompleteContractor(ctx context.Context, req Request, p *Principal, name string) (*OffboardReport, error) {
	return v.creds.Complete(ctx, req, p, name)
}

// OverdueContractors lists the contractors whose end date has passed and
// whose work was never marked completed (strongroom user complete), oldest
// end date first. Their account no longer signs in, but the agreement was
// not closed: nobody was told what to rotate and their grants were not
// revoked by anyone. The annual access review shows each as "overdue for
// completion", and the provider's and the clerk's home pages carry a
// notice. A contractor offboarded or disabled without being completed is
// still listed (Contractor.Disabled), until completed.
//
// It is read on the vault's own behalf, as Attention: it needs the vault
// unsealed, checks no caller and records nothing, so the caller decides
// who may see it.
func (v *Vault) OverdueContractors(ctx context.Context) ([]Contractor, error) {
	return v.accounts.OverdueContractors(ctx)
}
