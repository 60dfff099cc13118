package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// A command-line sign-in approved in the web interface: the device
// authorisation grant of RFC 8628, for a person whose only factor is one a
// terminal cannot offer (a passkey).
//
//   - The CLI asks (StartDevice) for a named person and gets a device code
//     ("srd_" + 43 characters of base64url, 32 random bytes: a secret, sent
//     only in request bodies) and a user code (8 letters from
//     UserCodeAlphabet, shown as XXXX-XXXX: not a secret on its own).
//   - The person, signed in to the web interface and re-authenticated
//     within ReauthWindow, types the user code, sees where the request came
//     from, and approves or refuses it (DecideDevice). Only the person the
//     CLI named may approve it.
//   - The CLI polls (PollDevice) with the device code and receives an
//     ordinary session of that person once, after which the request is
//     gone.
//
// A request is a sealed record in the sessions bucket under
// "device/" + hex(SHA-256("strongroom device code\x00" + device code)): the
// device code itself is never stored. Like a session, a request ends at
// seal and unseal (EndAll): a sign-in after an unseal starts fresh. A
// wrong user code counts against the approver in the sign-in throttle.

// UserCodeAlphabet is the letters of a user code: no vowels (no words), no
// letters that look like digits or each other.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

const (
	devicePrefix    = "device/"
	deviceCodeTag   = "srd_"
	userCodeLetters = 8
	// DeviceExpiry is how long a request waits for its approval.
	DeviceExpiry = 10 * time.Minute
	// DeviceInterval is how often the CLI may poll at first; each poll
	// sooner than its interval allows (slow_down) adds DeviceSlowDown.
	DeviceInterval = 5 * time.Second
	DeviceSlowDown = 5 * time.Second
	// maxDevices bounds the requests waiting at once: a request can be
	// made without signing in.
	maxDevices = 1000
	// maxDevicesPerAddress bounds those waiting from one address.
	maxDevicesPerAddress = 5
)

// The answers of PollDevice, named as RFC 8628 §3.5 names them.
var (
	ErrDevicePending  = errors.New("vault: authorization_pending")
	ErrDeviceSlowDown = errors.New("vault: slow_down")
	ErrDeviceDenied   = errors.New("vault: access_denied")
	ErrDeviceExpired  = errors.New("vault: expired_token")
	// ErrDeviceUnknown is a device code with no request (never issued, or
	// already used): RFC 6749's invalid_grant.
	ErrDeviceUnknown = errors.New("vault: invalid_grant")
)

