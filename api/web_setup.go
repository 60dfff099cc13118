// First-run set-up: the IT provider names the council, the provider account
// and the envelope holders, and chooses the operator passphrase; the vault
// is created and its envelopes (one per holder, the chairman among them)
// are handed out here, each file downloadable once within 15 minutes,
// together with the provider's first sign-in.

package api

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"strongroom/vault"
)

// setupCookie finds a browser's pending set-up.
const setupCookie = "__Host-strongroom-setup"

// pendingSetup holds the envelopes of a first-run setup until each file
// is downloaded once or 15 minutes pass.
type pendingSetup struct {
	out     setupDone
	taken   map[string]bool
	expires time.Time
}

type setupDone struct {
	Envelopes   []EnvelopeOut
	Threshold   int
	Shares      int
	Admin       OneTimeLogin
	QR          template.URL
	Secret      string
	VerifierKey string
}

func (w *web) setupForm(c echo.Context) error {
	if done, err := w.state(c, false); done || err != nil {
		return err
	}
	if st, _ := w.s.v.Status(ctx(c)); st.Initialized {
		return c.Redirect(http.StatusSeeOther, "/ui/")
	}
	return w.render(c, http.StatusOK, "setup", &page{Title: "Set up this vault", Form: map[string]string{"threshold": "2"}})
}

func (w *web) setup(c echo.Context) error {
	f := form(c, "council", "admin", "holders", "threshold")
	pass, pass2 := secretField(c, "passphrase"), secretField(c, "passphrase2")
	defer wipeBytes(pass)
	defer wipeBytes(pass2)
	holders := setupHolders(f["holders"])
	k, kerr := strconv.Atoi(f["threshold"])
	if errs := setupErrors(f, holders, k, kerr, pass, pass2); len(errs) > 0 {
		return w.render(c, http.StatusUnprocessableEntity, "setup", &page{Title: "Set up this vault", Errors: errs, Form: f})
	}
	res, err := w.s.v.Init(ctx(c), request(c), vault.InitRequest{Council: f["council"], Shares: len(holders), Threshold: k,
		Holders: holders, Admin: f["admin"], Passphrase: pass})
	if err != nil {
		if errors.Is(err, vault.ErrInvalid) {
			_, msg := classify(err)
			return w.render(c, http.StatusUnprocessableEntity, "setup", &page{Title: "Set up this vault",
				Errors: []*fieldError{{"council", sentence(msg)}}, Form: f})
		}
		return w.fail(c, err)
	}
	envs, err := envelopesOut(res.Envelopes)
	if err != nil {
		return w.fail(c, err)
	}
	qr, err := qrDataURI(res.Admin.TOTPURI)
	if err != nil {
		return w.fail(c, err)
	}
	done := setupDone{Envelopes: envs, Threshold: k, Shares: len(holders), QR: qr, Secret: totpSecret(res.Admin.TOTPURI),
		Admin: OneTimeLogin{Name: res.Admin.Name, Password: res.Admin.Password}, VerifierKey: res.VerifierKey}
	c.SetCookie(&http.Cookie{Name: setupCookie, Value: w.keepSetup(done), Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: 900})
	return w.render(c, http.StatusOK, "setup_done", &page{Title: "The vault is set up", Data: done})
}

// setupHolders is the holders field: one name a line, blank lines dropped.
func setupHolders(field string) []string {
	var holders []string
	for _, h := range strings.Split(field, "\n") {
		if h = strings.TrimSpace(h); h != "" {
			holders = append(holders, h)
		}
	}
	return holders
}

// setupErrors checks the set-up form before the vault is asked to create
// anything; k and kerr are the threshold field as parsed.
func setupErrors(f map[string]string, holders []string, k int, kerr error, pass, pass2 []byte) []*fieldError {
	var errs []*fieldError
	if f["council"] == "" {
		errs = append(errs, &fieldError{"council", "Enter the council’s name"})
	}
	if f["admin"] == "" {
		errs = append(errs, &fieldError{"admin", "Enter a name for the IT provider account"})
	}
	if len(holders) < 2 {
		errs = append(errs, &fieldError{"holders", "Enter at least two envelope holders, one per line"})
	}
	if kerr != nil || k < 2 || k > len(holders) {
		errs = append(errs, &fieldError{"threshold", fmt.Sprintf("Enter a number from 2 to the number of holders (%d)", max(len(holders), 2))})
	}
	if len(pass) < 12 {
		errs = append(errs, &fieldError{"passphrase", "Enter a passphrase of at least 12 characters"})
	} else if string(pass) != string(pass2) {
		errs = append(errs, &fieldError{"passphrase2", "The two passphrases are different"})
	}
	return errs
}

// keepSetup holds the envelopes for 15 minutes, dropping any set-up that
// has expired, and returns the setup cookie value that finds them.
func (w *web) keepSetup(done setupDone) string {
	id := randomToken()
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, p := range w.setups {
		if time.Now().After(p.expires) {
			delete(w.setups, k)
		}
	}
	w.setups[id] = &pendingSetup{out: done, taken: map[string]bool{}, expires: time.Now().Add(15 * time.Minute)}
	return id
}

func (w *web) pendingSetup(c echo.Context) *pendingSetup {
	ck, err := c.Cookie(setupCookie)
	if err != nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.setups[ck.Value]
	if p != nil && time.Now().After(p.expires) {
		delete(w.setups, ck.Value)
		return nil
	}
	return p
}

// setupEnvelope hands out one envelope file, once.
func (w *web) setupEnvelope(c echo.Context) error {
	p := w.pendingSetup(c)
	if p == nil {
		return w.refuse(c, http.StatusGone, "The envelopes are no longer here: they can be downloaded once, within 15 minutes of setting up.",
			"If one was lost, issue new envelopes with strongroom escrow rekey.")
	}
	idx, kind := c.FormValue("index"), c.FormValue("kind")
	key := idx + "/" + kind
	w.mu.Lock()
	var env *EnvelopeOut
	for i := range p.out.Envelopes {
		if strconv.Itoa(p.out.Envelopes[i].Index) == idx {
			env = &p.out.Envelopes[i]
		}
	}
	taken := p.taken[key]
	if env != nil && !taken && (kind == "pdf" || kind == "txt") {
		p.taken[key] = true
	}
	w.mu.Unlock()
	switch {
	case env == nil || (kind != "pdf" && kind != "txt"):
		return w.refuse(c, http.StatusNotFound, "There is no such envelope.")
	case taken:
		return w.refuse(c, http.StatusGone, "That file was already downloaded. Each envelope file can be downloaded once.")
	}
	name := fmt.Sprintf("envelope-%d-%s.%s", env.Index, fileSafe(env.Holder), kind)
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	if kind == "pdf" {
		return c.Blob(http.StatusOK, "application/pdf", env.PDF)
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(env.Text))
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

func (w *web) setupFinish(c echo.Context) error {
	if ck, err := c.Cookie(setupCookie); err == nil {
		w.mu.Lock()
		if p := w.setups[ck.Value]; p != nil {
			for i := range p.out.Envelopes {
				wipeBytes(p.out.Envelopes[i].PDF)
			}
			delete(w.setups, ck.Value)
		}
		w.mu.Unlock()
	}
	c.SetCookie(&http.Cookie{Name: setupCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, "/ui/unseal")
}
