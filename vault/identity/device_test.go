package identity

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
)

var (
	fromCLI     = auditlog.Request{IP: "203.0.113.9", UserAgent: "strongroom-cli/test (linux)"}
	fromBrowser = auditlog.Request{IP: "192.0.2.50", UserAgent: "Mozilla/5.0 test"}
)

// approver signs acc in and, if reauth, re-authenticates the session with
// a new code, as the web does before a sensitive action.
func (f *fixture) approver(t *testing.T, acc account, reauth bool) *access.Principal {
	t.Helper()
	_, p, err := f.a.Login(ctx, fromBrowser, LoginRequest{Name: acc.name, Password: acc.password, TOTP: f.code(t, acc)})
	if err != nil {
		t.Fatal(err)
	}
	if reauth {
		f.advance(30 * time.Second)
		if err := f.a.Reauthenticate(ctx, fromBrowser, p, Reauth{Password: append([]byte(nil), acc.password...), TOTP: f.code(t, acc)}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func (f *fixture) start(t *testing.T, name string) DeviceGrant {
	t.Helper()
	g, err := f.a.StartDevice(ctx, fromCLI, name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// approved is a request of alice's, approved by her.
func (f *fixture) approved(t *testing.T) DeviceGrant {
	t.Helper()
	alice := f.addUser(t, "alice", access.RoleClerk)
	g := f.start(t, "alice")
	p := f.approver(t, alice, true)
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); err != nil {
		t.Fatal(err)
	}
	return g
}

// The whole flow: pending, slow_down when polled too soon, the approver
// sees the command line's address and user agent, the approval is
// recorded with them, one poll gets an ordinary session and the next
// finds nothing.
func TestDeviceApprovedOnce(t *testing.T) {
	f := newFixture(t)
	alice := f.addUser(t, "alice", access.RoleClerk)
	g := f.start(t, "alice")
	if !ValidDeviceCode(g.DeviceCode) || len(g.UserCode) != 9 || g.UserCode[4] != '-' || g.Expires.Sub(f.clock()) != DeviceExpiry {
		t.Fatalf("grant %+v", g)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDevicePending) {
		t.Fatalf("first poll: %v", err)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDeviceSlowDown) {
		t.Fatalf("poll at once again: %v", err)
	}
	p := f.approver(t, alice, true)
	got, err := f.a.FindDevice(ctx, fromBrowser, p, strings.ToLower(g.UserCode))
	if err != nil || got.IP != fromCLI.IP || got.UserAgent != fromCLI.UserAgent || got.UserCode != g.UserCode || got.Name != "alice" {
		t.Fatalf("find: %+v %v", got, err)
	}
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); err != nil {
		t.Fatal(err)
	}
	e := f.last(t)
	if e.Action != audit.AuthDeviceApprove || e.Outcome != audit.OutcomeOK || e.Actor.Name != "alice" ||
		!strings.Contains(e.Reason, fromCLI.IP) || !strings.Contains(e.Reason, fromCLI.UserAgent) || e.Client.IP != fromBrowser.IP {
		t.Fatalf("approval entry %+v", e)
	}
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); err != nil || f.last(t).Seq != e.Seq { // a second click
		t.Fatalf("second approval: %v, or it was recorded again", err)
	}
	f.advance(10 * time.Second)
	token, cp, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode)
	if err != nil || cp.Name != "alice" {
		t.Fatalf("poll after approval: %v", err)
	}
	if who, err := f.a.Authenticate(ctx, token); err != nil || who.Name != "alice" || who.Role != access.RoleClerk {
		t.Fatalf("the session: %v %v", who, err)
	}
	if e := f.last(t); e.Action != audit.AuthLogin || e.Outcome != audit.OutcomeOK || e.Client.IP != fromCLI.IP || !strings.Contains(e.Reason, "command-line") {
		t.Fatalf("login entry %+v", e)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDeviceUnknown) {
		t.Fatalf("poll after use: %v", err)
	}
}

// A code expires unapproved: the poll says so, the approver cannot
// approve it, and both are recorded.
func TestDeviceExpires(t *testing.T) {
	f := newFixture(t)
	alice := f.addUser(t, "alice", access.RoleClerk)
	g := f.start(t, "alice")
	p := f.approver(t, alice, true)
	f.advance(DeviceExpiry - 30*time.Second + time.Second)
	p.ReauthAt = f.clock() // the window is not what this test is about
	var ie *access.InputError
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); !errors.As(err, &ie) || ie.Field != "code" {
		t.Fatalf("approval after expiry: %v", err)
	}
	if e := f.last(t); e.Action != audit.AuthDeviceApprove || e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "expired") {
		t.Fatalf("entry %+v", e)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDeviceExpired) {
		t.Fatalf("poll after expiry: %v", err)
	}
	if e := f.last(t); e.Action != audit.AuthDeviceRequest || e.Outcome != audit.OutcomeOK || !strings.Contains(e.Reason, "expired") || audit.IsIncident(&e) {
		t.Fatalf("entry %+v", e)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDeviceUnknown) {
		t.Fatalf("poll again: %v", err)
	}
}

