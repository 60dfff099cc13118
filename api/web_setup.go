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

	"strongroom/escrow"
	"strongroom/vault"
)

// setupCookie finds a browser's pending set-up.
const setupCookie = "__Host-strongroom-setup"

// setupLife is how long a set-up keeps its envelope files for download.
const setupLife = 15 * time.Minute

// pendingSetup holds the envelope files of a first-run set-up until each
// is downloaded once, the set-up is finished, or setupLife passes,
// whichever is first; each file's bytes are wiped then. Nothing else of
// the set-up is kept: the provider's one-time password and TOTP key are
// on the page rendered once, and dropped with it.
type pendingSetup struct {
	envelopes []setupEnvelope
	expiry    *time.Timer
}

// setupEnvelope is one holder's envelope as the two files handed out; a
// file is nil once downloaded or wiped.
type setupEnvelope struct {
	Holder    string
	Index     int
	Text, PDF []byte
}

type setupDone struct {
	Envelopes   []setupEnvelope
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
	envs, err := setupEnvelopes(res.Envelopes)
	if err != nil {
		return w.fail(c, err)
	}
	qr, err := qrDataURI(res.Admin.TOTPURI)
	if err != nil {
		wipeEnvelopes(envs)
		return w.fail(c, err)
	}
	// The one-time password and the TOTP key come from the vault as
	// strings (vault.OneTimeLogin), so they cannot be wiped here; they are
	// only on this page, not kept with the envelopes, and unreferenced once
	// it is sent.
	done := setupDone{Envelopes: envs, Threshold: k, Shares: len(holders), QR: qr, Secret: totpSecret(res.Admin.TOTPURI),
		Admin: OneTimeLogin{Name: res.Admin.Name, Password: res.Admin.Password}, VerifierKey: res.VerifierKey}
	c.SetCookie(&http.Cookie{Name: setupCookie, Value: w.keepSetup(envs), Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(setupLife.Seconds())})
	return w.render(c, http.StatusOK, "setup_done", &page{Title: "The vault is set up", Data: done})
}

// setupEnvelopes renders each envelope's two files once and wipes the
// shares they were made from. escrow.Envelope.Text is a string: the bytes
// kept are a copy, and that string is garbage from here on.
func setupEnvelopes(envs []*escrow.Envelope) ([]setupEnvelope, error) {
	defer func() {
		for _, env := range envs {
			env.Share.Wipe()
		}
	}()
	out := make([]setupEnvelope, 0, len(envs))
	for _, env := range envs {
		pdf, err := env.PDF()
		if err != nil {
			wipeEnvelopes(out)
			return nil, err
		}
		out = append(out, setupEnvelope{Holder: env.Holder, Index: int(env.Share.Index), Text: []byte(env.Text()), PDF: pdf})
	}
	return out, nil
}

func wipeEnvelopes(envs []setupEnvelope) {
	for i := range envs {
		wipeBytes(envs[i].Text)
		wipeBytes(envs[i].PDF)
		envs[i].Text, envs[i].PDF = nil, nil
	}
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

// keepSetup holds the envelope files for setupLife and returns the setup
// cookie value that finds them. The page's render holds views of the
// same slices (the template reads only Holder and Index).
func (w *web) keepSetup(envs []setupEnvelope) string {
	id := randomToken()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.setups[id] = &pendingSetup{envelopes: envs, expiry: time.AfterFunc(setupLife, func() { w.dropSetup(id) })}
	return id
}

// dropSetup wipes what remains of a set-up's files and forgets it.
func (w *web) dropSetup(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.setups[id]; p != nil {
		p.expiry.Stop()
		wipeEnvelopes(p.envelopes)
		delete(w.setups, id)
	}
}

// takeEnvelope hands over one file of a pending set-up, once: the caller
// sends and wipes it. gone says the set-up or the file is no longer kept.
func (w *web) takeEnvelope(c echo.Context, idx int, kind string) (env setupEnvelope, file []byte, gone bool) {
	ck, err := c.Cookie(setupCookie)
	if err != nil {
		return env, nil, true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.setups[ck.Value]
	if p == nil {
		return env, nil, true
	}
	for i := range p.envelopes {
		e := &p.envelopes[i]
		if e.Index != idx {
			continue
		}
		switch kind {
		case "pdf":
			file, e.PDF = e.PDF, nil
		case "txt":
			file, e.Text = e.Text, nil
		}
		return setupEnvelope{Holder: e.Holder, Index: e.Index}, file, file == nil
	}
	return env, nil, false
}

// setupEnvelope hands out one envelope file, once, and wipes it.
func (w *web) setupEnvelope(c echo.Context) error {
	idx, err := strconv.Atoi(c.FormValue("index"))
	kind := c.FormValue("kind")
	if err != nil || (kind != "pdf" && kind != "txt") {
		return w.refuse(c, http.StatusNotFound, "There is no such envelope.")
	}
	env, file, gone := w.takeEnvelope(c, idx, kind)
	switch {
	case gone && env.Holder == "":
		return w.refuse(c, http.StatusGone, "The envelopes are no longer here: they can be downloaded once, within 15 minutes of setting up.",
			"If one was lost, issue new envelopes with strongroom escrow rekey.")
	case env.Holder == "":
		return w.refuse(c, http.StatusNotFound, "There is no such envelope.")
	case gone:
		return w.refuse(c, http.StatusGone, "That file was already downloaded. Each envelope file can be downloaded once.")
	}
	defer wipeBytes(file)
	name := fmt.Sprintf("envelope-%d-%s.%s", env.Index, fileSafe(env.Holder), kind)
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	if kind == "pdf" {
		return c.Blob(http.StatusOK, "application/pdf", file)
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", file)
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
		w.dropSetup(ck.Value)
	}
	c.SetCookie(&http.Cookie{Name: setupCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, "/ui/unseal")
}
