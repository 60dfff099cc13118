package identity

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
)

var (
	fromA = auditlog.Request{IP: "192.0.2.1"}
	fromB = auditlog.Request{IP: "198.51.100.7"}
)

// answer names a login's outcome: "ok", "bad" (ErrBadLogin), "refused
// <seconds>" (a LockedError and how long it lasts) or the error.
func (f *fixture) answer(err error) string {
	var le *access.LockedError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &le):
		return fmt.Sprintf("refused %v", le.Until.Sub(f.clock()))
	case errors.Is(err, access.ErrBadLogin):
		return "bad"
	}
	return err.Error()
}

func (f *fixture) login(req auditlog.Request, in LoginRequest) string {
	_, _, err := f.a.Login(ctx, req, in)
	return f.answer(err)
}

// Failures are throttled per name and address: a guesser at one address is
// refused for a growing time, the owner elsewhere is not, and an unknown
// name gets exactly the answers a known one does.
func TestThrottlePerNameAndAddress(t *testing.T) {
	f := newFixture(t)
	clerk := f.addUser(t, "Clerk", access.RoleClerk)
	for _, name := range []string{"Clerk", "Nobody"} {
		var got []string
		for i := 0; i < ThrottleAfter+1; i++ {
			got = append(got, f.login(fromA, LoginRequest{Name: name, Password: []byte("guess"), TOTP: "000000"}))
		}
		want := "bad bad bad bad bad refused 30s"
		if s := strings.Join(got, " "); s != want {
			t.Errorf("%s from A: %s, want %s", name, s, want)
		}
	}
	// No other spelling of the name makes a new key: case, surrounding
	// or no-break spaces, full-width letters.
	for _, name := range []string{"nobODY", " Nobody  ", "Nobody\u00a0", "Ｎｏｂｏｄｙ", "clERK", " Clerk", "Ｃｌｅｒｋ"} {
		if got := f.login(fromA, LoginRequest{Name: name, Password: []byte("guess")}); got != "refused 30s" {
			t.Errorf("another spelling of the name, %q: %s", name, got)
		}
	}
	// The owner, elsewhere, signs in.
	if got := f.login(fromB, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)}); got != "ok" {
		t.Fatalf("the owner from B: %s", got)
	}
	// The right password and code from A are refused, unchecked.
	f.advance(30 * time.Second)
	f.advance(-time.Second)
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)}); got != "refused 1s" {
		t.Fatalf("the owner from A while refused: %s", got)
	}
	// After the refusal, one more failure doubles it.
	f.advance(2 * time.Second)
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: []byte("guess"), TOTP: "000000"}); got != "bad" {
		t.Fatalf("a guess after the refusal: %s", got)
	}
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: []byte("guess"), TOTP: "000000"}); got != "refused 1m0s" {
		t.Fatalf("the next: %s", got)
	}
}

// A recovery code is decided even while refused: with the password it
// signs the owner in; a wrong one gets the refusal and counts.
func TestThrottleRecoveryCodeAlwaysWorks(t *testing.T) {
	f := newFixture(t)
	clerk := f.addUser(t, "Clerk", access.RoleClerk)
	_, p, err := f.a.Login(ctx, fromB, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.a.NewRecoveryCodes(ctx, fromB, p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < ThrottleAfter; i++ {
		f.login(fromA, LoginRequest{Name: "Clerk", Password: []byte("guess"), TOTP: "000000"})
	}
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: []byte("guess"), RecoveryCode: codes[0]}); got != "refused 1m0s" {
		t.Errorf("a recovery code with a wrong password while refused: %s", got)
	}
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: clerk.password, RecoveryCode: "0000-0000-0000"}); got != "refused 2m0s" {
		t.Errorf("a wrong recovery code while refused: %s", got)
	}
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: clerk.password, RecoveryCode: codes[0]}); got != "ok" {
		t.Fatalf("password and recovery code while refused: %s", got)
	}
	// Success forgets the key.
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: []byte("guess"), TOTP: "000000"}); got != "bad" {
		t.Fatalf("after signing in: %s", got)
	}
}