// Only the person named may approve: another signed-in, re-authenticated
// person (even the provider) is told no such code waits for them, and it
// is recorded; the named person can still approve it.
func TestDeviceWrongUser(t *testing.T) {
	f := newFixture(t)
	prov := f.addUser(t, "prov", access.RoleProvider)
	clerk := f.addUser(t, "clerk", access.RoleClerk)
	g := f.start(t, "prov")
	pc := f.approver(t, clerk, true)
	var ie *access.InputError
	if _, err := f.a.FindDevice(ctx, fromBrowser, pc, g.UserCode); !errors.As(err, &ie) || ie.Field != "code" {
		t.Fatalf("find as another: %v", err)
	}
	if err := f.a.DecideDevice(ctx, fromBrowser, pc, g.UserCode, true); !errors.As(err, &ie) || ie.Field != "code" {
		t.Fatalf("approve as another: %v", err)
	}
	if e := f.last(t); e.Action != audit.AuthDeviceApprove || e.Outcome != audit.OutcomeDenied || e.Actor.Name != "clerk" || !strings.Contains(e.Reason, "another account") {
		t.Fatalf("entry %+v", e)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDevicePending) {
		t.Fatalf("poll: %v", err)
	}
	pp := f.approver(t, prov, true)
	if err := f.a.DecideDevice(ctx, fromBrowser, pp, g.UserCode, true); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	if _, cp, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); err != nil || cp.Name != "prov" {
		t.Fatalf("poll: %v", err)
	}
}

// An approval needs a fresh re-authentication; a refusal does not, and
// ends the request.
func TestDeviceReauthAndRefusal(t *testing.T) {
	f := newFixture(t)
	alice := f.addUser(t, "alice", access.RoleClerk)
	g := f.start(t, "alice")
	p := f.approver(t, alice, false)
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); !errors.Is(err, access.ErrReauth) {
		t.Fatalf("approval without re-authentication: %v", err)
	}
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, false); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); e.Action != audit.AuthDeviceRefuse || !strings.Contains(e.Reason, fromCLI.IP) {
		t.Fatalf("entry %+v", e)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDeviceDenied) {
		t.Fatalf("poll after refusal: %v", err)
	}
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDeviceUnknown) {
		t.Fatalf("poll again: %v", err)
	}
}

// Two polls at once after the approval: the second runs between the
// first's read and its write; exactly one gets a session.
func TestDeviceConcurrentPolls(t *testing.T) {
	f := newFixture(t)
	g := f.approved(t)
	var mu sync.Mutex
	var tokens []string
	var errs []error
	note := func(tok string, _ *access.Principal, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			tokens = append(tokens, tok)
		} else {
			errs = append(errs, err)
		}
	}
	f.on("device.poll", func() { note(f.a.PollDevice(ctx, fromCLI, g.DeviceCode)) })
	note(f.a.PollDevice(ctx, fromCLI, g.DeviceCode))
	if len(tokens) != 1 || len(errs) != 1 || !errors.Is(errs[0], ErrDeviceUnknown) {
		t.Fatalf("tokens %d, errors %v", len(tokens), errs)
	}
	if logins := f.count(t, audit.AuthLogin); len(logins) != 2 { // the approver's web sign-in and the command line's
		t.Fatalf("%d login entries", len(logins))
	}
}

