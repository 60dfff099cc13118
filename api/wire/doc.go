// Package wire owns the JSON shapes of Strongroom's /v1 API, each request and response declared once for the server and its clients; it guarantees those shapes stay what the end-to-end tests and runbooks read, and that secret fields travel as wipeable bytes ([Secret]), never Go strings.
package wire
