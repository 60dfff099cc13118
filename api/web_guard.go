// The guard every page passes through: security headers, the CSRF token
// (double submit) and the same-origin check on every form post, and the
// session read from its cookie. Everyone who uses the web interface (clerk,
// chairman, provider, auditor, members) goes through it on every request;
// the policy it enforces is described in web.go and SECURITY.md.

package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

const (
	ctxCSRF = "strongroom.web.csrf"
	ctxUser = "strongroom.web.user"
)

// middleware sets the page headers, the CSRF cookie and the session, and
// refuses cross-site and unauthenticated form posts.
func (w *web) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", webCSP)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Same-origin requests keep their Origin (no-referrer would turn
		// it into "null"); other sites learn nothing.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), clipboard-write=(self)")
		token := ""
		if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) == 43 {
			token = ck.Value
		} else {
			token = randomToken()
			c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
		}
		c.Set(ctxCSRF, token)
		r := c.Request()
		if r.Method == http.MethodPost {
			if !sameOrigin(r) {
				return w.refuse(c, http.StatusForbidden, "This form was sent from another website, so it was refused.")
			}
			if subtle.ConstantTimeCompare([]byte(c.FormValue("csrf")), []byte(token)) != 1 {
				return w.refuse(c, http.StatusForbidden, "This form has expired or came from another website. Go back, reload the page and try again.")
			}
		}
		if strings.HasPrefix(r.URL.Path, "/ui/static/") {
			return next(c) // no session needed for the stylesheet and script
		}
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			p, err := w.s.v.AuthenticateFrom(r.Context(), request(c), ck.Value)
			if err == nil {
				c.Set(ctxUser, p)
				c.Set(principalKey, p)
			} else {
				clearSession(c)
			}
		}
		return next(c)
	}
}

// sameOrigin says whether a POST came from our own pages: by the
// browser's Sec-Fetch-Site where it sends one, else by Origin.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser that sends either; the CSRF token still decides
	}
	u, err := url.Parse(o)
	return err == nil && o != "null" && u.Host == r.Host
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func clearSession(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func webUser(c echo.Context) *vault.Principal {
	p, _ := c.Get(ctxUser).(*vault.Principal)
	return p
}