// A restart between the approval and the poll (new accounts over the same
// store: nothing in memory) loses nothing, and the code still works once.
func TestDeviceSurvivesRestart(t *testing.T) {
	f := newFixture(t)
	g := f.approved(t)
	old := f.a
	f.a = New(Config{Store: f.st, Log: old.log, Now: f.clock, PasswordKDF: old.pwKDF, Idle: old.idle, MaxAge: old.maxAge,
		Keys: old.keys, Routine: old.routine, Pause: f.pause})
	token, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := old.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDeviceUnknown) {
		t.Fatalf("the old accounts poll again: %v", err)
	}
}

// Wrong codes count against the approver: after ThrottleAfter of them,
// even the right code is refused for a while.
func TestDeviceGuessesThrottled(t *testing.T) {
	f := newFixture(t)
	alice := f.addUser(t, "alice", access.RoleClerk)
	g := f.start(t, "alice")
	p := f.approver(t, alice, true)
	wrong := "BBBB-BBBB"
	if wrong == g.UserCode {
		wrong = "CCCC-CCCC"
	}
	for i := 0; i < ThrottleAfter; i++ {
		if _, err := f.a.FindDevice(ctx, fromBrowser, p, wrong); !errors.Is(err, access.ErrInvalid) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	var le *access.LockedError
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); !errors.As(err, &le) {
		t.Fatalf("after %d guesses: %v", ThrottleAfter, err)
	}
	if n := len(f.count(t, audit.AuthDeviceApprove)); n != ThrottleAfter {
		t.Fatalf("%d entries", n)
	}
}

// An unknown name is answered as a known one, and nobody can approve it.
func TestDeviceUnknownName(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", access.RoleClerk)
	known, unknown := f.start(t, "alice"), f.start(t, "nobody")
	// The answers look alike: nothing tells the command line whether the
	// name is an account's.
	if !ValidDeviceCode(unknown.DeviceCode) || len(unknown.UserCode) != len(known.UserCode) || unknown.Interval != known.Interval ||
		!unknown.Expires.Equal(known.Expires) || unknown.ExpiresIn != known.ExpiresIn {
		t.Fatalf("grant for an unknown name %+v, for a known one %+v", unknown, known)
	}
	var answers [2][]error
	for i, g := range []DeviceGrant{known, unknown} {
		_, _, err1 := f.a.PollDevice(ctx, fromCLI, g.DeviceCode)
		_, _, err2 := f.a.PollDevice(ctx, fromCLI, g.DeviceCode) // too soon
		answers[i] = []error{err1, err2}
	}
	for i := range answers[0] {
		if !errors.Is(answers[1][i], answers[0][i]) || answers[1][i].Error() != answers[0][i].Error() {
			t.Fatalf("poll %d: unknown name %v, known name %v", i, answers[1][i], answers[0][i])
		}
	}
	reqs := f.count(t, audit.AuthDeviceRequest)
	if len(reqs) != 2 || reqs[1].Client.IP != fromCLI.IP || reqs[1].Client.UserAgent != fromCLI.UserAgent {
		t.Fatalf("request entries %+v", reqs)
	}
	// Nobody can approve it: no account's code matches.
	alice := f.addUser(t, "alice2", access.RoleClerk)
	p := f.approver(t, alice, true)
	if err := f.a.DecideDevice(ctx, fromBrowser, p, unknown.UserCode, true); !errors.Is(err, errNoDevice) {
		t.Fatalf("an approval of the unknown name's code: %v", err)
	}
	var ie *access.InputError
	for _, name := range []string{"  ", strings.Repeat("a", 101), strings.Repeat("a", 300000), "a\x00b", "\xff"} {
		if _, err := f.a.StartDevice(ctx, fromCLI, name); !errors.As(err, &ie) || ie.Field != "user" || strings.Contains(err.Error(), "aaa") {
			t.Fatalf("name of %d bytes: %v", len(name), err)
		}
	}
}

