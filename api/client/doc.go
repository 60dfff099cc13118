// Package client is the typed Go client of Strongroom's /v1 API (the CLI's only way to the server); it guarantees that a refusal comes back as an *APIError, that secrets are read and sent as wipeable bytes and the answers carrying them wiped after decoding, and that exports and backups stream without being held in memory whole.
package client
