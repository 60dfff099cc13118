package identity

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"strongroom/vault/access"
)

// Passkeys and security keys (WebAuthn, through go-webauthn: no CBOR or
// attestation code of ours). A Passkey is stored in its account's sealed
// record; the challenge of a ceremony (registration, sign-in,
// re-authentication) is kept here in memory, bound to the session or
// sign-in attempt that began it, used once and for at most ceremonyTTL.

// ceremonyTTL is how long a begun ceremony may be finished.
const ceremonyTTL = 5 * time.Minute

// maxCeremonies bounds the sign-in ceremonies waiting at once (the oldest
// gives way beyond); a session holds one ceremony of its own.
const maxCeremonies = 4096

// maxPasskeys is how many passkeys one person may register.
const maxPasskeys = 10

// RelyingParty is the vault as WebAuthn knows it: its web address
// (server --public-url) and the host name passkeys are bound to.
type RelyingParty struct {
	wa     *webauthn.WebAuthn
	origin string
}

// NewRelyingParty is the relying party of a vault reached at publicURL,
// an https:// address with a host name (browsers refuse WebAuthn on an IP
// address). Its host name is the relying-party ID; its origin the only one
// accepted.
func NewRelyingParty(publicURL string) (*RelyingParty, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, access.Invalid("public-url", "passkeys need the vault's address as https://NAME[:PORT], with no path")
	}
	if net.ParseIP(u.Hostname()) != nil {
		return nil, access.Invalid("public-url", "passkeys need the vault's address to be a name, not an IP address (browsers refuse passkeys on an IP address)")
	}
	// The origin as browsers send it: the default port left out.
	origin := "https://" + strings.ToLower(strings.TrimSuffix(u.Host, ":443"))
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  strings.ToLower(u.Hostname()),
		RPDisplayName:         "Strongroom",
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("identity: relying party: %w", err)
	}
	return &RelyingParty{wa: wa, origin: origin}, nil
}

// Origin is the one web address passkey answers are accepted from.
func (rp *RelyingParty) Origin() string { return rp.origin }

// sameOrigin says a browser's answer was made on the vault's own address.
func (rp *RelyingParty) sameOrigin(cd protocol.CollectedClientData) bool {
	return strings.EqualFold(strings.TrimSuffix(cd.Origin, "/"), rp.origin)
}

// Passkey is one registered passkey or security key, stored in its
// account's sealed record (Record.Passkeys).
type Passkey struct {
	ID                []byte    `json:"id"`
	PublicKey         []byte    `json:"public_key"` // COSE key, as registered
	AttestationType   string    `json:"attestation_type,omitempty"`
	AttestationFormat string    `json:"attestation_format,omitempty"`
	Transports        []string  `json:"transports,omitempty"`
	AAGUID            []byte    `json:"aaguid,omitempty"`
	SignCount         uint32    `json:"sign_count"`
	UserVerified      bool      `json:"user_verified,omitempty"`
	BackupEligible    bool      `json:"backup_eligible,omitempty"`
	BackupState       bool      `json:"backup_state,omitempty"`
	Name              string    `json:"name"`
	Created           time.Time `json:"created"`
	LastUsed          time.Time `json:"last_used,omitzero"`
}

