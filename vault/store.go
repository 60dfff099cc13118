package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"strongroom/vault/storage"
)

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

// DataFormat is the version of the data directory's layout (the
// database's buckets and records) that this release reads and writes.
// It is kept in DATA/strongroom.format. A release reads every older
// format, migrating it when it opens it (a directory without the file is
// format 1, from before the file); it refuses a newer one, with the
// reason, and touches nothing. Raise it with the migration that needs it.
const DataFormat = 1

// formatFile holds the data directory's format, as a decimal line.
const formatFile = "strongroom.format"

// ErrNewerFormat: the data directory was written by a newer release.
var ErrNewerFormat = errors.New("vault: the data directory was written by a newer release of Strongroom")

// OpenBolt opens (creating if needed) DIR/strongroom.db with mode 0600,
// after checking the directory's data format (DataFormat).
func OpenBolt(dir string, opt BoltOptions) (Store, error) {
	if err := checkFormat(dir); err != nil {
		return nil, err
	}
	st, err := storage.OpenBolt(dir, opt)
	if err != nil {
		return nil, err
	}
	if err := writeFormat(dir); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// checkFormat refuses a data directory of a newer format than DataFormat,
// or whose format file cannot be read.
func checkFormat(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, formatFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil // new, or from before the file: format 1
	}
	if err != nil {
		return fmt.Errorf("vault: cannot read the data directory's format: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	switch {
	case err != nil || n < 1:
		return fmt.Errorf("vault: %s is not a data format number; restore it from a backup of the data directory, or remove it if the directory is from before it", formatFile)
	case n > DataFormat:
		return fmt.Errorf("%w (its data format is %d; this release reads formats up to %d): install that release or a newer one; nothing was changed", ErrNewerFormat, n, DataFormat)
	}
	return nil
}

// writeFormat records DataFormat in dir (after any migration), atomically.
func writeFormat(dir string) error {
	path := filepath.Join(dir, formatFile)
	if raw, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(raw)) == strconv.Itoa(DataFormat) {
		return nil
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(DataFormat)+"\n"), 0o600); err != nil {
		return fmt.Errorf("vault: cannot record the data format: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("vault: cannot record the data format: %w", err)
	}
	return nil
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
