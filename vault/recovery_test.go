package vault

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/escrow"
	"strongroom/vault/barrier"
	"strongroom/vault/recovery"
)

// Recovery works with every K-subset of the N holders and with no (K-1)-subset.
func TestRecoveryEveryKSubset(t *testing.T) {
	holders := []string{"Chairman", "Vice-chair", "Clerk", "Treasurer", "Member"}
	f := newFixtureEscrow(t, BoltOptions{}, holders, 3)
	envs := f.init.Envelopes
	for mask := 1; mask < 1<<len(envs); mask++ {
		var subset []*escrow.Envelope
		for i := range envs {
			if mask&(1<<i) != 0 {
				subset = append(subset, envs[i])
			}
		}
		if len(subset) != 3 && len(subset) != 2 {
			continue
		}
		if !f.v.Sealed() {
			if err := f.v.Seal(ctx, req, f.admin); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		for _, e := range subset {
			if _, err = f.v.UnsealShare(ctx, req, e.Text()); err != nil {
				t.Fatalf("subset %05b: %v", mask, err)
			}
		}
		if got := !f.v.Sealed(); got != (len(subset) == 3) {
			t.Fatalf("subset %05b of %d shares: unsealed = %v", mask, len(subset), got)
		}
		if len(subset) == 3 {
			e := f.last(t)
			for _, s := range subset {
				if !strings.Contains(e.Reason, s.Holder) {
					t.Fatalf("escrow.recover does not name %s: %s", s.Holder, e.Reason)
				}
			}
		}
		f.v.ResetUnseal(ctx, req)
	}
}

func TestEmergencyRecoveryBreakGlassAndRekey(t *testing.T) {
	f := newFixture(t)
	chair, otl := f.addUser(t, "Councillor Smith", RoleChairman)
	_ = otl
	member, _ := f.addUser(t, "Member", RoleMember)
	f.put(t, f.admin, "Website host", "admin", "host password", "IT Provider")
	f.put(t, f.admin, "Facebook page", "shared", "fb password", "IT Provider")
	if _, err := f.v.OpenBreakGlass(ctx, req, chair, "no emergency at all"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("break-glass outside recovery: %v", err)
	}

	// The passphrase is "lost": the chairman and the clerk open the vault.
	if err := f.v.Seal(ctx, req, f.admin); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		if _, err := f.v.UnsealShare(ctx, req, f.init.Envelopes[i].Text()); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := f.v.Status(ctx)
	if st.Sealed || st.Recovery == nil || !strings.Contains(st.Recovery.Message, "re-keyed") {
		t.Fatalf("status after recovery: %+v", st)
	}
	var re *RecoveryError
	if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "New", Kind: "admin", Password: []byte("p")}); !errors.As(err, &re) {
		t.Fatalf("routine write during recovery: %v", err)
	}
	if _, err := f.v.CreateUser(ctx, req, f.admin, "Someone", RoleMember, time.Time{}); !errors.Is(err, ErrRecoveryMode) {
		t.Fatalf("user create during recovery: %v", err)
	}
	// The holders set a new passphrase.
	if err := f.v.SetPassphrase(ctx, req, member, []byte("a brand new passphrase")); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member set passphrase: %v", err)
	}
	newPass := []byte("a brand new passphrase")
	if err := f.v.SetPassphrase(ctx, req, chair, newPass); err != nil {
		t.Fatal(err)
	}
	// Break-glass: only the chairman, with a reason, admin credentials only, each read audited.
	if _, err := f.v.ReadCredential(ctx, req, chair, "Website host", 0); !errors.Is(err, ErrNotFound) { // not even seen before
		t.Fatalf("read before break-glass: %v", err)
	}
	if _, err := f.v.OpenBreakGlass(ctx, req, member, "I want in"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member break-glass: %v", err)
	}
	if _, err := f.v.OpenBreakGlass(ctx, req, chair, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no reason: %v", err)
	}
	until, err := f.v.OpenBreakGlass(ctx, req, chair, "website down, host unreachable")
	if err != nil || until.Sub(f.clock.Now()) != 4*time.Hour {
		t.Fatalf("break-glass: %v until %v", err, until)
	}
	for i := 0; i < 2; i++ {
		s, err := f.v.ReadCredential(ctx, req, chair, "Website host", 0)
		if err != nil || string(s.Password()) != "host password" {
			t.Fatalf("break-glass read: %v", err)
		}
		s.Destroy()
		e := f.last(t)
		if e.Action != "breakglass.read" || !strings.Contains(e.Reason, "website down") || !audit.IsIncident(e) {
			t.Fatalf("break-glass read entry: %+v", e)
		}
	}
	if _, err := f.v.ReadCredential(ctx, req, chair, "Facebook page", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("break-glass reached a shared credential: %v", err)
	}
	f.clock.Advance(4*time.Hour + time.Second)
	if _, err := f.v.ReadCredential(ctx, req, chair, "Website host", 0); !errors.Is(err, ErrNotFound) { // not even seen before
		t.Fatalf("read after the window: %v", err)
	}
	if e := f.last(t); e.Outcome != audit.OutcomeDenied || !strings.Contains(e.Reason, "window ended") {
		t.Fatalf("expired read entry: %+v", e)
	}

	// Recovery mode survives a seal and a passphrase unseal; the old passphrase no longer works.
	f.v.Seal(ctx, req, f.admin)
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase: %v", err)
	}
	if err := f.v.UnsealPassphrase(ctx, req, newPass); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.v.Status(ctx); st.Recovery == nil {
		t.Fatal("recovery mode forgotten")
	}

	// Re-key with a new chairman: generation 2, old envelopes superseded.
	if _, err := f.v.Rekey(ctx, req, chair, RekeyRequest{Passphrase: f.pass}); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("rekey with the old passphrase: %v", err)
	}
	newHolders := []string{"New Chairman", "Vice-chair", "Clerk"}
	res, err := f.v.Rekey(ctx, req, chair, RekeyRequest{Holders: newHolders, Passphrase: newPass})
	if err != nil || res.Generation != 2 || len(res.Envelopes) != 3 {
		t.Fatalf("rekey: %v", err)
	}
	if e := f.last(t); e.Action != "escrow.rekey" || !strings.Contains(e.Reason, "New Chairman") || !strings.Contains(e.Reason, "generation 1 -> 2") {
		t.Fatalf("rekey entry: %+v", e)
	}
	for _, old := range f.init.Envelopes {
		_, err := f.v.CheckShare(ctx, req, old.Text())
		if !errors.Is(err, ErrSuperseded) || !strings.Contains(err.Error(), "superseded on 23 November 2026 (generation 1") {
			t.Fatalf("old envelope of %s: %v", old.Holder, err)
		}
	}
	for i, env := range res.Envelopes {
		c, err := f.v.CheckShare(ctx, req, env.Text())
		if err != nil || c.Holder != newHolders[i] || c.Index != i+1 || c.Generation != 2 {
			t.Fatalf("new envelope %d: %+v %v", i, c, err)
		}
	}
	if st, _ := f.v.Status(ctx); st.Recovery != nil || st.Generation != 2 {
		t.Fatalf("status after rekey: %+v", st)
	}
	if _, err := f.v.ReadCredential(ctx, req, chair, "Website host", 0); !errors.Is(err, ErrNotFound) { // not even seen before
		t.Fatalf("break-glass survived the rekey: %v", err)
	}
	f.put(t, f.admin, "After rekey", "admin", "pw", "IT Provider") // routine writes again
	// Every credential is still readable; new shares open the vault, old ones do not.
	f.v.Seal(ctx, req, f.admin)
	if _, err := f.v.UnsealShare(ctx, req, f.init.Envelopes[1].Text()); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("old share at unseal: %v", err)
	}
	for _, i := range []int{0, 1} {
		if _, err := f.v.UnsealShare(ctx, req, res.Envelopes[i].Share.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	f.admin.ReauthAt = f.clock.Now() // hours have passed: confirmed again
	s, err := f.v.ReadCredential(ctx, req, f.admin, "Website host", 0)
	if err != nil || string(s.Password()) != "host password" {
		t.Fatalf("read after rekey: %v", err)
	}
	s.Destroy()
	if r, err := f.v.VerifyAudit(ctx, req, f.admin); err != nil || !r.OK {
		t.Fatalf("log: %+v %v", r, err)
	}
}

func TestRekeyAuthority(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	chair, _ := f.addUser(t, "Chair", RoleChairman)
	if _, err := f.v.Rekey(ctx, req, clerk, RekeyRequest{Passphrase: f.pass}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("clerk rekey: %v", err)
	}
	if _, err := f.v.Rekey(ctx, req, chair, RekeyRequest{Passphrase: f.pass}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("chairman without quorum: %v", err)
	}
	one := []string{f.init.Envelopes[0].Text()}
	if _, err := f.v.Rekey(ctx, req, chair, RekeyRequest{Passphrase: f.pass, Quorum: one}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("chairman with one share: %v", err)
	}
	two := []string{f.init.Envelopes[0].Text(), f.init.Envelopes[2].Text()}
	res, err := f.v.Rekey(ctx, req, chair, RekeyRequest{Passphrase: f.pass, Quorum: two, Shares: 2, Threshold: 2, Holders: []string{"A", "B"}})
	if err != nil || res.Generation != 2 {
		t.Fatalf("quorum rekey: %v", err)
	}
	if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass, Threshold: 3}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("threshold above shares: %v", err)
	}
	if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); err != nil {
		t.Fatalf("provider rekey: %v", err)
	}
}

