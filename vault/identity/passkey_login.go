package identity

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
)

// BeginPasskeyLogin begins a sign-in with password and passkey. The
// ceremony is discoverable: it names no account and no credential, so it
// is the same for every name and says nothing of who has a passkey.
func (a *Accounts) BeginPasskeyLogin() (*Ceremony, error) {
	if a.rp == nil {
		return nil, passkeyErr(access.PasskeysOff)
	}
	assertion, data, err := a.rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	return a.begin(ceremonyLogin, "", data, assertion.Response)
}

// BeginPasskeyReauth begins a re-authentication with one of the caller's
// passkeys, bound to the caller's session.
func (a *Accounts) BeginPasskeyReauth(ctx context.Context, p *access.Principal) (*Ceremony, error) {
	if a.rp == nil {
		return nil, passkeyErr(access.PasskeysOff)
	}
	u, err := a.own(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(u.Passkeys) == 0 {
		return nil, passkeyErr(access.PasskeyNone)
	}
	// Required: a re-authentication stands for password and code, so a
	// touch on a key left in a signed-in computer is not enough.
	assertion, data, err := a.rp.wa.BeginLogin(waUser{r: u}, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	return a.begin(ceremonyReauth, p.Session(), data, assertion.Response)
}

// passkeyProof is a browser's answer to a sign-in or re-authentication
// ceremony, taken (used up) and read, waiting to be checked against an
// account.
type passkeyProof struct {
	rp     *RelyingParty
	data   webauthn.SessionData
	parsed *protocol.ParsedCredentialAssertionData
	// problem, if set, refused the answer before any account was read;
	// why says so in the entry.
	problem access.PasskeyProblem
	why     string
	// incident is the anomaly check found, to record beside the refusal.
	incident audit.Action
	reason   string
	used     string // the passkey used, for the entry of what it allowed
}

func (a *Accounts) passkeyProof(ans *PasskeyAnswer, kind ceremonyKind, session string) *passkeyProof {
	pf := &passkeyProof{rp: a.rp}
	if a.rp == nil {
		pf.problem, pf.why = access.PasskeysOff, "passkey: passkeys are off on this server"
		return pf
	}
	c, ok := a.cer.take(ans.Ceremony, kind, session, a.now())
	if !ok {
		pf.problem, pf.why = access.PasskeyExpired, "passkey: request expired or already used"
		return pf
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(ans.Response)
	switch {
	case err != nil:
		pf.problem, pf.why = access.PasskeyUnreadable, "passkey: the browser's answer could not be read"
	case !a.rp.sameOrigin(parsed.Response.CollectedClientData):
		pf.problem, pf.why = access.PasskeyOrigin, "passkey: answer made for another web address (origin)"
	default:
		pf.data, pf.parsed = c.data, parsed
	}
	return pf
}

var errNotTheirs = errors.New("identity: not this account's passkey")

// check verifies the answer against u's passkeys. On success i is the
// passkey used and cred its state after this use; otherwise refusal says
// why, and incident names an anomaly (a counter that went back, backup
// flags that changed) found after the signature verified, so that only
// the authenticator's holder can raise one.
func (pf *passkeyProof) check(u *Record) (i int, cred *webauthn.Credential, refusal string, incident audit.Action) {
	i = u.passkeyOf(pf.parsed.RawID)
	if i < 0 || len(u.PasskeyHandle) == 0 {
		return -1, nil, "passkey refused: not one of this account's passkeys", ""
	}
	stored := u.Passkeys[i]
	flags := pf.parsed.Response.AuthenticatorData.Flags
	// go-webauthn refuses a changed backup-eligible flag without saying
	// whether the signature held: it is given the flag the answer has,
	// and the stored flag is compared below, once the signature verified.
	// Every passkey of the account is given (a ceremony that named them
	// all is refused unless the user owns every one), the one used with
	// the flag its answer has.
	all := slices.Clone(u.Passkeys)
	all[i].BackupEligible = flags.HasBackupEligible()
	user := waUser{r: &Record{Name: u.Name, PasskeyHandle: u.PasskeyHandle, Passkeys: all}}
	var err error
	if len(pf.data.UserID) > 0 {
		cred, err = pf.rp.wa.ValidateLogin(user, pf.data, pf.parsed)
	} else {
		cred, err = pf.rp.wa.ValidateDiscoverableLogin(func(_, handle []byte) (webauthn.User, error) {
			if !bytes.Equal(handle, u.PasskeyHandle) {
				return nil, errNotTheirs
			}
			return user, nil
		}, pf.data, pf.parsed)
	}
	q := strconv.Quote(stored.Name)
	switch {
	case err != nil:
		return -1, nil, "passkey " + q + " refused: " + problemType(err), ""
	case flags.HasBackupEligible() != stored.BackupEligible:
		return -1, nil, "passkey " + q + " refused: its backup-eligible flag changed, which the standard forbids", audit.AuthPasskeyBackup
	case cred.Authenticator.CloneWarning:
		return -1, nil, "passkey " + q + " refused: its signature count did not go up (" +
			strconv.FormatUint(uint64(flagsCount(pf)), 10) + " after " + strconv.FormatUint(uint64(stored.SignCount), 10) +
			"): a copied or faulty authenticator", audit.AuthPasskeyCloned
	}
	return i, cred, "", ""
}

func flagsCount(pf *passkeyProof) uint32 { return pf.parsed.Response.AuthenticatorData.Counter }

// use records on u that its passkey i was used, with the state cred
// returned; it returns what to say of it in the entry.
func (u *Record) use(i int, cred *webauthn.Credential, now time.Time) string {
	k := &u.Passkeys[i]
	k.SignCount, k.BackupState, k.UserVerified, k.LastUsed = cred.Authenticator.SignCount, cred.Flags.BackupState, cred.Flags.UserVerified, now
	return "passkey " + strconv.Quote(k.Name)
}

// passkeyFactor: a passkey of the account, answering a sign-in ceremony.
type passkeyFactor struct{}

func (passkeyFactor) offered(in LoginRequest, _ *Record) bool { return in.passkey != nil }

func (passkeyFactor) precheck(in LoginRequest, u *Record, _ time.Time) bool {
	if in.passkey.problem != "" {
		return false
	}
	_, _, refusal, _ := in.passkey.check(u)
	return refusal == ""
}

func (passkeyFactor) confirm(in LoginRequest, cur *Record, now time.Time) (string, string, int64) {
	pf := in.passkey
	if pf.problem != "" {
		return pf.why, "", 0
	}
	if in.passwordless && pf.data.UserVerification != protocol.VerificationRequired {
		return "passwordless sign-in without user verification", "", 0 // cannot happen: the ceremony asks for it
	}
	i, cred, refusal, incident := pf.check(cur)
	if refusal != "" {
		pf.incident, pf.reason = incident, refusal
		return refusal, "", 0
	}
	how := cur.use(i, cred, now)
	if in.passwordless {
		how = "passwordless: " + how
	}
	return "", how, cur.LastTOTPStep
}

// passkeyIncident records, in tx, the anomaly a refused passkey showed.
func (a *Accounts) passkeyIncident(tx barrier.Tx, req auditlog.Request, pf *passkeyProof, actor audit.Actor, target audit.Target) error {
	if pf == nil || pf.incident == "" {
		return nil
	}
	return a.log.Append(tx, req, auditlog.Event{Actor: actor, Action: pf.incident, Target: target,
		Outcome: audit.OutcomeDenied, Reason: pf.reason})
}

// mustUsePasskey: TOTP (or an exemption) is not accepted for cur, a person
// of a role server --require-passkey names who has a passkey.
func (a *Accounts) mustUsePasskey(cur *Record, in LoginRequest) bool {
	return a.requirePasskey[cur.Role] && len(cur.Passkeys) > 0 && in.passkey == nil && in.RecoveryCode == ""
}

// ReauthenticateWithPasskey is Reauthenticate with one of the caller's
// passkeys in place of password and TOTP.
func (a *Accounts) ReauthenticateWithPasskey(ctx context.Context, req auditlog.Request, p *access.Principal, ans PasskeyAnswer) error {
	return a.Reauthenticate(ctx, req, p, Reauth{Passkey: &ans})
}