func TestParseUserCode(t *testing.T) {
	for in, want := range map[string]string{"BCDF-GHJK": "BCDFGHJK", " bcdf ghjk ": "BCDFGHJK", "bcdfghjk": "BCDFGHJK",
		"": "", "BCDF-GHJA": "", "BCDF-GHJ": "", "BCDF-GHJKL": "", "BCDF-GHJ0": "", "BCDF–GHJK": ""} {
		got, err := ParseUserCode(in)
		var ie *access.InputError
		if got != want || (want == "") != (err != nil) || (err != nil && (!errors.As(err, &ie) || ie.Field != "code")) {
			t.Errorf("ParseUserCode(%q) = %q, %v", in, got, err)
		}
	}
	for i := 0; i < 200; i++ {
		c := ShowUserCode(newUserCode())
		if got, err := ParseUserCode(c); err != nil || ShowUserCode(got) != c {
			t.Fatalf("%q: %q %v", c, got, err)
		}
	}
}

func FuzzParseUserCode(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdf ghjk", "", "AAAA-AAAA", "BCDF–GHJK", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseUserCode(s)
		if err != nil {
			// One of two fixed messages: nothing of the input is quoted.
			_, empty := ParseUserCode("")
			_, short := ParseUserCode("B")
			if got != "" || (err.Error() != empty.Error() && err.Error() != short.Error()) {
				t.Fatalf("%q: %q %v", s, got, err)
			}
			return
		}
		if len(got) != userCodeLetters || strings.Trim(got, UserCodeAlphabet) != "" {
			t.Fatalf("%q parsed as %q", s, got)
		}
	})
}

// Guesses sent at once learn no more answers than ThrottleAfter: the
// throttle is asked again inside each write.
func TestDeviceConcurrentGuesses(t *testing.T) {
	f := newFixture(t)
	alice := f.addUser(t, "alice", access.RoleClerk)
	f.start(t, "alice")
	p := f.approver(t, alice, true)
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string]int{}
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.a.FindDevice(ctx, fromBrowser, p, "BBBB-BBBB")
			var le *access.LockedError
			kind := "other: " + f.answer(err)
			switch {
			case errors.Is(err, access.ErrInvalid):
				kind = "no match"
			case errors.As(err, &le):
				kind = "throttled"
			}
			mu.Lock()
			answers[kind]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if answers["no match"] != ThrottleAfter || answers["throttled"] != 30-ThrottleAfter {
		t.Fatalf("answers %v", answers)
	}
	if n := len(f.count(t, audit.AuthDeviceApprove)); n != ThrottleAfter {
		t.Fatalf("%d entries", n)
	}
}

// A password change, an MFA reset or disabling the account ends every
// request to sign in as it, approved and not yet collected or still
// waiting, as it ends the account's other sessions.
func TestDeviceEndedByAccountChanges(t *testing.T) {
	admin := access.NewPrincipal("admin", "IT Provider", access.RoleProvider, "")
	for name, change := range map[string]func(f *fixture, p *access.Principal, alice account) error{
		"password change": func(f *fixture, p *access.Principal, alice account) error {
			return f.a.ChangePassword(ctx, fromBrowser, p, alice.password, []byte("heron quarry lantern 9"))
		},
		"MFA reset": func(f *fixture, _ *access.Principal, _ account) error {
			_, err := f.a.ResetMFA(ctx, fromBrowser, admin, "alice")
			return err
		},
		"disabled": func(f *fixture, _ *access.Principal, _ account) error {
			return f.a.DisableUser(ctx, fromBrowser, admin, "alice")
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			alice := f.addUser(t, "alice", access.RoleClerk)
			bob := f.addUser(t, "bob", access.RoleClerk)
			g := f.start(t, "alice")
			p := f.approver(t, alice, true)
			if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); err != nil {
				t.Fatal(err)
			}
			pending := f.start(t, "alice")
			others := f.start(t, "bob")
			if err := change(f, p, alice); err != nil {
				t.Fatal(err)
			}
			for _, code := range []string{g.DeviceCode, pending.DeviceCode} {
				if _, _, err := f.a.PollDevice(ctx, fromCLI, code); !errors.Is(err, ErrDeviceUnknown) {
					t.Fatalf("poll after the %s: %v", name, err)
				}
			}
			// Another person's request is untouched.
			f.advance(time.Minute)
			pb := f.approver(t, bob, true)
			if err := f.a.DecideDevice(ctx, fromBrowser, pb, others.UserCode, true); err != nil {
				t.Fatal(err)
			}
			if _, cp, err := f.a.PollDevice(ctx, fromCLI, others.DeviceCode); err != nil || cp.Name != "bob" {
				t.Fatalf("bob's request after alice's %s: %v", name, err)
			}
		})
	}
}

