package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/transfer"
	"strongroom/vault"
)

// errorBody is the one shape of every error response.
type errorBody = wire.Error

// errBadRequest is for malformed requests caught in this package.
func errBadRequest(msg string) error { return echo.NewHTTPError(http.StatusBadRequest, msg) }

// classify maps an error to a status and a message safe for the client.
// Vault errors name records and failures, never secret content, so their
// text is shown; anything unknown becomes a fixed message.
func classify(err error) (int, string) {
	public := func(err error) string { return strings.TrimPrefix(err.Error(), "vault: ") }
	var he *echo.HTTPError
	var le *vault.LockedError
	var be *bodyError
	var pe *vault.PasskeyError
	switch {
	case errors.As(err, &be):
		return http.StatusBadRequest, be.Msg
	case errors.As(err, &he):
		msg, ok := he.Message.(string)
		if !ok {
			msg = http.StatusText(he.Code)
		}
		return he.Code, msg
	case errors.As(err, &le):
		return http.StatusTooManyRequests, throttleMessage(le.Until)
	case errors.Is(err, vault.ErrInvalid):
		return http.StatusBadRequest, public(err)
	case errors.As(err, &pe) && (pe.Problem == vault.PasskeyRequired || pe.Problem == vault.PasskeyReauthRequired):
		// A factor refused for the role, not bad input: 403 (exit 1).
		return http.StatusForbidden, public(err)
	case errors.Is(err, vault.ErrPasskey):
		return http.StatusUnprocessableEntity, public(err)
	case errors.Is(err, vault.ErrReauth):
		// The session is valid but not recently re-authenticated (or the
		// re-authentication just given was refused): 403, not 401, so a
		// client keeps its session and asks for password and code.
		return http.StatusForbidden, reauthMessage
	case errors.Is(err, vault.ErrBadLogin), errors.Is(err, vault.ErrUnauthenticated), errors.Is(err, vault.ErrWrongPassphrase):
		return http.StatusUnauthorized, public(err)
	case errors.Is(err, vault.ErrPasswordChange), errors.Is(err, vault.ErrForbidden),
		errors.Is(err, vault.ErrWrongVault), errors.Is(err, vault.ErrSuperseded),
		errors.Is(err, vault.ErrShareMismatch), errors.Is(err, vault.ErrShareSet):
		return http.StatusForbidden, public(err)
	case errors.Is(err, vault.ErrNotBackup), errors.Is(err, vault.ErrBackupCorrupt), errors.Is(err, vault.ErrBackupTruncate):
		return http.StatusBadRequest, public(err)
	case errors.Is(err, vault.ErrBackupForeign):
		return http.StatusForbidden, public(err)
	case errors.As(err, new(*transfer.FormatError)), errors.Is(err, transfer.ErrBadKey):
		// Decoders name the failure and where, never a value from the file.
		return http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "transfer: ")
	case errors.Is(err, vault.ErrNotFound):
		return http.StatusNotFound, public(err)
	case errors.Is(err, vault.ErrExists), errors.Is(err, vault.ErrConflict), errors.Is(err, vault.ErrAlreadyInitialised), errors.Is(err, vault.ErrRecoveryMode),
		errors.Is(err, vault.ErrNotInitialised), errors.Is(err, vault.ErrDuplicateShare):
		return http.StatusConflict, public(err)
	case errors.Is(err, vault.ErrBusy):
		return http.StatusTooManyRequests, public(err)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EDQUOT):
		return http.StatusInsufficientStorage, "the server cannot write to its disk (full or read-only): nothing was changed and nothing was returned; free space and try again"
	case errors.Is(err, vault.ErrRolledBack), errors.Is(err, vault.ErrNoStateSeal):
		// The state check refused the database: what it found names buckets,
		// seqs and counts, never a value.
		return http.StatusConflict, public(err)
	case errors.Is(err, vault.ErrSealed):
		return http.StatusServiceUnavailable, "vault is sealed: unseal it first"
	case errors.Is(err, vault.ErrTampered), errors.Is(err, vault.ErrMisplaced):
		return http.StatusInternalServerError, "a stored record failed its integrity check (tampered, corrupted or moved); the event is logged"
	}
	return http.StatusInternalServerError, "internal error; the server log has the details under this request id"
}

// reauthMessage answers vault.ErrReauth, whichever way it arose: a read of
// an admin secret without a re-authentication within the window, or a
// re-authentication with a wrong password or a used or wrong code. The
// body's "reauth": true says the same to a program.
const reauthMessage = "re-authenticate: give your password and a new TOTP code (POST /v1/auth/reauth; each code works once)"

// publicMessage is the message of err that a client may see.
func publicMessage(err error) string {
	_, msg := classify(err)
	return msg
}

func newErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, msg := classify(err)
		id := c.Response().Header().Get(echo.HeaderXRequestID)
		if status >= 500 {
			log.Error("request failed", "request_id", id, "method", c.Request().Method, "path", c.Path(), "err", err)
		}
		var le *vault.LockedError
		if errors.As(err, &le) {
			setRetryAfter(c, le.Until)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		body := errorBody{Error: msg, RequestID: id}
		if ie := (*vault.InputError)(nil); errors.As(err, &ie) {
			body.Field = ie.Field
		} else if be := (*bodyError)(nil); errors.As(err, &be) {
			body.Field = be.Field
		} else if se := (*vault.ScopeError)(nil); errors.As(err, &se) {
			body.Field = se.Field
		}
		body.Reauth = errors.Is(err, vault.ErrReauth)
		_ = c.JSON(status, body)
	}
}

// throttleMessage says, in plain words, that sign-ins are throttled, until
// when, and what the owner can do meanwhile. The same words answer a known
// and an unknown name.
func throttleMessage(until time.Time) string {
	return "too many failed sign-ins for this account from your address: try again after " +
		until.UTC().Format("15:04:05 UTC on 2 January 2006") + " (" + waitFor(until) + "), sign in from another device, " +
		"or use a recovery code instead of the authenticator code; if you still cannot sign in, ask your IT provider"
}

// waitFor says how long until t, roughly.
func waitFor(t time.Time) string {
	d := time.Until(t).Round(time.Second)
	switch {
	case d <= time.Second:
		return "in a moment"
	case d < 2*time.Minute:
		return "in " + strconv.Itoa(int(d.Seconds())) + " seconds"
	}
	return "in about " + strconv.Itoa(int(d.Minutes()+0.5)) + " minutes"
}

// setRetryAfter tells the client, in whole seconds, when to try again.
func setRetryAfter(c echo.Context, until time.Time) {
	secs := int(time.Until(until).Seconds()) + 1
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
}
