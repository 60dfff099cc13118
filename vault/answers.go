package vault

import "strongroom/vault/access"

// The answers a request can get (package access), as the vault's callers
// name them.
var (
	ErrNotInitialised     = access.ErrNotInitialised
	ErrAlreadyInitialised = access.ErrAlreadyInitialised
	ErrSealed             = access.ErrSealed
	ErrWrongPassphrase    = access.ErrWrongPassphrase
	ErrBadLogin           = access.ErrBadLogin
	ErrUnauthenticated    = access.ErrUnauthenticated
	ErrPasswordChange     = access.ErrPasswordChange
	ErrForbidden          = access.ErrForbidden
	ErrNotFound           = access.ErrNotFound
	ErrExists             = access.ErrExists
	ErrInvalid            = access.ErrInvalid
	ErrWrongVault         = access.ErrWrongVault
	ErrSuperseded         = access.ErrSuperseded
	ErrShareMismatch      = access.ErrShareMismatch
	ErrDuplicateShare     = access.ErrDuplicateShare
	ErrShareSet           = access.ErrShareSet
	ErrConflict           = access.ErrConflict
	ErrBusy               = access.ErrBusy
	ErrReauth             = access.ErrReauth
	ErrReauthNeeded       = access.ErrReauthNeeded
	ErrPasskey            = access.ErrPasskey
	ErrRecoveryMode       = access.ErrRecoveryMode
)

// The typed answers.
type (
	// InputError is access.InputError.
	InputError = access.InputError
	// LockedError is access.LockedError.
	LockedError = access.LockedError
	// ForbiddenError is access.ForbiddenError.
	ForbiddenError = access.ForbiddenError
	// ExistsError is access.ExistsError.
	ExistsError = access.ExistsError
	// NotFoundError is access.NotFoundError.
	NotFoundError = access.NotFoundError
)
