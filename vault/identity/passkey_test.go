package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
)

// softKey is a software authenticator for the tests: a P-256 key made
// with crypto/ecdsa, answering ceremonies as a CTAP2 authenticator would
// (none attestation), with go-webauthn's CBOR encoder for the key.
type softKey struct {
	t      testing.TB
	id     []byte
	priv   *ecdsa.PrivateKey
	handle []byte
	count  uint32
	flags  byte // beside UP, UV and AT: BE (0x08), BS (0x10)
	noUV   bool // the person was not verified (no fingerprint, face or PIN)
	origin string
}

func newSoftKey(t testing.TB, origin string) *softKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{t: t, id: id, priv: priv, origin: origin}
}

var b64 = base64.RawURLEncoding

func (k *softKey) clientData(typ string, options []byte) []byte {
	var o struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		k.t.Fatal(err)
	}
	if o.User.ID != "" {
		h, err := b64.DecodeString(o.User.ID)
		if err != nil {
			k.t.Fatal(err)
		}
		k.handle = h
	}
	cd, _ := json.Marshal(map[string]any{"type": typ, "challenge": o.Challenge, "origin": k.origin, "crossOrigin": false})
	return cd
}

func (k *softKey) authData(at bool) []byte {
	rp := sha256.Sum256([]byte("vault.parish.test"))
	flags := byte(0x01|0x04) | k.flags
	if k.noUV {
		flags &^= 0x04
	}
	if at {
		flags |= 0x40
	}
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	if at {
		out = append(out, make([]byte, 16)...) // AAGUID
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.id)))
		out = append(out, k.id...)
		out = append(out, k.cose()...)
	}
	return out
}

// cose is the key's public half as a COSE_Key (ES256).
func (k *softKey) cose() []byte {
	pub, err := k.priv.PublicKey.ECDH()
	if err != nil {
		k.t.Fatal(err)
	}
	raw := pub.Bytes() // 0x04 || X || Y
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:]})
	if err != nil {
		k.t.Fatal(err)
	}
	return cose
}

// create answers a registration ceremony's options.
func (k *softKey) create(options []byte) []byte {
	cd := k.clientData("webauthn.create", options)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(true)})
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "attestationObject": b64.EncodeToString(att),
			"transports": []string{"internal"}}})
	return out
}

// get answers a sign-in or re-authentication ceremony's options.
func (k *softKey) get(options []byte) []byte {
	k.count++
	cd := k.clientData("webauthn.get", options)
	ad := k.authData(false)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.handle)}})
	return out
}

const testOrigin = "https://vault.parish.test"

// passkeyFixture is a fixture with passkeys on, one clerk signed in, and
// a registered software passkey.
func passkeyFixture(t *testing.T) (*fixture, account, *access.Principal, *softKey) {
	t.Helper()
	f, u, p := signedInClerk(t)
	k := newSoftKey(t, testOrigin)
	cer, err := f.a.BeginPasskeyRegistration(ctx, p, "Clerk's iPhone")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, p, "Clerk's iPhone", PasskeyAnswer{Ceremony: cer.ID, Response: k.create(cer.Options)}); err != nil {
		t.Fatal(err)
	}
	return f, u, p, k
}

// signedInClerk is a fixture with passkeys on and a clerk signed in with
// password and TOTP.
func signedInClerk(t *testing.T) (*fixture, account, *access.Principal) {
	t.Helper()
	f := newFixture(t)
	rp, err := NewRelyingParty(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	f.a.rp = rp
	u := f.addUser(t, "Clerk", access.RoleClerk)
	_, p, err := f.a.Login(ctx, auditlog.Request{IP: "192.0.2.1"}, LoginRequest{Name: u.name, Password: u.password, TOTP: f.code(t, u)})
	if err != nil {
		t.Fatal(err)
	}
	return f, u, p
}

// passkeyLogin signs in with password and an answer from k.
func (f *fixture) passkeyLogin(t *testing.T, u account, k *softKey) error {
	t.Helper()
	cer, err := f.a.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.a.Login(ctx, auditlog.Request{IP: "192.0.2.1"}, LoginRequest{Name: u.name, Password: u.password,
		Passkey: &PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}})
	return err
}

