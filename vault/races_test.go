package vault

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/vault/identity"
)

// Interleaving tests: each race of a read-then-write path is driven by the
// vault's hook between its read and its write (Vault.between), as bbolt's
// and the Go runtime's tests do. On the first release's code each of them
// ends in the wrong state named in its failure message.

// account makes an account that has signed in once and set its own
// password, and returns what a client would hold.
type account struct {
	name, totpURI string
	password      []byte
}

func (f *fixture) account(t *testing.T, name string, role Role) account {
	t.Helper()
	_, otl := f.addUser(t, name, role)
	a := account{name: name, totpURI: otl.TOTPURI, password: []byte("orange kettle marble fern")}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: name, Password: []byte(otl.Password),
		TOTP: code(t, otl.TOTPURI, f.clock.Now()), NewPassword: a.password}); err != nil {
		t.Fatal(err)
	}
	return a
}

// login signs a in with a fresh TOTP step.
func (f *fixture) login(t *testing.T, a account) (string, *Principal) {
	t.Helper()
	f.clock.Advance(30 * time.Second)
	tok, p, err := f.v.Login(ctx, req, LoginRequest{Name: a.name, Password: a.password, TOTP: code(t, a.totpURI, f.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	return tok, p
}

// once sets the hook to run fn the first time point is reached (not when
// fn itself reaches it).
func (f *fixture) once(point string, fn func()) {
	var fired atomic.Bool
	f.v.between = func(p string) {
		if p == point && fired.CompareAndSwap(false, true) {
			fn()
		}
	}
}

// A session's refresh never brings back a session that a logout, a
// password change, an MFA reset or a disable ended meanwhile.
func TestSessionRefreshDoesNotUndoAnEnd(t *testing.T) {
	ends := map[string]func(f *fixture, t *testing.T, a account, p *Principal){
		"logout": func(f *fixture, t *testing.T, _ account, p *Principal) {
			if err := f.v.Logout(ctx, req, p); err != nil {
				t.Error(err)
			}
		},
		"password change in another session": func(f *fixture, t *testing.T, a account, _ *Principal) {
			_, other := f.login(t, a)
			if err := f.v.ChangePassword(ctx, req, other, a.password, []byte("quiet violet harbour lamp")); err != nil {
				t.Error(err)
			}
		},
		"MFA reset": func(f *fixture, t *testing.T, a account, _ *Principal) {
			if _, err := f.v.ResetMFA(ctx, req, f.admin, a.name); err != nil {
				t.Error(err)
			}
		},
		"disable": func(f *fixture, t *testing.T, a account, _ *Principal) {
			if err := f.v.DisableUser(ctx, req, f.admin, a.name); err != nil {
				t.Error(err)
			}
		},
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			a := f.account(t, "Clerk", RoleClerk)
			tok, p := f.login(t, a)
			f.clock.Advance(2 * time.Minute) // the next use refreshes LastSeen
			f.once("authenticate.refresh", func() { end(f, t, a, p) })
			if got, err := f.v.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("the request racing the end: %+v, %v; want ErrUnauthenticated", got, err)
			}
			f.v.between = nil
			if got, err := f.v.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("the ended session works again (%+v, %v): the refresh undid the %s", got, err, name)
			}
		})
	}
}

// Two password changes of one account at once: the one that checked an
// old password no longer in force does not overwrite the other.
func TestPasswordChangeNotUndone(t *testing.T) {
	f := newFixture(t)
	a := f.account(t, "Clerk", RoleClerk)
	_, first := f.login(t, a)
	_, second := f.login(t, a)
	winner := []byte("quiet violet harbour lamp")
	f.once("password.change", func() {
		if err := f.v.ChangePassword(ctx, req, second, a.password, winner); err != nil {
			t.Error(err)
		}
	})
	err := f.v.ChangePassword(ctx, req, first, a.password, []byte("brisk walnut ferry candle"))
	if !errors.Is(err, ErrUnauthenticated) && !errors.Is(err, ErrBadLogin) {
		t.Fatalf("the racing change: %v; want it refused", err)
	}
	f.v.between = nil
	a.password = winner
	f.login(t, a) // fails the test if the second change was undone
}