// A re-key starts a new data key term: what is written after it is sealed
// under a key the old envelopes' keyring does not hold, so the old
// envelopes with an old copy of the database decrypt none of it; what was
// written before stays readable, after a seal and unseal too.
func TestRekeyRotatesTheDataKey(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Before", "admin", "before pw", "IT Provider")
	var oldRoot, oldRing []byte
	_ = f.v.barrier.Hold(func(h *barrier.Held) error {
		root, err := h.OpenRoot()
		if err != nil {
			t.Fatal(err)
		}
		oldRoot = bytes.Clone(root.Bytes())
		root.Destroy()
		return nil
	})
	_ = f.store.View(ctx, func(tx Tx) error { oldRing = bytes.Clone(tx.Get(bucketKeyring, []byte("keyring"))); return nil })
	if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); err != nil {
		t.Fatal(err)
	}
	f.put(t, f.admin, "After", "admin", "after pw", "IT Provider")
	// The old envelopes' root opens the old copy's keyring: its terms.
	plain, err := barrier.OpenRecord(oldRoot, oldRing, "keyring/keyring")
	if err != nil {
		t.Fatal(err)
	}
	_, oldKeys, err := barrier.DecodeKeyring(plain)
	if err != nil {
		t.Fatal(err)
	}
	terms := map[string]uint32{}
	_ = f.store.View(ctx, func(tx Tx) error {
		return tx.Scan(bucketCredentials, nil, func(k, v []byte) (bool, error) {
			term, err := barrier.Term(v)
			terms[string(k)] = term
			return true, err
		})
	})
	var after, before int
	for _, term := range terms {
		if _, ok := oldKeys[term]; ok {
			before++
		} else {
			after++
		}
	}
	// "After": its head and version were written under the new term (the
	// put also rewrote no old record), "Before": under the old one.
	if after != 2 || before != 2 {
		t.Fatalf("records under terms %v; the old keyring holds %d terms", terms, len(oldKeys))
	}
	for _, name := range []string{"Before", "After"} {
		f.admin.ReauthAt = f.clock.Now()
		s, err := f.v.ReadCredential(ctx, req, f.admin, name, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s.Destroy()
	}
	f.v.Seal(ctx, req, f.admin)
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Before", "After"} {
		s, err := f.v.ReadCredential(ctx, req, f.admin, name, 0)
		if err != nil {
			t.Fatalf("%s after unseal: %v", name, err)
		}
		s.Destroy()
	}

	// The rewrap, in chunks of 2: every record under the new term, the
	// old term gone from the keyring, everything still readable.
	defer func(n int) { recovery.SetRewrapChunk(n) }(recovery.SetRewrapChunk(2))
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	if _, err := f.v.Rewrap(ctx, req, clerk); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a clerk's rewrap: %v", err)
	}
	res, err := f.v.Rewrap(ctx, req, f.admin)
	// (The audit signing key is not among them: the re-key sealed its new
	// one under the new term.)
	if err != nil || res.Term != 2 || len(res.Dropped) != 1 || res.Dropped[0] != 1 || res.Resealed < 3 {
		t.Fatalf("rewrap: %+v %v", res, err)
	}
	if e := f.last(t); e.Action != audit.EscrowRekey || !strings.Contains(e.Reason, "rewrap") {
		t.Fatalf("rewrap entry %+v", e)
	}
	for _, b := range []string{bucketUsers, bucketSessions, bucketCredentials, bucketGrants, bucketRequests, bucketKeyring} {
		_ = f.store.View(ctx, func(tx Tx) error {
			return tx.Scan(b, nil, func(k, v []byte) (bool, error) {
				if term, _ := barrier.Term(v); b+"/"+string(k) != "keyring/keyring" && term != 2 {
					t.Errorf("%s/%s still under term %d", b, k, term)
				}
				return true, nil
			})
		})
	}
	f.v.Seal(ctx, req, f.admin)
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Before", "After"} {
		s, err := f.v.ReadCredential(ctx, req, f.admin, name, 0)
		if err != nil {
			t.Fatalf("%s after the rewrap: %v", name, err)
		}
		s.Destroy()
	}
}

