package vault

import (
	"context"

	"strongroom/vault/access"
)

// write runs fn under the store contract: see access.Commit.
func (v *Vault) write(ctx context.Context, fn func(Tx) error) error {
	return access.Commit(ctx, v.store, fn)
}

// recorded marks an answer given after its audit entry (access.Recorded).
func recorded(answer error) error { return access.Recorded(answer) }
