package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"strongroom/api/wire"
	"strongroom/internal/notify"
	"strongroom/vault"
)

// Options tune the server.
type Options struct {
	Logger *slog.Logger
	// Metrics, if set, counts every request (its /metrics is served on a
	// listener of its own: Metrics.Handler).
	Metrics *Metrics
	// MetricsToken, if set with Metrics, also serves GET /metrics on this
	// listener, to requests with "Authorization: Bearer TOKEN" only
	// (ParseMetricsToken reads it).
	MetricsToken []byte
	// PublicURL is the vault's address as people reach it (server
	// --public-url), for the link a command line's sign-in prints; if
	// empty, the address the request came to.
	PublicURL string
	// Deliveries, if set, reports the notifiers for status.
	Deliveries func() []notify.Status
	// Backups, if set, reports the scheduled backups for status.
	Backups func() wire.Backups
	// MailOff is the kinds of e-mail the server switched off (--mail-off),
	// shown with the council's own settings.
	MailOff []notify.Kind
}

// attemptRate is how many sign-in, unseal, init and share-check requests a
// second one client address may make, with a burst of five times that.
// Sign-in has one budget per address for the API and the web together
// (attemptLimits.signIn), so a guesser gains nothing by using both; the
// vault's own throttle (vault/identity/throttle.go) then slows guesses per
// account and address, whichever client sends them.
const attemptRate = 2

// attemptLimits are the per-address rate limiters, one per budget.
type attemptLimits struct {
	signIn, unseal, init, share echo.MiddlewareFunc
}

func newAttemptLimits(rate float64) attemptLimits {
	return attemptLimits{signIn: rateLimiter(rate), unseal: rateLimiter(rate), init: rateLimiter(rate), share: rateLimiter(rate)}
}

type server struct {
	v          *vault.Vault
	log        *slog.Logger
	metrics    *Metrics
	deliveries func() []notify.Status
	backups    func() wire.Backups
	mailOff    []notify.Kind
	publicURL  string
}

// New returns the HTTP handler for a vault.
func New(v *vault.Vault, opt Options) *echo.Echo { return newServer(v, opt, attemptRate) }

// newServer is New with the attempt rate given (tests raise it).
func newServer(v *vault.Vault, opt Options, rate float64) *echo.Echo {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &server{v: v, log: log, metrics: opt.Metrics, deliveries: opt.Deliveries, backups: opt.Backups, mailOff: opt.MailOff, publicURL: opt.PublicURL}
	e := s.newEcho()
	g := e.Group("/v1")
	limits := newAttemptLimits(rate)
	s.routes(g, limits)
	w, err := newWeb(s)
	if err != nil {
		panic("api: the embedded web templates do not parse: " + err.Error())
	}
	w.routes(e, limits.signIn, limits.unseal)
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/ui/") })
	e.GET("/healthz", healthz)
	e.GET("/readyz", s.readyz)
	if opt.Metrics != nil && opt.MetricsToken != nil {
		e.GET("/metrics", s.metricsRoute(opt.MetricsToken))
	}
	return e
}

// newEcho is the Echo instance with the middleware every request runs
// through, in order.
func (s *server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Debug = false // never: Debug sends err.Error() to clients
	// The audit log records the address that connected, not one a client claims.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = newErrorHandler(s.log)

	e.Pre(middleware.RemoveTrailingSlash())
	// The request id names the request in the log and the audit entries. A
	// client may give its own (tools correlate by it) if it is a short
	// token of plain characters; anything else is dropped and the server
	// makes one. The throttle never counts by it (Request.Attempt).
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if id := c.Request().Header.Get(echo.HeaderXRequestID); id != "" && !clientRequestID.MatchString(id) {
				c.Request().Header.Del(echo.HeaderXRequestID)
			}
			return next(c)
		}
	})
	e.Use(middleware.RequestID())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{StackSize: 8 << 10, DisableStackAll: true, LogErrorFunc: redactPanic}))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            31536000,
		ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
		ReferrerPolicy:        "no-referrer",
	}))
	e.Use(noStore)
	// Imports carry a whole file; every other request is small.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "256K",
		Skipper: func(c echo.Context) bool { return c.Request().URL.Path == "/v1/import" }}))
	e.Use(s.requestLog)
	if s.metrics != nil {
		e.Use(s.metrics.observe)
	}
	return e
}

// rateLimiter limits requests per client address to r a second with a
// burst of 5r. Each call has its own store: the routes one limiter guards
// share one budget.
func rateLimiter(r float64) echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rateLimit(r), Burst: int(5 * r), ExpiresIn: 10 * time.Minute}),
	})
}

