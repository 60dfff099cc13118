package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// PasskeysOn says the server can register and check passkeys.
func (a *Accounts) PasskeysOn() bool { return a.rp != nil }

// Ceremony is a begun WebAuthn ceremony: ID for the browser to hold in an
// HttpOnly cookie, Options the JSON for navigator.credentials.
type Ceremony struct {
	ID      string
	Options []byte
}

// PasskeyAnswer is a browser's answer to a ceremony.
type PasskeyAnswer = access.PasskeyAnswer

// own reads the caller's account.
func (a *Accounts) own(ctx context.Context, p *access.Principal) (*Record, error) {
	var u Record
	err := a.keys.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &u)
			if err == nil && !ok {
				err = access.ErrUnauthenticated
			}
			return err
		})
	})
	return &u, err
}

// BeginPasskeyRegistration begins registering a passkey for the caller,
// bound to the caller's session. Passkeys are discoverable (resident), so
// that signing in need not say which an account has. The name it will
// have is checked first, so that an authenticator never makes a passkey
// the vault would then refuse (it would stay on the phone, useless).
func (a *Accounts) BeginPasskeyRegistration(ctx context.Context, p *access.Principal, name string) (*Ceremony, error) {
	name, err := CheckPasskeyName(name)
	if err != nil {
		return nil, err
	}
	if a.rp == nil {
		return nil, passkeyErr(access.PasskeysOff)
	}
	if !access.Fresh(p, a.now()) { // a new way in: only just after proving who you are
		return nil, access.ErrReauth
	}
	u, err := a.own(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(u.Passkeys) >= maxPasskeys {
		return nil, access.Invalid("passkey_name", "you have %d passkeys, the most one person may have; remove one first", maxPasskeys)
	}
	if u.passkeyNamed(name) {
		return nil, errNameTaken
	}
	handle := make([]byte, 32)
	rand.Read(handle)
	creation, data, err := a.rp.wa.BeginRegistration(waUser{r: u, handle: handle},
		webauthn.WithExclusions(webauthn.Credentials(waUser{r: u}.WebAuthnCredentials()).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationPreferred}))
	if err != nil {
		return nil, fmt.Errorf("identity: begin registration: %w", err)
	}
	return a.begin(ceremonyRegister, p.Session(), data, creation.Response, name)
}

func (a *Accounts) begin(kind ceremonyKind, session string, data *webauthn.SessionData, options any, name ...string) (*Ceremony, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	c := &ceremony{kind: kind, session: session, data: *data}
	if len(name) > 0 {
		c.name = name[0]
	}
	id, err := a.cer.put(a.now(), c)
	if err != nil {
		return nil, err
	}
	return &Ceremony{ID: id, Options: opts}, nil
}

// FinishPasskeyRegistration stores the passkey the browser made for the
// ceremony in the caller's account, under the name checked when the
// ceremony began (name, the form's, only for a ceremony begun without
// one), recorded as user.passkey_add; a refusal is recorded as denied.
func (a *Accounts) FinishPasskeyRegistration(ctx context.Context, req auditlog.Request, p *access.Principal, name string, ans PasskeyAnswer) error {
	if a.rp == nil {
		return passkeyErr(access.PasskeysOff)
	}
	if !access.Fresh(p, a.now()) {
		return access.ErrReauth
	}
	c, ok := a.cer.take(ans.Ceremony, ceremonyRegister, p.Session(), a.now())
	if ok && c.name != "" {
		name = c.name // the authenticator made it for this name: a changed form cannot orphan it
	}
	name, err := CheckPasskeyName(name)
	if err != nil {
		return err
	}
	target := audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}
	deny := func(tx barrier.Tx, reason string, answer error) error {
		if err := a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.UserPasskeyAdd,
			Target: target, Outcome: audit.OutcomeDenied, Reason: reason}); err != nil {
			return err
		}
		return access.Recorded(answer)
	}
	parsed, perr := protocol.ParseCredentialCreationResponseBytes(ans.Response)
	return a.keys.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			switch {
			case !ok:
				return deny(tx, "passkey registration expired or already used", passkeyErr(access.PasskeyExpired))
			case perr != nil:
				return deny(tx, "the browser's answer could not be read", passkeyErr(access.PasskeyUnreadable))
			case !a.rp.sameOrigin(parsed.Response.CollectedClientData):
				return deny(tx, "answer made for another web address (origin)", passkeyErr(access.PasskeyOrigin))
			}
			var cur Record
			if ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &cur); err != nil || !ok {
				return access.FirstErr(err, access.ErrUnauthenticated)
			}
			cred, err := a.rp.wa.CreateCredential(waUser{r: &cur, handle: c.data.UserID}, c.data, parsed)
			switch {
			case err != nil:
				return deny(tx, "passkey registration did not verify: "+problemType(err), passkeyErr(access.PasskeyNotAccepted))
			case cur.passkeyOf(cred.ID) >= 0:
				return deny(tx, "that passkey is registered already", access.Invalid("passkey_name", "that passkey is registered already"))
			case registeredElsewhere(tx, cur.ID, cred.ID):
				// WebAuthn §7.1 step 25: a credential ID is one account's.
				return deny(tx, "that passkey is registered to another account", access.Invalid("passkey_name", "that passkey is registered already"))
			case len(cur.Passkeys) >= maxPasskeys:
				return deny(tx, "too many passkeys", access.Invalid("passkey_name", "you have %d passkeys, the most one person may have; remove one first", maxPasskeys))
			}
			if cur.passkeyNamed(name) {
				return errNameTaken
			}
			cur.PasskeyHandle = c.data.UserID
			k := newPasskey(cred, name, a.now())
			cur.Passkeys = append(cur.Passkeys, k)
			if err := tx.PutRecord(storage.BucketUsers, cur.ID, &cur); err != nil {
				return err
			}
			return a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.UserPasskeyAdd, Target: target,
				Reason: fmt.Sprintf("passkey %s registered (%s)", strconv.Quote(name), kindOf(&k))})
		})
	})
}

