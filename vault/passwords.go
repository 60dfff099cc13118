package vault

import "strongroom/vault/passwords"

// Generated passwords (package passwords), as the vault's callers name them.
type (
	// GenOptions shapes a generated password.
	GenOptions = passwords.GenOptions
	// Generated is a generated password and its strength.
	Generated = passwords.Generated
)

// WordListSize is the number of words passwords are drawn from.
const WordListSize = passwords.WordListSize

// DefaultGenOptions is three words, capitalised, joined by "-".
func DefaultGenOptions() GenOptions { return passwords.DefaultGenOptions() }

// GeneratePassword makes an NCSC "three random words" password.
func GeneratePassword(opts GenOptions) (*Generated, error) { return passwords.GeneratePassword(opts) }