// deviceRequest is the stored request. Account is the named person's id
// ("" if no account has that name: such a request is stored and answered
// alike, and nobody can approve it).
type deviceRequest struct {
	Name      string    `json:"name"`
	Account   string    `json:"account,omitempty"`
	UserCode  string    `json:"user_code"`
	Asked     time.Time `json:"asked"`
	Expires   time.Time `json:"expires"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Interval  int64     `json:"interval_s"`
	NextPoll  time.Time `json:"next_poll"`
	Status    string    `json:"status"` // devicePending, deviceApproved, deviceRefused
	DecidedBy string    `json:"decided_by,omitempty"`
	// Passkey is the credential ID of the passkey the approving session
	// was signed in with, if one: the command line's session carries it,
	// so removing that passkey (a lost phone) ends it too.
	Passkey []byte `json:"passkey,omitempty"`
}

const (
	devicePending  = "pending"
	deviceApproved = "approved"
	deviceRefused  = "refused"
)

// DeviceGrant is what the CLI is told when it asks.
type DeviceGrant struct {
	DeviceCode string
	UserCode   string // as shown: XXXX-XXXX
	Expires    time.Time
	ExpiresIn  time.Duration
	Interval   time.Duration
}

// DeviceRequest is what the approver is shown of a request.
type DeviceRequest struct {
	UserCode  string // as shown: XXXX-XXXX
	Name      string
	IP        string
	UserAgent string
	Asked     time.Time
	Expires   time.Time
}

func deviceKey(code string) string {
	sum := sha256.Sum256([]byte("strongroom device code\x00" + code))
	return devicePrefix + hex.EncodeToString(sum[:])
}

// DeviceID is a short, non-secret name of the request stored under key,
// for audit entries (as SessionID is of a session).
func DeviceID(key string) string {
	sum := sha256.Sum256([]byte("strongroom device id\x00" + key))
	return "d-" + hex.EncodeToString(sum[:4])
}

func newDeviceCode() string {
	b := make([]byte, 32)
	rand.Read(b)
	return deviceCodeTag + base64.RawURLEncoding.EncodeToString(b)
}

func newUserCode() string {
	out := make([]byte, 0, userCodeLetters)
	b := make([]byte, 1)
	for len(out) < userCodeLetters {
		rand.Read(b)
		if b[0] < 240 { // 240 = 12 × 20: no letter more likely than another
			out = append(out, UserCodeAlphabet[b[0]%20])
		}
	}
	return string(out)
}

// ShowUserCode is a stored user code as people see it: XXXX-XXXX.
func ShowUserCode(c string) string {
	if len(c) != userCodeLetters {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// ParseUserCode reads a user code as a person typed it: case, spaces and
// hyphens do not matter. An error names the field "code".
func ParseUserCode(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
	if s == "" {
		return "", access.Invalid("code", "enter the code the command line shows")
	}
	if len(s) != userCodeLetters || strings.Trim(s, UserCodeAlphabet) != "" {
		return "", access.Invalid("code", "a code is 8 letters, shown as two groups of 4 such as BCDF-GHJK")
	}
	return s, nil
}

// ValidDeviceCode says s has the shape of a device code (it may still be
// unknown).
func ValidDeviceCode(s string) bool {
	if !strings.HasPrefix(s, deviceCodeTag) || len(s) != len(deviceCodeTag)+43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s[len(deviceCodeTag):])
	return err == nil
}

// scanDevices calls fn for every stored request.
func scanDevices(tx barrier.Tx, fn func(key string, r *deviceRequest) error) error {
	return tx.Scan(storage.BucketSessions, []byte(devicePrefix), func(k, val []byte) (bool, error) {
		if !bytes.HasPrefix(k, []byte(devicePrefix)) {
			return false, nil
		}
		var r deviceRequest
		if err := tx.Decode(storage.BucketSessions+"/"+string(k), val, &r); err != nil {
			return false, err
		}
		return true, fn(string(k), &r)
	})
}

// endDevices deletes every request to sign in as userID: a password
// change, MFA reset or disabling ends them as it ends sessions.
func endDevices(tx barrier.Tx, userID string) error {
	return endDevicesWhere(tx, userID, func(*deviceRequest) bool { return true })
}

// endDevicesWhere deletes the requests to sign in as userID that end says to.
func endDevicesWhere(tx barrier.Tx, userID string, end func(*deviceRequest) bool) error {
	var doomed []string
	if err := scanDevices(tx, func(k string, r *deviceRequest) error {
		if r.Account == userID && end(r) {
			doomed = append(doomed, k)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range doomed {
		if err := tx.Delete(storage.BucketSessions, []byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// StartDevice records a command line's request to sign in as name. An
// unknown name is answered as a known one. Requests past their expiry are
// removed on the way.
func (a *Accounts) StartDevice(ctx context.Context, req auditlog.Request, name string) (DeviceGrant, error) {
	if strings.TrimSpace(name) == "" {
		return DeviceGrant{}, access.Invalid("user", "name the account to sign in as")
	}
	// Anyone may ask, so what is stored is bounded: a name no account can
	// have (too long, a control character) is refused before anything is
	// read, the same answer for every such name.
	name, err := access.NormaliseName("user", "the user", name)
	if err != nil {
		return DeviceGrant{}, err
	}
	code := newDeviceCode()
	key := deviceKey(code)
	var g DeviceGrant
	err = a.keys.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			var err error
			g, err = a.startDevice(tx, req, name, key)
			return err
		})
	})
	g.DeviceCode = code
	return g, err
}

func (a *Accounts) startDevice(tx barrier.Tx, req auditlog.Request, name, key string) (DeviceGrant, error) {
	now := a.now()
	var expired []string
	taken := map[string]bool{}
	n, fromHere := 0, 0
	if err := scanDevices(tx, func(k string, r *deviceRequest) error {
		switch {
		case now.After(r.Expires):
			expired = append(expired, k)
		default:
			taken[r.UserCode], n = true, n+1
			if r.IP == req.IP {
				fromHere++
			}
		}
		return nil
	}); err != nil {
		return DeviceGrant{}, err
	}
	// Refused before anything is written. One address holds only a few
	// places, so nobody fills the vault's maxDevices from one machine. (No
	// cap per name: anyone could then block one person's sign-in.)
	switch {
	case fromHere >= maxDevicesPerAddress:
		return DeviceGrant{}, fmt.Errorf("%w: several command-line sign-ins are already waiting from this address; approve, refuse or wait for them first", access.ErrBusy)
	case n >= maxDevices:
		return DeviceGrant{}, fmt.Errorf("%w: too many command-line sign-ins are waiting; try again in a few minutes", access.ErrBusy)
	}
	for _, k := range expired {
		if err := tx.Delete(storage.BucketSessions, []byte(k)); err != nil {
			return DeviceGrant{}, err
		}
	}
	u, err := Find(tx, name)
	if err != nil {
		return DeviceGrant{}, err
	}
	uc := newUserCode()
	for taken[uc] {
		uc = newUserCode()
	}
	r := deviceRequest{Name: name, UserCode: uc, Asked: now, Expires: now.Add(DeviceExpiry), IP: req.IP,
		UserAgent: shortUA(req.UserAgent), Interval: int64(DeviceInterval / time.Second), NextPoll: now, Status: devicePending}
	target := audit.Target{Kind: "user", Name: name}
	if u != nil {
		r.Account, target.ID = u.ID, u.ID
	}
	if err := tx.PutRecord(storage.BucketSessions, key, &r); err != nil {
		return DeviceGrant{}, err
	}
	if err := a.log.Append(tx, req, auditlog.Event{Actor: audit.Actor{ID: r.Account, Name: name, Role: "anonymous"},
		Action: audit.AuthDeviceRequest, Target: target,
		Reason: "a command line asked to sign in (" + DeviceID(key) + "), waiting for approval in the web interface until " +
			r.Expires.UTC().Format(time.RFC3339)}); err != nil {
		return DeviceGrant{}, err
	}
	return DeviceGrant{UserCode: ShowUserCode(uc), Expires: r.Expires, ExpiresIn: DeviceExpiry, Interval: DeviceInterval}, nil
}