// A rewrap asked for while a re-key is between its reads and its write
// waits for it, so the keyrings reach the barrier in the order they were
// committed: afterwards the barrier's active term is the stored one, and
// what is written then reads back after a seal and unseal.
func TestRewrapWaitsForARekey(t *testing.T) {
	f := newFixture(t)
	f.put(t, f.admin, "Before", "admin", "before pw", "IT Provider")
	done := make(chan error, 1)
	var early bool
	f.v.between = func(point string) {
		if point != "rekey.write" {
			return
		}
		f.v.between = nil
		go func() { _, err := f.v.Rewrap(ctx, req, f.admin); done <- err }()
		select {
		case err := <-done:
			early = true
			done <- err
		case <-time.After(200 * time.Millisecond):
		}
	}
	if _, err := f.v.Rekey(ctx, req, f.admin, RekeyRequest{Passphrase: f.pass}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || early {
		t.Fatalf("the rewrap: %v; finished inside the re-key: %v", err, early)
	}
	var active uint32
	_ = f.v.barrier.Hold(func(h *barrier.Held) error { active = h.Active(); return nil })
	if active != 2 {
		t.Fatalf("the barrier's term is %d, want the re-key's 2", active)
	}
	f.put(t, f.admin, "After", "admin", "after pw", "IT Provider")
	f.v.Seal(ctx, req, f.admin)
	if err := f.v.UnsealPassphrase(ctx, req, f.pass); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Before", "After"} {
		f.admin.ReauthAt = f.clock.Now()
		s, err := f.v.ReadCredential(ctx, req, f.admin, name, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s.Destroy()
	}
}