func TestPasskeyRegisterAndSignIn(t *testing.T) {
	f, u, p, k := passkeyFixture(t)
	if e := f.last(t); e.Action != audit.UserPasskeyAdd || !strings.Contains(e.Reason, `"Clerk's iPhone"`) {
		t.Fatalf("registration entry: %+v", e)
	}
	keys, err := f.a.ListPasskeys(ctx, p)
	if err != nil || len(keys) != 1 || keys[0].Name != "Clerk's iPhone" || !keys[0].LastUsed.IsZero() {
		t.Fatalf("passkeys %+v, %v", keys, err)
	}
	if err := f.passkeyLogin(t, u, k); err != nil {
		t.Fatalf("sign-in with password and passkey: %v", err)
	}
	if e := f.last(t); e.Action != audit.AuthLogin || e.Outcome != audit.OutcomeOK || e.Reason != `passkey "Clerk's iPhone"` {
		t.Fatalf("sign-in entry: %+v", e)
	}
	keys, _ = f.a.ListPasskeys(ctx, p)
	if !keys[0].LastUsed.Equal(f.clock()) {
		t.Fatalf("last used %v", keys[0].LastUsed)
	}
	// The right passkey with a wrong password is refused.
	u2 := u
	u2.password = []byte("not the password")
	if err := f.passkeyLogin(t, u2, k); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("wrong password with passkey: %v", err)
	}
}

func TestPasskeyCeremonyUsedOnce(t *testing.T) {
	f, u, _, k := passkeyFixture(t)
	cer, err := f.a.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	ans := &PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}
	if _, _, err := f.a.Login(ctx, auditlog.Request{}, LoginRequest{Name: u.name, Password: u.password, Passkey: ans}); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.a.Login(ctx, auditlog.Request{}, LoginRequest{Name: u.name, Password: u.password, Passkey: ans})
	var pe *access.PasskeyError
	if !errors.As(err, &pe) || pe.Problem != access.PasskeyExpired {
		t.Fatalf("a replayed answer: %v", err)
	}
	// Expired: begun more than 5 minutes ago.
	cer, _ = f.a.BeginPasskeyLogin()
	f.advance(ceremonyTTL)
	_, _, err = f.a.Login(ctx, auditlog.Request{}, LoginRequest{Name: u.name, Password: u.password,
		Passkey: &PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}})
	if !errors.As(err, &pe) || pe.Problem != access.PasskeyExpired {
		t.Fatalf("an expired ceremony: %v", err)
	}
}

func TestPasskeyWrongOrigin(t *testing.T) {
	f, u, _, k := passkeyFixture(t)
	k.origin = "https://vault.parish.test.evil.example"
	err := f.passkeyLogin(t, u, k)
	var pe *access.PasskeyError
	if !errors.As(err, &pe) || pe.Problem != access.PasskeyOrigin {
		t.Fatalf("another origin: %v", err)
	}
	if e := f.last(t); e.Action != audit.AuthLogin || e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "origin") {
		t.Fatalf("entry %+v", e)
	}
}

func TestPasskeyClonedAndBackupAnomalies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(k *softKey)
		action audit.Action
		kind   audit.IncidentKind
	}{
		{"counter back", func(k *softKey) { k.count -= 2 }, audit.AuthPasskeyCloned, audit.IncidentPasskeyCloned},
		{"counter same", func(k *softKey) { k.count-- }, audit.AuthPasskeyCloned, audit.IncidentPasskeyCloned},
		{"backup eligible appears", func(k *softKey) { k.flags |= 0x08 }, audit.AuthPasskeyBackup, audit.IncidentPasskeyBackup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, u, _, k := passkeyFixture(t)
			if err := f.passkeyLogin(t, u, k); err != nil {
				t.Fatal(err)
			}
			tc.tamper(k)
			if err := f.passkeyLogin(t, u, k); !errors.Is(err, access.ErrBadLogin) {
				t.Fatalf("anomalous passkey: %v", err)
			}
			es, _ := f.entries(t)
			inc := es[len(es)-2]
			if inc.Action != tc.action || !audit.IsIncident(&inc) || audit.KindOf(&inc) != tc.kind {
				t.Fatalf("incident entry %+v (kind %q)", inc, audit.KindOf(&inc))
			}
			if last := es[len(es)-1]; last.Action != audit.AuthLogin || last.Outcome != audit.OutcomeDenied {
				t.Fatalf("refusal entry %+v", last)
			}
		})
	}
}