// A TOTP code sent with a wrong password is spent: it does not work
// afterwards with the right one.
func TestTOTPSpentByWrongPassword(t *testing.T) {
	f := newFixture(t)
	clerk := f.addUser(t, "Clerk", access.RoleClerk)
	c := f.code(t, clerk)
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: []byte("wrong password"), TOTP: c}); got != "bad" {
		t.Fatalf("wrong password: %s", got)
	}
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: c}); got != "bad" {
		t.Fatalf("the spent code with the right password: %s", got)
	}
	if e := f.last(t); e.Reason != "TOTP code already used" {
		t.Fatalf("its entry: %+v", e)
	}
	f.advance(30 * time.Second)
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)}); got != "ok" {
		t.Fatalf("the next code: %s", got)
	}
}

// Interleaving: a correct login let in before its key is refused, and
// decided after, is refused; the guesses that refused it were counted.
func TestThrottleRecheckedInTheWrite(t *testing.T) {
	f := newFixture(t)
	clerk := f.addUser(t, "Clerk", access.RoleClerk)
	f.on("login.decide", func() {
		for i := 0; i < ThrottleAfter; i++ {
			if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: []byte("guess"), TOTP: "000000"}); got != "bad" {
				t.Errorf("guess %d: %s", i, got)
			}
		}
	})
	if got := f.login(fromA, LoginRequest{Name: "Clerk", Password: clerk.password, TOTP: f.code(t, clerk)}); got != "refused 30s" {
		t.Fatalf("a login decided after its key was refused: %s", got)
	}
	if e := f.last(t); e.Outcome != "denied" || !strings.HasPrefix(e.Reason, "sign-ins for this name from this address refused until") {
		t.Fatalf("its entry: %+v", e)
	}
}

// Interleaving: guesses sent together, all let in before any is decided,
// learn ThrottleAfter answers between them; the rest are refused.
func TestThrottleConcurrentGuesses(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "Clerk", access.RoleClerk)
	const n = ThrottleAfter + 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	release := make(chan struct{})
	hold := func() { arrived.Done(); <-release }
	f.a.hook = func(point string) {
		if point == "login.decide" {
			hold()
		}
	}
	answers := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			answers <- f.login(fromA, LoginRequest{Name: "Clerk", Password: []byte("guess"), TOTP: "000000"})
		}()
	}
	arrived.Wait() // every guess passed the first check
	close(release)
	count := map[string]int{}
	for i := 0; i < n; i++ {
		count[<-answers]++
	}
	if count["bad"] != ThrottleAfter || count["refused 30s"] != n-ThrottleAfter {
		t.Fatalf("answers %v; want %d bad, %d refused", count, ThrottleAfter, n-ThrottleAfter)
	}
}

// Refused attempts are recorded at most once a minute per key, with a
// count; a stream of them does not grow the log.
func TestThrottleRefusalsRecordedOnceAMinute(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < ThrottleAfter; i++ {
		f.login(fromA, LoginRequest{Name: "Nobody", Password: []byte("guess")})
	}
	before, _ := f.entries(t)
	for i := 0; i < 10; i++ {
		f.login(fromA, LoginRequest{Name: "Nobody", Password: []byte("guess")})
	}
	after, _ := f.entries(t)
	if len(after) != len(before)+1 || !strings.HasPrefix(after[len(after)-1].Reason, "throttled: ") {
		t.Fatalf("%d entries for 10 refusals; last %+v", len(after)-len(before), after[len(after)-1])
	}
	f.advance(time.Minute)
	f.login(fromA, LoginRequest{Name: "Nobody", Password: []byte("guess")})
	if e := f.last(t); !strings.HasSuffix(e.Reason, "(9 attempts refused since the last such entry)") {
		t.Fatalf("the next minute's entry: %+v", e)
	}
}
