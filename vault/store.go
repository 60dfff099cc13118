package vault

import "strongroom/vault/storage"

// The store the vault runs on (package storage holds the contract).
type (
	// Store is storage.Store.
	Store = storage.Store
	// Tx is storage.Tx.
	Tx = storage.Tx
	// BoltOptions tunes the embedded bbolt store.
	BoltOptions = storage.Options
	// CommitStats is storage.CommitStats: one commit, for metrics.
	CommitStats = storage.CommitStats
)

// OpenBolt opens (creating if needed) DIR/strongroom.db with mode 0600.
func OpenBolt(dir string, opt BoltOptions) (Store, error) {
	st, err := storage.OpenBolt(dir, opt)
	if err != nil {
		return nil, err
	}
	return st, nil
}

const (
	bucketMeta        = storage.BucketMeta
	bucketKeyring     = storage.BucketKeyring
	bucketUsers       = storage.BucketUsers
	bucketSessions    = storage.BucketSessions
	bucketCredentials = storage.BucketCredentials
	bucketGrants      = storage.BucketGrants
	bucketRequests    = storage.BucketRequests
	bucketAudit       = storage.BucketAudit
	bucketCheckpoints = storage.BucketCheckpoints
)