func TestPasskeyRequiredRefusesTOTP(t *testing.T) {
	f, u, _, k := passkeyFixture(t)
	f.a.requirePasskey[access.RoleClerk] = true
	f.advance(time.Minute) // a TOTP step not used yet
	code := f.code(t, u)
	_, _, err := f.a.Login(ctx, auditlog.Request{}, LoginRequest{Name: u.name, Password: u.password, TOTP: code})
	var pe *access.PasskeyError
	if !errors.As(err, &pe) || pe.Problem != access.PasskeyRequired {
		t.Fatalf("TOTP for a role that must use its passkey: %v", err)
	}
	// The refusal told the sender the pair was right, so the code is spent:
	// it does not work again, even were the rule lifted.
	f.a.requirePasskey = map[access.Role]bool{}
	if _, _, err := f.a.Login(ctx, auditlog.Request{}, LoginRequest{Name: u.name, Password: u.password, TOTP: code}); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("the code refused for want of a passkey, used again: %v", err)
	}
	f.a.requirePasskey = map[access.Role]bool{access.RoleClerk: true}
	if err := f.passkeyLogin(t, u, k); err != nil {
		t.Fatalf("passkey: %v", err)
	}
	// A person of another role is not affected.
	f.a.requirePasskey = map[access.Role]bool{access.RoleChairman: true}
	f.advance(time.Minute)
	if _, _, err := f.a.Login(ctx, auditlog.Request{}, LoginRequest{Name: u.name, Password: u.password, TOTP: f.code(t, u)}); err != nil {
		t.Fatalf("TOTP for a role not listed: %v", err)
	}
}

func TestPasskeyReauthAndRemove(t *testing.T) {
	f, _, p, k := passkeyFixture(t)
	keys, _ := f.a.ListPasskeys(ctx, p)
	if err := f.a.RemovePasskey(ctx, auditlog.Request{}, p, keys[0].ID); !errors.Is(err, access.ErrReauthNeeded) {
		t.Fatalf("removal without re-authentication: %v", err)
	}
	cer, err := f.a.BeginPasskeyReauth(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.ReauthenticateWithPasskey(ctx, auditlog.Request{}, p, PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}); err != nil {
		t.Fatalf("re-authentication with passkey: %v", err)
	}
	if !access.Reauthed(p, f.clock()) {
		t.Fatal("the session is not marked re-authenticated")
	}
	// A ceremony is bound to the session that began it.
	cer, _ = f.a.BeginPasskeyReauth(ctx, p)
	otherP := access.NewPrincipal(p.UserID, p.Name, p.Role, "another-session")
	err = f.a.ReauthenticateWithPasskey(ctx, auditlog.Request{}, otherP, PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)})
	var pe *access.PasskeyError
	if !errors.As(err, &pe) || pe.Problem != access.PasskeyExpired {
		t.Fatalf("another session's ceremony: %v", err)
	}
	if err := f.a.RemovePasskey(ctx, auditlog.Request{}, p, keys[0].ID); err != nil {
		t.Fatalf("removal: %v", err)
	}
	if e := f.last(t); e.Action != audit.UserPasskeyRemove || !strings.Contains(e.Reason, `"Clerk's iPhone" removed (0 left)`) {
		t.Fatalf("removal entry %+v", e)
	}
	if _, err := f.a.BeginPasskeyReauth(ctx, p); !errors.As(err, &pe) || pe.Problem != access.PasskeyNone {
		t.Fatalf("re-authentication with no passkey: %v", err)
	}
}