// A re-key and a passphrase change at once: whichever commits first, the
// other is refused with ErrConflict, and the vault opens with the
// passphrase that is in force, never with one that was replaced.
func TestRekeyAndSetPassphrase(t *testing.T) {
	newPass := []byte("a new operator passphrase")
	t.Run("passphrase change while re-keying", func(t *testing.T) {
		f := newFixture(t)
		f.once("rekey.write", func() {
			if err := f.v.SetPassphrase(ctx, req, f.admin, newPass); err != nil {
				t.Error(err)
			}
		})
		if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); !errors.Is(err, ErrConflict) {
			t.Fatalf("re-key racing a passphrase change: %v; want ErrConflict", err)
		}
		f.v.between = nil
		f.reopen(t, newPass, f.pass)
	})
	t.Run("re-key while changing the passphrase", func(t *testing.T) {
		f := newFixture(t)
		f.once("passphrase.write", func() {
			if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); err != nil {
				t.Error(err)
			}
		})
		if err := f.v.SetPassphrase(ctx, req, f.admin, newPass); !errors.Is(err, ErrConflict) {
			t.Fatalf("passphrase change racing a re-key: %v; want ErrConflict", err)
		}
		f.v.between = nil
		f.reopen(t, f.pass, newPass)
	})
}

// reopen seals the vault and checks that good opens it and bad does not.
func (f *fixture) reopen(t *testing.T, good, bad []byte) {
	t.Helper()
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	if err := f.v.UnsealPassphrase(ctx, req, bad); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("a replaced passphrase: %v; want ErrWrongPassphrase", err)
	}
	if err := f.v.UnsealPassphrase(ctx, req, good); err != nil {
		t.Fatalf("the passphrase in force does not open the vault: %v", err)
	}
	p := f.principal(t, "IT Provider")
	if _, err := f.v.ListCredentialsAll(ctx, p); err != nil {
		t.Fatalf("the keyring after reopening: %v", err)
	}
}

// A correct guess in flight when the account locks is refused: the lock
// is checked again in the write.
func TestLockoutRecheckedInTheWrite(t *testing.T) {
	f := newFixture(t)
	a := f.account(t, "Clerk", RoleClerk)
	f.clock.Advance(30 * time.Second)
	good := LoginRequest{Name: a.name, Password: a.password, TOTP: code(t, a.totpURI, f.clock.Now())}
	f.once("login.decide", func() {
		for i := 0; i < identity.LockoutAfter; i++ {
			_, _, err := f.v.Login(ctx, req, LoginRequest{Name: a.name, Password: []byte("wrong guess number " + a.name), TOTP: "000000"})
			if !errors.Is(err, ErrBadLogin) && !errors.As(err, new(*LockedError)) {
				t.Errorf("guess %d: %v", i, err)
			}
		}
	})
	_, _, err := f.v.Login(ctx, req, good)
	if le := (*LockedError)(nil); !errors.As(err, &le) {
		t.Fatalf("a login decided after the account locked: %v; want *LockedError", err)
	}
	if e := f.last(t); e.Action != "auth.login" || e.Outcome != "denied" || !strings.HasPrefix(e.Reason, "sign-ins for this name from this address refused until") {
		t.Fatalf("its entry: %+v", e)
	}
}

// Between a re-key's commit and the barrier installing its keyring, the
// vault works on: a checkpoint is signed with the new audit key (sealed
// under the new term, which the installed keyring lacks until then), and
// writes fold into the state seal under the new state key.
func TestRekeyCommittedNotYetInstalled(t *testing.T) {
	f := newFixture(t)
	var cp []byte
	f.once("rekey.committed", func() {
		var err error
		if cp, err = f.v.Checkpoint(ctx, req, f.admin); err != nil {
			t.Errorf("a checkpoint just after the re-key committed: %v", err)
		}
		if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "Router", Kind: "admin", Password: []byte("pw")}); err != nil {
			t.Errorf("a write just after the re-key committed: %v", err)
		}
	})
	res, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass})
	if err != nil {
		t.Fatal(err)
	}
	f.v.between = nil
	if _, err := audit.OpenCheckpoint(cp, res.Envelopes[0].VerifierKey); err != nil {
		t.Fatalf("the checkpoint is not signed by the new key: %v", err)
	}
	if err := f.v.CheckState(ctx); err != nil {
		t.Fatal(err)
	}
}