var errNameTaken = access.Invalid("passkey_name", "you have a passkey with that name already; choose another")

// passkeyNamed says whether u has a passkey named name.
func (u *Record) passkeyNamed(name string) bool {
	for i := range u.Passkeys {
		if u.Passkeys[i].Name == name {
			return true
		}
	}
	return false
}

func newPasskey(cred *webauthn.Credential, name string, now time.Time) Passkey {
	tr := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		tr[i] = string(t)
	}
	return Passkey{ID: cred.ID, PublicKey: cred.PublicKey, AttestationType: cred.AttestationType,
		AttestationFormat: cred.AttestationFormat, Transports: tr, AAGUID: cred.Authenticator.AAGUID,
		SignCount: cred.Authenticator.SignCount, UserVerified: cred.Flags.UserVerified,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, Name: name, Created: now}
}

// kindOf says, in an entry, whether a passkey may be synced.
func kindOf(k *Passkey) string {
	if k.BackupEligible {
		return "synced passkey"
	}
	return "device-bound key"
}

// problemType is the kind of go-webauthn's refusal, for an entry: its
// fixed type name, never the input it quotes.
func problemType(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Type != "" {
		return pe.Type
	}
	return "invalid"
}

// ListPasskeys lists the caller's passkeys.
func (a *Accounts) ListPasskeys(ctx context.Context, p *access.Principal) ([]PasskeyInfo, error) {
	u, err := a.own(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]PasskeyInfo, len(u.Passkeys))
	for i := range u.Passkeys {
		out[i] = u.Passkeys[i].info()
	}
	return out, nil
}

// RemovePasskey removes one of the caller's passkeys (id: PasskeyInfo.ID).
// It needs a re-authentication within ReauthWindow; recorded as
// user.passkey_remove.
func (a *Accounts) RemovePasskey(ctx context.Context, req auditlog.Request, p *access.Principal, id string) error {
	target := audit.Target{Kind: "user", ID: p.UserID, Name: p.Name}
	if !access.Reauthed(p, a.now()) {
		return a.log.RecordThen(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.UserPasskeyRemove,
			Target: target, Outcome: audit.OutcomeDenied, Reason: "not re-authenticated"}, access.ErrReauthNeeded)
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return &access.NotFoundError{Kind: "passkey", Name: "that passkey"}
	}
	return a.keys.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			var u Record
			if ok, err := tx.GetRecord(storage.BucketUsers, p.UserID, &u); err != nil || !ok {
				return access.FirstErr(err, access.ErrUnauthenticated)
			}
			// The removing session as stored now: one ended meanwhile (its
			// own passkey removed from another) removes nothing.
			var s Session
			if ok, err := tx.GetRecord(storage.BucketSessions, p.Session(), &s); err != nil || !ok || s.UserID != p.UserID {
				return access.FirstErr(err, access.ErrUnauthenticated)
			}
			if !access.Reauthed(&access.Principal{ReauthAt: s.ReauthAt}, a.now()) {
				return access.ErrReauthNeeded
			}
			i := u.passkeyOf(raw)
			if i < 0 {
				return &access.NotFoundError{Kind: "passkey", Name: "that passkey"}
			}
			if len(u.Passkeys) == 1 && a.requirePasskey[u.Role] {
				// The last one would silently turn authenticator codes back
				// on for a role that must use a passkey.
				return access.Invalid("passkey", "your role must sign in with a passkey: add another passkey before you remove your last one, or ask your IT provider to reset your sign-in")
			}
			name := u.Passkeys[i].Name
			u.Passkeys = append(u.Passkeys[:i:i], u.Passkeys[i+1:]...)
			if err := tx.PutRecord(storage.BucketUsers, u.ID, &u); err != nil {
				return err
			}
			// A lost phone's sessions go with its passkey; the session
			// that removes it stays, whichever passkey signed it in.
			ended, err := endSessionsWhere(tx, u.Person(), p.Session(), "session ended: the passkey it was signed in with was removed",
				func(s Session) bool { return bytes.Equal(s.Passkey, raw) })
			if err != nil {
				return err
			}
			// A command line's sign-in approved from such a session and
			// not yet collected goes too (a collected one is a session,
			// ended above: it carries the passkey).
			if err := endDevicesWhere(tx, u.ID, func(r *deviceRequest) bool { return bytes.Equal(r.Passkey, raw) }); err != nil {
				return err
			}
			reason := fmt.Sprintf("passkey %s removed (%d left)", strconv.Quote(name), len(u.Passkeys))
			if ended > 0 {
				reason += fmt.Sprintf("; %d session(s) signed in with it ended", ended)
			}
			return a.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.UserPasskeyRemove,
				Target: target, Reason: reason})
		})
	})
}

// registeredElsewhere says whether an account other than id holds a
// passkey with the credential ID cid (read in tx; a record that cannot be
// read counts as holding it, so the check fails closed).
func registeredElsewhere(tx barrier.Tx, id string, cid []byte) bool {
	all, err := All(tx)
	if err != nil {
		return true
	}
	for _, u := range all {
		if u.ID != id && u.passkeyOf(cid) >= 0 {
			return true
		}
	}
	return false
}