func TestRelyingPartyRefusesIPAndHTTP(t *testing.T) {
	for _, u := range []string{"https://127.0.0.1:8443", "http://vault.parish.test", "https://vault.parish.test/vault", "https://[::1]:8443", "vault.parish.test"} {
		if _, err := NewRelyingParty(u); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("%s: %v", u, err)
		}
	}
	rp, err := NewRelyingParty("https://Vault.Parish.test:8443/")
	if err != nil || rp.Origin() != "https://vault.parish.test:8443" {
		t.Fatalf("%v %v", rp, err)
	}
	// Browsers leave the default port out of the origin.
	if rp, err := NewRelyingParty("https://vault.parish.test:443"); err != nil || rp.Origin() != "https://vault.parish.test" {
		t.Fatalf("with :443: %v %v", rp, err)
	}
}

func TestPasswordless(t *testing.T) {
	f, _, _, k := passkeyFixture(t)
	if _, err := f.a.BeginPasswordlessLogin(); err == nil {
		t.Fatal("passwordless sign-in begun while off")
	}
	f.a.passwordless = true
	signIn := func() (*access.Principal, error) {
		cer, err := f.a.BeginPasswordlessLogin()
		if err != nil {
			t.Fatal(err)
		}
		_, p, err := f.a.PasswordlessLogin(ctx, auditlog.Request{IP: "192.0.2.9"}, PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)})
		return p, err
	}
	p, err := signIn()
	if err != nil || p.Name != "Clerk" {
		t.Fatalf("passwordless: %v %v", p, err)
	}
	if e := f.last(t); e.Action != audit.AuthLogin || e.Reason != `passwordless: passkey "Clerk's iPhone"` {
		t.Fatalf("entry %+v", e)
	}
	// Not verified (presence only): refused, as it is only one factor.
	k.noUV = true
	if _, err := signIn(); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("passwordless without user verification: %v", err)
	}
	// A passkey whose user handle names no account.
	k.noUV, k.handle = false, []byte("no such account handle")
	cer, _ := f.a.BeginPasswordlessLogin()
	resp := k.get(cer.Options)
	if _, _, err := f.a.PasswordlessLogin(ctx, auditlog.Request{}, PasskeyAnswer{Ceremony: cer.ID, Response: resp}); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("unknown handle: %v", err)
	}
	// A passkey answer for the second-factor ceremony is not passwordless.
	cer, _ = f.a.BeginPasskeyLogin()
	if _, _, err := f.a.PasswordlessLogin(ctx, auditlog.Request{}, PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}); err == nil {
		t.Fatal("a second-factor ceremony signed in without a password")
	}
}

// FuzzPasskeyAnswer: whatever a browser sends as its answer to a sign-in
// ceremony, reading and checking it never panics, and nothing but a
// signature over this ceremony's challenge is accepted. The seeds are
// well-formed answers signed for another challenge, a registration
// answer, and scraps.
func FuzzPasskeyAnswer(f *testing.F) {
	rp, err := NewRelyingParty(testOrigin)
	if err != nil {
		f.Fatal(err)
	}
	a := &Accounts{rp: rp, clock: time.Now}
	k := newSoftKey(f, testOrigin)
	k.handle = []byte("0123456789abcdef0123456789abcdef")
	rec := &Record{Name: "Clerk", PasskeyHandle: k.handle, Passkeys: []Passkey{{ID: k.id, PublicKey: k.cose(), Name: "key"}}}
	other := []byte(`{"challenge":"` + b64.EncodeToString(make([]byte, 32)) + `","user":{"id":"` + b64.EncodeToString(k.handle) + `"}}`)
	f.Add(k.get(other))
	k.flags = 0x18
	f.Add(k.get(other))
	f.Add(k.create(other))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"","rawId":"","type":"public-key","response":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cer, err := a.BeginPasskeyLogin()
		if err != nil {
			t.Fatal(err)
		}
		pf := a.passkeyProof(&PasskeyAnswer{Ceremony: cer.ID, Response: data}, ceremonyLogin, "")
		if pf.problem != "" {
			return
		}
		if _, _, refusal, _ := pf.check(rec); refusal == "" {
			t.Fatalf("accepted an answer not signed over this ceremony's challenge: %q", data)
		}
	})
}

