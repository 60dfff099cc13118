package access

import (
	"context"
	"errors"
	"fmt"

	"strongroom/vault/storage"
)

// Commit runs fn in a write transaction of st under the store contract
// (package storage): fn's error is either an answer or a failure.
//
// An answer is a refusal, a not-found, an invalid input or another of the
// vault's own outcomes (IsAnswer). It does not roll back: the transaction
// commits, with its neighbours in the group commit, and write returns the
// answer to the caller. fn gives an answer either before writing anything,
// or after appending the audit entry that records it, by wrapping it with
// Recorded; an answer after other writes, without recorded, is a bug and
// fails the write.
//
// A failure (I/O, integrity, a bug) rolls fn's transaction back.
func Commit(ctx context.Context, st storage.Store, fn func(storage.Tx) error) error {
	var answer error
	err := st.Update(ctx, func(tx storage.Tx) error {
		answer = nil
		ct := &countingTx{Tx: tx}
		err := fn(ct)
		var r *recordedAnswer
		switch {
		case err == nil:
			return nil
		case errors.As(err, &r):
			answer = r.err
			return nil
		case IsAnswer(err) && ct.writes == 0:
			answer = err
			return nil
		case IsAnswer(err):
			return fmt.Errorf("vault: a write answered after writing (a bug): %w", err)
		}
		return err
	})
	if err != nil {
		return err
	}
	return answer
}

// Recorded marks an answer given after its audit entry was appended in the
// same transaction: the entry, and what else fn wrote, commit.
func Recorded(answer error) error { return &recordedAnswer{answer} }

type recordedAnswer struct{ err error }

func (r *recordedAnswer) Error() string { return r.err.Error() }
func (r *recordedAnswer) Unwrap() error { return r.err }

// IsAnswer says err is one of the vault's outcomes for the caller, not an
// I/O or integrity failure.
func IsAnswer(err error) bool {
	for _, s := range answers {
		if errors.Is(err, s) {
			return true
		}
	}
	var le *LockedError
	return errors.As(err, &le)
}

var answers = []error{ErrInvalid, ErrNotFound, ErrExists, ErrForbidden, ErrBadLogin, ErrUnauthenticated,
	ErrPasswordChange, ErrRecoveryMode, ErrWrongPassphrase, ErrReauth, ErrConflict, ErrBusy,
	ErrWrongVault, ErrSuperseded, ErrShareMismatch, ErrDuplicateShare, ErrShareSet, ErrPasskey}

// countingTx counts the writes fn makes, for write's check.
type countingTx struct {
	storage.Tx
	writes int
}

func (t *countingTx) Put(bucket string, key, value []byte) error {
	t.writes++
	return t.Tx.Put(bucket, key, value)
}

func (t *countingTx) Delete(bucket string, key []byte) error {
	t.writes++
	return t.Tx.Delete(bucket, key)
}
