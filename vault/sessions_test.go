package vault

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/vault/identity"
)

func TestLoginFirstPasswordChangeAndSession(t *testing.T) {
	f := newFixture(t)
	_, otl := f.addUser(t, "Clerk", RoleClerk)
	now := f.clock.Now()
	tok, p, err := f.v.Login(ctx, req, LoginRequest{Name: "clerk", Password: []byte(otl.Password), TOTP: code(t, otl.TOTPURI, now)})
	if err != nil || !p.MustChange {
		t.Fatalf("first login: %+v %v", p, err)
	}
	got, err := f.v.Authenticate(ctx, tok)
	if err != nil || got.Name != "Clerk" || !got.MustChange {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	if err := f.v.ChangePassword(ctx, req, got, []byte(otl.Password), []byte("short")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("weak password accepted: %v", err)
	}
	if err := f.v.ChangePassword(ctx, req, got, []byte(otl.Password), []byte("Clerk-and-more-words")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("password containing the name accepted: %v", err)
	}
	if err := f.v.ChangePassword(ctx, req, got, []byte(otl.Password), []byte("orange kettle marble")); err != nil {
		t.Fatal(err)
	}
	if got, _ = f.v.Authenticate(ctx, tok); got.MustChange {
		t.Fatal("session still needs a password change")
	}
	// Idle expiry.
	f.clock.Advance(31 * time.Minute)
	if _, err := f.v.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("idle session accepted: %v", err)
	}
	// New password works; the code of the earlier step may not be reused, a fresh one works.
	now = f.clock.Now()
	tok, _, err = f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: []byte("orange kettle marble"), TOTP: code(t, otl.TOTPURI, now)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err = f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: []byte("orange kettle marble"), TOTP: code(t, otl.TOTPURI, now)}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("TOTP replay accepted: %v", err)
	}
	if e := f.last(t); e.Reason != "TOTP code already used" || e.Outcome != audit.OutcomeDenied {
		t.Fatalf("replay entry %+v", e)
	}
	p, _ = f.v.Authenticate(ctx, tok)
	if err := f.v.Logout(ctx, req, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("logged-out token accepted")
	}
	// Absolute expiry even when active.
	f.clock.Advance(time.Minute)
	tok, _, _ = f.v.Login(ctx, req, LoginRequest{Name: "Clerk", Password: []byte("orange kettle marble"), TOTP: code(t, otl.TOTPURI, f.clock.Now())})
	for i := 0; i < 30; i++ {
		f.clock.Advance(25 * time.Minute)
		if _, err := f.v.Authenticate(ctx, tok); err != nil {
			if f.clock.Now().Sub(now) < 12*time.Hour {
				t.Fatalf("expired early: %v", err)
			}
			return
		}
	}
	t.Fatal("session outlived its absolute expiry")
}

func TestLoginLoginWithNewPasswordInOneStep(t *testing.T) {
	f := newFixture(t)
	_, otl := f.addUser(t, "Member", RoleMember)
	_, p, err := f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: []byte(otl.Password),
		TOTP: code(t, otl.TOTPURI, f.clock.Now()), NewPassword: []byte("velvet tractor pebble")})
	if err != nil || p.MustChange {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestLockoutAndBackoff(t *testing.T) {
	f := newFixture(t)
	_, otl := f.addUser(t, "Member", RoleMember)
	for i := 0; i < identity.LockoutAfter; i++ {
		if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: []byte("guess"), TOTP: "000000"}); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	good := LoginRequest{Name: "Member", Password: []byte(otl.Password), TOTP: code(t, otl.TOTPURI, f.clock.Now())}
	var le *LockedError
	if _, _, err := f.v.Login(ctx, req, good); !errors.As(err, &le) || le.Until.Sub(f.clock.Now()) != 30*time.Second {
		t.Fatalf("not locked for 30s: %v", err)
	}
	f.clock.Advance(31 * time.Second)
	// One more failure doubles the lock.
	f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: []byte("guess"), TOTP: "000000"})
	if _, _, err := f.v.Login(ctx, req, good); !errors.As(err, &le) || le.Until.Sub(f.clock.Now()) != time.Minute {
		t.Fatalf("back-off did not double: %v", err)
	}
	f.clock.Advance(61 * time.Second)
	good.TOTP = code(t, otl.TOTPURI, f.clock.Now())
	if _, _, err := f.v.Login(ctx, req, good); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Nobody", Password: []byte("x"), TOTP: "123456"}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestDisabledUserCannotLogInAndLosesSessions(t *testing.T) {
	f := newFixture(t)
	_, otl := f.addUser(t, "Member", RoleMember)
	tok, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: []byte(otl.Password), TOTP: code(t, otl.TOTPURI, f.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.DisableUser(ctx, req, f.admin, "Member"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("disabled user's session survived")
	}
	f.clock.Advance(time.Minute)
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: []byte(otl.Password), TOTP: code(t, otl.TOTPURI, f.clock.Now())}); !errors.Is(err, ErrBadLogin) {
		t.Fatal("disabled user logged in")
	}
	if err := f.v.DisableUser(ctx, req, f.admin, "IT Provider"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("last provider disabled: %v", err)
	}
}