// TestPasskeyRemovedDuringSignIn: a passkey removed between a sign-in's
// check outside the write and its decision inside it is refused there.
func TestPasskeyRemovedDuringSignIn(t *testing.T) {
	f, u, p, k := passkeyFixture(t)
	cer, err := f.a.BeginPasskeyReauth(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.ReauthenticateWithPasskey(ctx, auditlog.Request{}, p, PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}); err != nil {
		t.Fatal(err)
	}
	keys, _ := f.a.ListPasskeys(ctx, p)
	f.on("login.decide", func() {
		if err := f.a.RemovePasskey(ctx, auditlog.Request{}, p, keys[0].ID); err != nil {
			t.Errorf("removal: %v", err)
		}
	})
	if err := f.passkeyLogin(t, u, k); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("sign-in with a passkey removed meanwhile: %v", err)
	}
	if e := f.last(t); e.Action != audit.AuthLogin || e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "not one of this account's passkeys") {
		t.Fatalf("entry %+v", e)
	}
}

// TestPasskeyFirstRegistrationsRace: two first registrations begun before
// either finished, in two sessions of the same person (one session holds
// one ceremony), carry different user handles; the second to finish is
// refused, so the first passkey keeps working.
func TestPasskeyFirstRegistrationsRace(t *testing.T) {
	f, u, p := signedInClerk(t)
	f.advance(30 * time.Second)
	_, p2, err := f.a.Login(ctx, auditlog.Request{IP: "192.0.2.2"}, LoginRequest{Name: u.name, Password: u.password, TOTP: f.code(t, u)})
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := newSoftKey(t, testOrigin), newSoftKey(t, testOrigin)
	c1, _ := f.a.BeginPasskeyRegistration(ctx, p, "Phone")
	c2, _ := f.a.BeginPasskeyRegistration(ctx, p2, "Laptop")
	r1, r2 := k1.create(c1.Options), k2.create(c2.Options)
	if err := f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, p, "Phone", PasskeyAnswer{Ceremony: c1.ID, Response: r1}); err != nil {
		t.Fatal(err)
	}
	err = f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, p2, "Laptop", PasskeyAnswer{Ceremony: c2.ID, Response: r2})
	var pe *access.PasskeyError
	if !errors.As(err, &pe) {
		t.Fatalf("second first registration: %v", err)
	}
	if err := f.passkeyLogin(t, u, k1); err != nil {
		t.Fatalf("the first passkey after the race: %v", err)
	}
}