// PasskeyInfo is what a person sees of one of their passkeys.
type PasskeyInfo struct {
	ID       string    `json:"id"` // base64url credential ID
	Name     string    `json:"name"`
	Synced   bool      `json:"synced"` // may be copied to the person's other devices
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

func (k *Passkey) info() PasskeyInfo {
	return PasskeyInfo{ID: base64.RawURLEncoding.EncodeToString(k.ID), Name: k.Name, Synced: k.BackupEligible,
		Created: k.Created, LastUsed: k.LastUsed}
}

func (k *Passkey) credential() webauthn.Credential {
	tr := make([]protocol.AuthenticatorTransport, len(k.Transports))
	for i, t := range k.Transports {
		tr[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{ID: k.ID, PublicKey: k.PublicKey, AttestationType: k.AttestationType,
		AttestationFormat: k.AttestationFormat, Transport: tr,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: k.UserVerified,
			BackupEligible: k.BackupEligible, BackupState: k.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount}}
}

// passkeyOf finds a registered passkey by credential ID (-1 if none).
func (u *Record) passkeyOf(id []byte) int {
	for i := range u.Passkeys {
		if bytes.Equal(u.Passkeys[i].ID, id) {
			return i
		}
	}
	return -1
}

// waUser is an account as go-webauthn sees it. handle stands in for an
// account with no handle yet (its first registration).
type waUser struct {
	r      *Record
	handle []byte
}

func (w waUser) WebAuthnID() []byte {
	if len(w.r.PasskeyHandle) > 0 {
		return w.r.PasskeyHandle
	}
	return w.handle
}
func (w waUser) WebAuthnName() string        { return w.r.Name }
func (w waUser) WebAuthnDisplayName() string { return w.r.Name }
func (w waUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(w.r.Passkeys))
	for i := range w.r.Passkeys {
		out[i] = w.r.Passkeys[i].credential()
	}
	return out
}

// ceremonyKind is what a ceremony was begun for.
type ceremonyKind int

const (
	ceremonyRegister ceremonyKind = iota + 1
	ceremonyLogin
	ceremonyReauth
	ceremonyPasswordless
)

// ceremony is one begun WebAuthn ceremony, waiting for the browser.
type ceremony struct {
	kind    ceremonyKind
	session string // the session key it is bound to ("" for a sign-in)
	data    webauthn.SessionData
	expires time.Time
	name    string // a registration's passkey name, checked at its beginning
}

// ceremonies are the begun ceremonies, by a random ID the browser holds in
// an HttpOnly cookie (never in a URL).
type ceremonies struct {
	mu sync.Mutex
	m  map[string]*ceremony
}

// put keeps c and returns its ID. Nobody can crowd others out: a session
// holds one ceremony (a new one replaces its last), and the sign-ins,
// which anyone may begin, hold at most maxCeremonies, the oldest giving
// way to a new one (its browser begins again) rather than refusing.
func (cs *ceremonies) put(now time.Time, c *ceremony) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	c.expires = now.Add(ceremonyTTL)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.m == nil {
		cs.m = map[string]*ceremony{}
	}
	anonymous, oldest := 0, ""
	for k, old := range cs.m {
		switch {
		case !now.Before(old.expires), c.session != "" && old.session == c.session:
			delete(cs.m, k)
		case old.session == "":
			anonymous++
			if oldest == "" || old.expires.Before(cs.m[oldest].expires) {
				oldest = k
			}
		}
	}
	if c.session == "" && anonymous >= maxCeremonies {
		delete(cs.m, oldest)
	}
	cs.m[id] = c
	return id, nil
}

// take removes and returns the ceremony id names if it is of kind, bound
// to session, and not expired: a ceremony is used at most once, whatever
// its outcome.
func (cs *ceremonies) take(id string, kind ceremonyKind, session string, now time.Time) (*ceremony, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.m[id]
	if !ok {
		return nil, false
	}
	delete(cs.m, id)
	if c.kind != kind || c.session != session || !now.Before(c.expires) {
		return nil, false
	}
	return c, true
}

// passkeyErr is the error of a refused ceremony.
func passkeyErr(p access.PasskeyProblem) error { return &access.PasskeyError{Problem: p} }

// CheckPasskeyName accepts a passkey's name: 1-60 printable characters.
func CheckPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := access.CheckName("passkey", name); err != nil || len([]rune(name)) > 60 {
		return "", access.Invalid("passkey_name", "give the passkey a name of 1 to 60 characters, such as Clerk's iPhone")
	}
	return name, nil
}
