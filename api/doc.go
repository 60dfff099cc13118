// Package api is Strongroom's HTTP interface: Echo v4 routes under /v1/,
// authentication middleware, the handlers (decoding and encoding the JSON
// shapes declared once in api/wire), and the single
// error handler that shapes every error as {"error": "...", "request_id"}.
//
// It holds no keys and does no cryptography: it calls package vault. It
// guarantees that secrets travel only in request and response bodies (never
// URLs or logs), that responses carrying secrets are marked no-store, and
// that an internal error's detail goes to the log, not the client.
package api