// With two passkeys, each re-authenticates and signs in (the ceremony
// names both; go-webauthn refuses unless the account owns every one),
// and re-authentication needs the person verified (fingerprint, face or
// PIN), not a touch alone.
func TestPasskeyTwoKeysAndVerification(t *testing.T) {
	f, u, p, phone := passkeyFixture(t)
	key := newSoftKey(t, testOrigin)
	cer, err := f.a.BeginPasskeyRegistration(ctx, p, "Blue key")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, p, "Blue key", PasskeyAnswer{Ceremony: cer.ID, Response: key.create(cer.Options)}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*softKey{phone, key, phone} {
		k.count++
		cer, err := f.a.BeginPasskeyReauth(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.a.ReauthenticateWithPasskey(ctx, auditlog.Request{}, p, PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}); err != nil {
			t.Fatalf("re-authentication with one of two passkeys: %v", err)
		}
		k.count++
		if err := f.passkeyLogin(t, u, k); err != nil {
			t.Fatalf("sign-in with one of two passkeys: %v", err)
		}
	}
	key.noUV, key.count = true, key.count+1
	cer, err = f.a.BeginPasskeyReauth(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.ReauthenticateWithPasskey(ctx, auditlog.Request{}, p, PasskeyAnswer{Ceremony: cer.ID, Response: key.get(cer.Options)}); err == nil {
		t.Fatal("a re-authentication by touch alone, the person not verified")
	}
}

// Adding a passkey is a new way in: only within 5 minutes of the sign-in
// or a re-authentication.
func TestPasskeyRegistrationNeedsAFreshSignIn(t *testing.T) {
	f, u, p := signedInClerk(t)
	f.advance(access.ReauthWindow + time.Second)
	if _, err := f.a.BeginPasskeyRegistration(ctx, p, "Clerk's iPhone"); !errors.Is(err, access.ErrReauth) {
		t.Fatalf("registration begun long after the sign-in: %v", err)
	}
	k := newSoftKey(t, testOrigin)
	if err := f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, p, "Late key", PasskeyAnswer{Response: k.create([]byte(`{"publicKey":{"challenge":"AA","user":{"id":"AA"}}}`))}); !errors.Is(err, access.ErrReauth) {
		t.Fatalf("registration finished long after the sign-in: %v", err)
	}
	if err := f.a.Reauthenticate(ctx, auditlog.Request{}, p, Reauth{Password: append([]byte(nil), u.password...), TOTP: f.code(t, u)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.BeginPasskeyRegistration(ctx, p, "Clerk's iPhone"); err != nil {
		t.Fatalf("registration after a re-authentication: %v", err)
	}
}

// Nobody crowds others out of the ceremonies: a session holds one (a new
// begin replaces its last), a flood of sign-in begins evicts the oldest
// sign-in ceremony rather than refusing, and leaves sessions' alone.
func TestCeremoniesCannotBeFilled(t *testing.T) {
	var cs ceremonies
	now := time.Now()
	at := now
	put := func(session string) string {
		at = at.Add(time.Millisecond)
		id, err := cs.put(at, &ceremony{kind: ceremonyLogin, session: session})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := put("s1")
	second := put("s1")
	mine := put("s2")
	oldest := put("")
	for i := 0; i < maxCeremonies; i++ {
		put("")
	}
	newest := put("")
	if _, ok := cs.take(first, ceremonyLogin, "s1", now); ok {
		t.Fatal("a session kept two ceremonies")
	}
	if _, ok := cs.take(oldest, ceremonyLogin, "", now); ok {
		t.Fatal("the oldest sign-in ceremony did not give way")
	}
	for _, c := range []struct{ id, session string }{{second, "s1"}, {mine, "s2"}, {newest, ""}} {
		if _, ok := cs.take(c.id, ceremonyLogin, c.session, now); !ok {
			t.Fatalf("ceremony of session %q lost in the flood", c.session)
		}
	}
	if n := len(cs.m); n != maxCeremonies-1 {
		t.Fatalf("%d sign-in ceremonies kept, want %d", n, maxCeremonies-1)
	}
}

// A credential ID is one account's (WebAuthn §7.1): the same
// authenticator credential cannot be registered to a second account.
func TestPasskeyIDIsOneAccounts(t *testing.T) {
	f, _, _, k := passkeyFixture(t)
	bob := f.addUser(t, "Bob", access.RoleMember)
	_, pb, err := f.a.Login(ctx, auditlog.Request{IP: "192.0.2.3"}, LoginRequest{Name: bob.name, Password: bob.password, TOTP: f.code(t, bob)})
	if err != nil {
		t.Fatal(err)
	}
	cer, err := f.a.BeginPasskeyRegistration(ctx, pb, "Borrowed")
	if err != nil {
		t.Fatal(err)
	}
	err = f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, pb, "Borrowed", PasskeyAnswer{Ceremony: cer.ID, Response: k.create(cer.Options)})
	if !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("the clerk's credential registered to Bob: %v", err)
	}
	if e := f.last(t); e.Action != audit.UserPasskeyAdd || e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "another account") {
		t.Fatalf("entry %+v", e)
	}
}