// routes registers the /v1 API.
func (s *server) routes(g *echo.Group, limits attemptLimits) {
	g.GET("/sys/status", s.status)
	g.POST("/sys/init", s.init, limits.init)
	g.POST("/sys/unseal", s.unseal, limits.unseal)
	g.POST("/auth/login", s.login, limits.signIn)
	g.POST("/auth/device", s.deviceStart, limits.signIn)
	g.POST("/auth/device/token", s.deviceToken, limits.signIn)
	g.POST("/escrow/check", s.checkShare, limits.share)

	// Authentication is per route, not a group middleware: a group with
	// middleware answers every unknown path under it, turning 404s into 401s.
	auth := s.authenticate
	g.POST("/sys/seal", s.seal, auth)
	g.POST("/auth/logout", s.logout, auth)
	g.POST("/auth/password", s.changePassword, auth)
	// Re-authentication guesses a password and a code like a sign-in: the
	// same per-address rate limit (after auth, so it counts only sessions).
	g.POST("/auth/reauth", s.reauth, auth, limits.signIn)
	g.GET("/auth/whoami", s.whoami, auth)
	g.GET("/users", s.listUsers, auth)
	g.POST("/users", s.createUser, auth)
	g.POST("/users/:name/disable", s.disableUser, auth)
	g.POST("/users/:name/email", s.setEmail, auth)
	g.GET("/notify/settings", s.mailSettings, auth)
	g.PUT("/notify/settings/:kind", s.setMail, auth)
	g.POST("/users/:name/offboard", s.offboardUser, auth)
	g.POST("/users/:name/complete", s.completeUser, auth)
	g.POST("/users/:name/reset-mfa", s.resetMFA, auth)
	g.POST("/users/:name/mfa-exempt", s.mfaExempt, auth)
	g.POST("/auth/recovery-codes", s.recoveryCodes, auth)
	g.GET("/auth/passkeys", s.passkeysList, auth)
	g.DELETE("/auth/passkeys/:id", s.passkeyRemove, auth)
	g.GET("/creds", s.listCreds, auth)
	g.POST("/creds", s.putCred, auth)
	g.GET("/creds/:name", s.readCred, auth)
	g.GET("/creds/:name/totp", s.credTOTP, auth)
	g.GET("/creds/:name/history", s.credHistory, auth)
	g.POST("/creds/:name/compromised", s.credCompromised, auth)
	g.POST("/creds/:name/rotate", s.credRotate, auth)
	g.POST("/creds/:name/restore", s.credRestore, auth)
	g.DELETE("/creds/:name", s.deleteCred, auth)
	g.GET("/audit", s.exportAudit, auth)
	g.GET("/audit/verify", s.verifyAudit, auth)
	g.GET("/audit/checkpoint", s.checkpoint, auth)
	g.GET("/audit/incidents", s.incidents, auth)
	g.GET("/audit/subject/:name", s.subjectAudit, auth)
	g.GET("/audit/report", s.report, auth)
	g.POST("/audit/prune", s.prune, auth)
	g.POST("/audit/prune/:id/approve", s.approvePrune, auth)
	g.POST("/escrow/rekey", s.rekey, auth)
	g.POST("/escrow/rewrap", s.rewrap, auth)
	g.POST("/recover/passphrase", s.setPassphrase, auth)
	g.POST("/breakglass", s.breakGlass, auth)
	g.POST("/genpass", s.genpass, auth)
	g.POST("/requests", s.createRequest, auth)
	g.GET("/requests", s.listRequests, auth)
	g.POST("/requests/:id/approve", s.decideRequest(true), auth)
	g.POST("/requests/:id/deny", s.decideRequest(false), auth)
	g.POST("/grants/:id/revoke", s.revokeGrant, auth)
	g.GET("/report/access-review", s.accessReview, auth)
	g.GET("/report/access-review/year", s.annualReview, auth)
	g.POST("/report/access-review/confirm", s.reviewConfirm, auth)
	g.POST("/report/access-review/signoff", s.reviewSignoff, auth)
	g.GET("/report/password-health", s.passwordHealth, auth)
	g.GET("/backup", s.backup, auth)
	g.POST("/creds/:name/undelete", s.credUndelete, auth)
	g.POST("/creds/:name/review", s.credReview, auth)
	g.POST("/handovers", s.handOver, auth)
	g.POST("/handovers/:name/confirm", s.confirmHandover, auth)
	g.POST("/import", s.importFile, middleware.BodyLimit(importBodyLimit), auth)
	g.POST("/export", s.exportFile, auth)
}

// noStore keeps every response out of caches and browser history.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		c.Response().Header().Set("Pragma", "no-cache")
		return next(c)
	}
}

// requestLog logs method, route pattern (not the raw path or query), status
// and timing: nothing from bodies, headers or parameters.
func (s *server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.log.Info("request", "method", c.Request().Method, "route", c.Path(),
			"status", c.Response().Status, "ms", time.Since(start).Milliseconds(),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}

func request(c echo.Context) vault.Request {
	attempt, _ := c.Get(attemptKey).(string)
	if attempt == "" {
		b := make([]byte, 16)
		rand.Read(b)
		attempt = hex.EncodeToString(b)
		c.Set(attemptKey, attempt)
	}
	return vault.Request{IP: c.RealIP(), UserAgent: c.Request().UserAgent(),
		ID: c.Response().Header().Get(echo.HeaderXRequestID), Attempt: attempt}
}

// attemptKey holds, in the request's context, the server's own name for
// the request (vault.Request.Attempt).
const attemptKey = "strongroom.attempt"

// clientRequestID is the shape of a request id a client may give.
var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

var _ http.Handler = (*echo.Echo)(nil)

// redactPanic turns a recovered panic into an error for the 5xx log line
// that says where it happened but not what it carried: a panic's value
// could hold anything the code had in hand, a secret included. Runtime
// errors (nil dereference, index out of range) carry no data and are kept.
func redactPanic(_ echo.Context, err error, stack []byte) error {
	where := "unknown"
	lines := strings.Split(string(stack), "\n")
	afterPanic := false
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			afterPanic = true // the frames above are the recovering middleware's
		}
		if afterPanic && strings.HasPrefix(l, "strongroom/") && i+1 < len(lines) {
			fn, _, _ := strings.Cut(l, "(0x")
			where = fn + " " + strings.TrimSpace(lines[i+1])
			if j := strings.LastIndex(where, " +0x"); j > 0 {
				where = where[:j]
			}
			break
		}
	}
	var re runtime.Error
	if errors.As(err, &re) {
		return fmt.Errorf("a request handler panicked: %v, in %s", re, where)
	}
	return fmt.Errorf("a request handler panicked (its value is not logged: it may hold a secret), in %s", where)
}