// The online check reads the log in chunks: tampering is caught the same
// with one chunk and with chunks of two entries.
func TestStoredLogTamperCaught(t *testing.T) {
	t.Run("one chunk", func(t *testing.T) { storedLogTamperCaught(t, 1000) })
	t.Run("chunks of two", func(t *testing.T) { storedLogTamperCaught(t, 2) })
}

func storedLogTamperCaught(t *testing.T, chunk int) {
	f := newFixture(t)
	f.v.audit.SetChunk(chunk)
	f.put(t, f.admin, "Website host", "admin", "pw", "IT Provider")
	res, err := f.v.VerifyAudit(ctx, req, f.admin)
	if err != nil || !res.OK || res.Checked < 3 {
		t.Fatalf("clean log: %+v %v", res, err)
	}
	mutate := func(fn func(tx Tx) error) {
		if err := f.v.store.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	// Flip one byte of entry 2.
	var orig []byte
	mutate(func(tx Tx) error {
		orig = tx.Get(bucketAudit, seqKey(2))
		b := append([]byte(nil), orig...)
		i := strings.Index(string(b), `"action":"`) + 10
		b[i] ^= 0x01
		return tx.Put(bucketAudit, seqKey(2), b)
	})
	res, _ = f.v.VerifyAudit(ctx, req, f.admin)
	if res.OK || res.BadSeq != 2 || res.Problem != audit.ProblemAltered {
		t.Fatalf("flipped byte: %+v", res)
	}
	if e := f.last(t); e.Action != "audit.verify" || e.Outcome != audit.OutcomeError || !audit.IsIncident(e) {
		t.Fatalf("failed verification not recorded as an incident: %+v", e)
	}
	mutate(func(tx Tx) error { return tx.Put(bucketAudit, seqKey(2), orig) })
	// Take out entry 3.
	var third []byte
	mutate(func(tx Tx) error { third = tx.Get(bucketAudit, seqKey(3)); return tx.Delete(bucketAudit, seqKey(3)) })
	res, _ = f.v.VerifyAudit(ctx, req, f.admin)
	if res.OK || res.BadSeq != 3 || res.Problem != audit.ProblemMissing {
		t.Fatalf("entry taken out: %+v", res)
	}
	mutate(func(tx Tx) error { return tx.Put(bucketAudit, seqKey(3), third) })
	// Cut the tail: the last two entries go.
	mutate(func(tx Tx) error {
		h := tx.Get(bucketMeta, keyAuditHead)
		last := binary.BigEndian.Uint64(h)
		tx.Delete(bucketAudit, seqKey(last))
		return tx.Delete(bucketAudit, seqKey(last-1))
	})
	res, _ = f.v.VerifyAudit(ctx, req, f.admin)
	if res.OK || res.Problem != audit.ProblemMissing {
		t.Fatalf("cut tail: %+v", res)
	}
}