// A decision made twice (a second click, or Back and again) is answered
// as done, not as a wrong code: no guess counted, no incident. An
// approval can be taken back until the command line collects it; a
// refusal stands.
func TestDeviceDecidedTwice(t *testing.T) {
	f := newFixture(t)
	alice := f.addUser(t, "alice", access.RoleClerk)
	g := f.start(t, "alice")
	p := f.approver(t, alice, true)
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.FindDevice(ctx, fromBrowser, p, g.UserCode); !errors.Is(err, errDeviceApproved) {
		t.Fatalf("find after approval: %v", err)
	}
	if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, false); err != nil { // taken back
		t.Fatal(err)
	}
	if e := f.last(t); e.Action != audit.AuthDeviceRefuse || e.Outcome != audit.OutcomeOK {
		t.Fatalf("entry %+v", e)
	}
	for i := 0; i < 2*ThrottleAfter; i++ {
		if err := f.a.DecideDevice(ctx, fromBrowser, p, g.UserCode, true); !errors.Is(err, errDeviceRefused) {
			t.Fatalf("approval %d after the refusal: %v", i, err)
		}
	}
	if e := f.last(t); e.Action != audit.AuthDeviceRefuse || e.Outcome != audit.OutcomeOK {
		t.Fatalf("a repeat was recorded: %+v", e)
	}
	f.advance(10 * time.Second)
	if _, _, err := f.a.PollDevice(ctx, fromCLI, g.DeviceCode); !errors.Is(err, ErrDeviceDenied) {
		t.Fatalf("poll after the approval was taken back: %v", err)
	}
}

// The command line's user agent is its own words: shown without control
// or format characters, so a bidi override cannot make it read otherwise.
func TestDeviceUserAgentCleaned(t *testing.T) {
	f := newFixture(t)
	alice := f.addUser(t, "alice", access.RoleClerk)
	req := fromCLI
	req.UserAgent = "curl/8 \u202eevorppa\u202c by your IT provider\x07\u2028"
	g, err := f.a.StartDevice(ctx, req, "alice")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.a.FindDevice(ctx, fromBrowser, f.approver(t, alice, true), g.UserCode)
	if err != nil || got.UserAgent != "curl/8 evorppa by your IT provider" {
		t.Fatalf("user agent %q, %v", got.UserAgent, err)
	}
}

// One address holds at most maxDevicesPerAddress waiting requests, so no
// one machine fills the vault's places; another address still may ask,
// and the places come back as requests expire.
func TestDevicePlacesPerAddress(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", access.RoleClerk)
	for i := 0; i < maxDevicesPerAddress; i++ {
		f.start(t, "alice")
	}
	if _, err := f.a.StartDevice(ctx, fromCLI, "alice"); !errors.Is(err, access.ErrBusy) {
		t.Fatalf("request %d from one address: %v", maxDevicesPerAddress+1, err)
	}
	other := fromCLI
	other.IP = "198.51.100.7"
	if _, err := f.a.StartDevice(ctx, other, "alice"); err != nil {
		t.Fatalf("from another address: %v", err)
	}
	f.advance(DeviceExpiry + time.Second)
	if _, err := f.a.StartDevice(ctx, fromCLI, "alice"); err != nil {
		t.Fatalf("after the first expired: %v", err)
	}
}

// TestReauthPasskeyRequiredSaysHow: a person who must use a passkey,
// re-authenticating with password and code (the command line), is told
// to confirm with the passkey instead, not to use a recovery code (which
// re-authentication does not take).
func TestReauthPasskeyRequiredSaysHow(t *testing.T) {
	f, u, p, _ := passkeyFixture(t)
	f.a.requirePasskey[access.RoleClerk] = true
	f.advance(time.Minute)
	err := f.a.Reauthenticate(ctx, auditlog.Request{}, p, Reauth{Password: append([]byte(nil), u.password...), TOTP: f.code(t, u)})
	var pe *access.PasskeyError
	if !errors.As(err, &pe) || pe.Problem != access.PasskeyReauthRequired || strings.Contains(err.Error(), "recovery code") {
		t.Fatalf("re-authentication with a code for a role that must use a passkey: %v", err)
	}
}