// Under --require-passkey a person cannot remove their last passkey (it
// would turn authenticator codes back on for them); with a second one
// they may remove either.
func TestPasskeyLastOneStaysWhenRequired(t *testing.T) {
	f, _, p, k := passkeyFixture(t)
	f.a.requirePasskey[access.RoleClerk] = true
	cer0, err := f.a.BeginPasskeyReauth(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.ReauthenticateWithPasskey(ctx, auditlog.Request{}, p, PasskeyAnswer{Ceremony: cer0.ID, Response: k.get(cer0.Options)}); err != nil {
		t.Fatal(err)
	}
	keys, _ := f.a.ListPasskeys(ctx, p)
	if err := f.a.RemovePasskey(ctx, auditlog.Request{}, p, keys[0].ID); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("the last passkey of a role that must use one removed: %v", err)
	}
	spare := newSoftKey(t, testOrigin)
	cer, err := f.a.BeginPasskeyRegistration(ctx, p, "Spare key")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, p, "Spare key", PasskeyAnswer{Ceremony: cer.ID, Response: spare.create(cer.Options)}); err != nil {
		t.Fatal(err)
	}
	if err := f.a.RemovePasskey(ctx, auditlog.Request{}, p, keys[0].ID); err != nil {
		t.Fatalf("removing one of two: %v", err)
	}
}

// TestPasskeyRemovalEndsItsSessions: removing a lost phone's passkey
// signs the phone out; sessions signed in with another passkey or with a
// code, and the session that removes it, stay.
func TestPasskeyRemovalEndsItsSessions(t *testing.T) {
	f, u, p, phone := passkeyFixture(t)
	key := newSoftKey(t, testOrigin)
	cer, err := f.a.BeginPasskeyRegistration(ctx, p, "Blue key")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, p, "Blue key", PasskeyAnswer{Ceremony: cer.ID, Response: key.create(cer.Options)}); err != nil {
		t.Fatal(err)
	}
	signIn := func(k *softKey) (string, *access.Principal) {
		t.Helper()
		cer, err := f.a.BeginPasskeyLogin()
		if err != nil {
			t.Fatal(err)
		}
		tok, pr, err := f.a.Login(ctx, auditlog.Request{IP: "192.0.2.1"}, LoginRequest{Name: u.name, Password: u.password,
			Passkey: &PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}})
		if err != nil {
			t.Fatal(err)
		}
		return tok, pr
	}
	onPhone, _ := signIn(phone)
	alsoOnPhone, _ := signIn(phone)
	onKey, byKey := signIn(key)
	f.advance(31 * time.Second)
	codeTok, _, err := f.a.Login(ctx, auditlog.Request{IP: "192.0.2.1"}, LoginRequest{Name: u.name, Password: u.password, TOTP: f.code(t, u)})
	if err != nil {
		t.Fatal(err)
	}
	// Removed from the session the blue key signed in, after confirming
	// with the blue key.
	cer, _ = f.a.BeginPasskeyReauth(ctx, byKey)
	if err := f.a.ReauthenticateWithPasskey(ctx, auditlog.Request{}, byKey, PasskeyAnswer{Ceremony: cer.ID, Response: key.get(cer.Options)}); err != nil {
		t.Fatal(err)
	}
	keys, _ := f.a.ListPasskeys(ctx, byKey)
	phoneID := ""
	for _, k := range keys {
		if k.Name == "Clerk's iPhone" {
			phoneID = k.ID
		}
	}
	if err := f.a.RemovePasskey(ctx, auditlog.Request{}, byKey, phoneID); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); !strings.Contains(e.Reason, "2 session(s) signed in with it ended") {
		t.Fatalf("removal entry %+v", e)
	}
	for _, tok := range []string{onPhone, alsoOnPhone} {
		if _, err := f.a.Authenticate(ctx, tok); !errors.Is(err, access.ErrUnauthenticated) {
			t.Fatalf("a session signed in with the removed passkey: %v", err)
		}
	}
	for name, tok := range map[string]string{"blue key": onKey, "code": codeTok} {
		if _, err := f.a.Authenticate(ctx, tok); err != nil {
			t.Fatalf("the %s session ended: %v", name, err)
		}
	}
	// The session the blue key signed in removes the blue key: it stays.
	keys, _ = f.a.ListPasskeys(ctx, byKey)
	if err := f.a.RemovePasskey(ctx, auditlog.Request{}, byKey, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, onKey); err != nil {
		t.Fatalf("the session that removed its own passkey ended: %v", err)
	}
}

// TestPasskeyNameCheckedFirst: a name the vault would refuse is refused
// before the authenticator is asked to make a passkey.
func TestPasskeyNameCheckedFirst(t *testing.T) {
	f, _, p, _ := passkeyFixture(t)
	for _, name := range []string{"", "   ", strings.Repeat("x", 61), "Clerk's iPhone", "bad\u202ename"} {
		_, err := f.a.BeginPasskeyRegistration(ctx, p, name)
		var fe *access.InputError
		if !errors.As(err, &fe) || fe.Field != "passkey_name" {
			t.Errorf("name %q: %v", name, err)
		}
	}
	cer, err := f.a.BeginPasskeyRegistration(ctx, p, " Blue key ")
	if err != nil {
		t.Fatal(err)
	}
	// The name is the one checked at the beginning, whatever the form
	// says by the end (the authenticator has made the passkey by then).
	if err := f.a.FinishPasskeyRegistration(ctx, auditlog.Request{}, p, "", PasskeyAnswer{Ceremony: cer.ID, Response: newSoftKey(t, testOrigin).create(cer.Options)}); err != nil {
		t.Fatalf("finished with the form's name emptied: %v", err)
	}
	keys, _ := f.a.ListPasskeys(ctx, p)
	if len(keys) != 2 || keys[1].Name != "Blue key" {
		t.Fatalf("passkeys %+v", keys)
	}
}

// TestPasskeyRemovalEndsWhatItApproved: a command line's sign-in
// approved from a session a passkey signed in (a stolen phone) ends when
// that passkey is removed, collected or not; one approved from another
// session stays.
func TestPasskeyRemovalEndsWhatItApproved(t *testing.T) {
	f, u, byCode, phone := passkeyFixture(t)
	reauthWith := func(p *access.Principal, k *softKey) {
		t.Helper()
		cer, err := f.a.BeginPasskeyReauth(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.a.ReauthenticateWithPasskey(ctx, auditlog.Request{}, p, PasskeyAnswer{Ceremony: cer.ID, Response: k.get(cer.Options)}); err != nil {
			t.Fatal(err)
		}
	}
	cer, _ := f.a.BeginPasskeyLogin()
	_, onPhone, err := f.a.Login(ctx, auditlog.Request{IP: "192.0.2.1"}, LoginRequest{Name: u.name, Password: u.password,
		Passkey: &PasskeyAnswer{Ceremony: cer.ID, Response: phone.get(cer.Options)}})
	if err != nil {
		t.Fatal(err)
	}
	reauthWith(onPhone, phone)
	approve := func(p *access.Principal) DeviceGrant {
		t.Helper()
		g := f.start(t, u.name)
		if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); err != nil {
			t.Fatal(err)
		}
		return g
	}
	collected, waiting := approve(onPhone), approve(onPhone)
	cliToken, _, err := f.a.PollDevice(ctx, fromCLI, collected.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	if err := f.a.Reauthenticate(ctx, auditlog.Request{}, byCode, Reauth{Password: append([]byte(nil), u.password...), TOTP: f.code(t, u)}); err != nil {
		t.Fatal(err)
	}
	other := approve(byCode)
	keys, _ := f.a.ListPasskeys(ctx, byCode)
	if err := f.a.RemovePasskey(ctx, auditlog.Request{}, byCode, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, cliToken); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("the command line signed in from the phone's session: %v", err)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, waiting.DeviceCode); !errors.Is(err, ErrDeviceUnknown) {
		t.Fatalf("an approval from the phone's session, not yet collected: %v", err)
	}
	if _, cp, err := f.a.PollDevice(ctx, fromCLI, other.DeviceCode); err != nil || cp.Name != u.name {
		t.Fatalf("an approval from another session: %v", err)
	}
	// The phone's session is gone: it can approve nothing more.
	g := f.start(t, u.name)
	if err := f.a.DecideDevice(ctx, fromBrowser, onPhone, g.UserCode, true); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("an ended session approved: %v", err)
	}
}
