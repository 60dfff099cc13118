package vault

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"strongroom/audit"
	"strongroom/vault/barrier"
	"strongroom/vault/identity"
	"strongroom/vault/recovery"
)

// The -race stress test: goroutines drive the read-then-write paths at once
// for a bounded number of steps; then the invariants are checked against the
// answers, in commit order where calls raced (the log's: each has its own ID).

// stress is what the calls of one run answered, under mu.
type stress struct {
	f      *fixture
	t      *testing.T
	n      atomic.Int64 // request numbers
	mu     sync.Mutex
	accs   []*stressAccount
	sess   []*stressSession
	ops    map[string]stressOp // the credential and key calls, by request ID ("put-7")
	last   []byte              // the passphrase in force, kept by the one goroutine that sets it
	epoch  atomic.Int64        // odd while a SetPassphrase runs: a re-key may then find the passphrase changed
	counts map[string]int
}

type stressAccount struct {
	name, pw0 string
	changes   map[string]string // old -> new, for each ChangePassword that returned nil
	seeds     []string          // TOTP secrets in order (one goroutine resets MFA)
	disabled  bool              // DisableUser returned nil
	lastStep  int64             // the last TOTP step a login of this test used
}

// password is the password in force: the chain of changes from the first.
func (a *stressAccount) password() string {
	pw := a.pw0
	for next, ok := a.changes[pw]; ok; next, ok = a.changes[pw] {
		pw = next
	}
	return pw
}

type stressSession struct {
	acc            *stressAccount
	tok            string
	p              *Principal
	pw, seed, code string    // what the login used
	at, after      time.Time // the clock before and after it
	lastOK         int64     // the clock (Unix seconds) before the latest successful use
	setPw          string    // the password this session's latest ChangePassword set
	loggedOut      bool      // Logout returned nil
}

type stressOp struct {
	answer        string // kindOf the error
	lower, id, pw string // the name, the credential, its password (a passphrase for SetPassphrase)
	version       int
	created       bool
}

var stressNames = []string{"Router", "Website", "Wifi", "Bank", "Newsletter"}

func TestStress(t *testing.T) {
	workers, steps, keySteps := 4, 60, 5
	if testing.Short() {
		steps, keySteps = 15, 2
	}
	seed := uint64(time.Now().UnixNano())
	f := newFixture(t)
	s := &stress{f: f, t: t, ops: map[string]stressOp{}, last: f.pass, counts: map[string]int{}}
	for i, role := range []Role{RoleClerk, RoleMember, RoleClerk, RoleMember, RoleMember, RoleClerk} {
		a := f.account(t, fmt.Sprintf("Councillor %c", 'A'+i), role)
		s.accs = append(s.accs, &stressAccount{name: a.name, pw0: string(a.password), changes: map[string]string{},
			seeds: []string{secretOf(a.totpURI)}, lastStep: f.clock.Now().Unix() / 30})
	}
	st, _ := f.v.Status(ctx) // its generation, checked with the re-keys
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { s.worker(rand.New(rand.NewPCG(seed, uint64(w))), w, steps) })
	}
	wg.Go(func() { s.admin(rand.New(rand.NewPCG(seed, 100)), steps) })
	wg.Go(func() { s.keyCalls(rand.New(rand.NewPCG(seed, 101)), keySteps, false) })
	wg.Go(func() { s.keyCalls(rand.New(rand.NewPCG(seed, 102)), keySteps, true) })
	wg.Wait()
	t.Logf("seed %d; outcomes: %v", seed, s.counts)
	s.checkSessions()
	es := f.entries(t)
	s.checkEntries(es)
	live := s.checkCredentials(es)
	if res, err := f.v.VerifyAudit(ctx, s.req("verify"), f.admin); err != nil || !res.OK {
		t.Errorf("the audit chain: %+v, %v", res, err)
	}
	s.checkAccounts()
	s.checkPassphrase(es, st.Generation, live)
}

func (s *stress) req(op string) Request { return Request{ID: fmt.Sprintf("%s-%d", op, s.n.Add(1))} }

// kindOf names the answer err is; "failure" is none of the vault's answers.
func kindOf(err error) string {
	var le *LockedError
	switch ee := (*ExistsError)(nil); {
	case err == nil:
		return "ok"
	case strings.Contains(err.Error(), "answered after writing"):
		return "failure"
	case errors.As(err, &le):
		return "locked"
	case errors.As(err, &ee):
		return "exists"
	}
	for name, e := range map[string]error{"bad login": ErrBadLogin, "unauthenticated": ErrUnauthenticated,
		"conflict": ErrConflict, "not found": ErrNotFound, "forbidden": ErrForbidden, "invalid": ErrInvalid,
		"wrong passphrase": ErrWrongPassphrase} {
		if errors.Is(err, e) {
			return name
		}
	}
	return "failure"
}

// answer counts op's outcome and fails the test unless it is one of allowed.
func (s *stress) answer(op string, err error, allowed ...string) string {
	k := kindOf(err)
	s.locked(func() { s.counts[op+": "+k]++ })
	if !slices.Contains(allowed, k) {
		s.t.Errorf("%s: %v (%T); want one of %v", op, err, err, allowed)
	}
	return k
}

func secretOf(uri string) string { k, _ := otp.NewKeyFromURL(uri); return k.Secret() }

func totpCode(secret string, at time.Time) string { c, _ := totp.GenerateCode(secret, at); return c }

func (s *stress) worker(r *rand.Rand, w, steps int) {
	name := func() string {
		if r.IntN(3) == 0 {
			return fmt.Sprintf("Worker %d item %d", w, r.IntN(3)) // a name of its own
		}
		return variant(r, stressNames[r.IntN(len(stressNames))])
	}
	for range steps {
		switch op := r.IntN(22); {
		case op < 5:
			s.login(s.accs[r.IntN(len(s.accs))], op == 4)
		case op < 8:
			s.authenticate(s.pick(r, nil))
		case op < 9:
			s.logout(s.pick(r, nil))
		case op < 10:
			s.changePassword(s.pick(r, nil))
		case op < 12:
			s.raceEnd(r)
		case op < 13:
			s.racePut(r)
		case op < 15:
			s.put(name(), r.IntN(3) == 0)
		case op < 16:
			s.del(name())
		case op < 20:
			s.read(name())
		default:
			s.f.clock.Advance(time.Duration(20+r.IntN(50)) * time.Second)
		}
	}
}

// variant is name as a caller might type it.
func variant(r *rand.Rand, name string) string {
	return [...]string{name, strings.ToLower(name), strings.ToUpper(name)}[r.IntN(3)]
}

// admin resets MFA and disables the last two accounts, among other calls.
func (s *stress) admin(r *rand.Rand, steps int) {
	for i := range steps {
		switch a := s.accs[r.IntN(len(s.accs))]; {
		case i == steps/3 || i == 2*steps/3:
			a = s.accs[len(s.accs)-1-(i*3/steps)%2] // the last two accounts, one each time
			if s.answer("disable", s.f.v.DisableUser(ctx, s.req("disable"), s.f.admin, a.name), "ok") == "ok" {
				s.locked(func() { a.disabled = true })
			}
		case i%5 == 0:
			uri, err := s.f.v.ResetMFA(ctx, s.req("reset"), s.f.admin, a.name)
			if s.answer("reset MFA", err, "ok") == "ok" {
				s.locked(func() { a.seeds = append(a.seeds, secretOf(uri)) })
			}
		case i%2 == 0:
			s.authenticate(s.pick(r, nil))
		default:
			s.read(variant(r, stressNames[r.IntN(len(stressNames))]))
		}
	}
}

// login signs a in with the password and seed in force (wrong: with a
// wrong password, which must never open a session).
func (s *stress) login(a *stressAccount, wrong bool) {
	s.mu.Lock()
	pw, seed, disabled := a.password(), a.seeds[len(a.seeds)-1], a.disabled
	if s.f.clock.Now().Unix()/30 <= a.lastStep {
		s.f.clock.Advance(30 * time.Second) // a fresh step: a code is good once
	}
	at := s.f.clock.Now()
	a.lastStep = at.Unix() / 30
	s.mu.Unlock()
	if wrong {
		pw = "not " + pw
	}
	c := totpCode(seed, at)
	tok, p, err := s.f.v.Login(ctx, s.req("login"), LoginRequest{Name: a.name, Password: []byte(pw), TOTP: c})
	op, allowed := "login", []string{"ok", "bad login", "locked"}
	if wrong {
		op, allowed = "wrong password", allowed[1:]
	}
	if s.answer(op, err, allowed...) != "ok" {
		return
	}
	if disabled || p.Name != a.name {
		s.t.Errorf("login of %s (disabled before: %v): %+v", a.name, disabled, p)
	}
	s.locked(func() {
		s.sess = append(s.sess, &stressSession{acc: a, tok: tok, p: p, pw: pw, seed: seed, code: c, at: at, after: s.f.clock.Now(), lastOK: at.Unix()})
	})
}

// pick returns a random session, of a if a is set, mostly one not known
// to be ended; nil if there is none.
func (s *stress) pick(r *rand.Rand, a *stressAccount) (se *stressSession) {
	s.locked(func() {
		var of []*stressSession
		for _, x := range s.sess {
			if ended, _ := s.ended(x); (a == nil || x.acc == a) && (!ended || r.IntN(4) == 0) {
				of = append(of, x)
			}
		}
		if len(of) > 0 {
			se = of[r.IntN(len(of))]
		}
	})
	return se
}

// ended says a call that returned before now ended se: a logout, a disable,
// an MFA reset or a password change (under s.mu). unknown says se may have
// signed in with a seed reset meanwhile, its code being good for both.
func (s *stress) ended(se *stressSession) (ended, unknown bool) {
	a := se.acc
	seed, pw := a.seeds[len(a.seeds)-1], a.password()
	if reset := se.seed != seed; reset {
		for at := se.at; !at.After(se.after.Add(30 * time.Second)); at = at.Add(30 * time.Second) {
			unknown = unknown || identity.MatchTOTP(seed, se.code, at) >= 0
		}
		ended = !unknown
	}
	return ended || se.loggedOut || a.disabled || (se.pw != pw && se.setPw != pw), unknown
}

func (s *stress) authenticate(se *stressSession) {
	if se == nil {
		return
	}
	var ended bool
	s.locked(func() { ended, _ = s.ended(se) })
	at := s.f.clock.Now()
	p, err := s.f.v.Authenticate(ctx, se.tok)
	if s.answer("authenticate", err, "ok", "unauthenticated", "conflict") != "ok" {
		return
	}
	if ended || p.UserID != se.p.UserID {
		s.t.Errorf("a session of %s that had ended (%v) works: %+v", se.acc.name, ended, p)
	}
	s.locked(func() { se.lastOK = max(se.lastOK, at.Unix()) })
}

func (s *stress) logout(se *stressSession) {
	if se != nil && s.answer("logout", s.f.v.Logout(ctx, s.req("logout"), se.p), "ok") == "ok" {
		s.locked(func() { se.loggedOut = true })
	}
}

func (s *stress) changePassword(se *stressSession) {
	if se == nil {
		return
	}
	ended, old := false, ""
	s.locked(func() { ended, _ = s.ended(se); old = se.acc.password() })
	pw := fmt.Sprintf("quiet violet harbour lamp %d", s.n.Add(1))
	err := s.f.v.ChangePassword(ctx, s.req("password"), se.p, []byte(old), []byte(pw))
	if s.answer("change password", err, "ok", "bad login", "unauthenticated", "conflict") != "ok" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if next, dup := se.acc.changes[old]; dup || ended {
		s.t.Errorf("a change of %s's password from a session that had ended (%v), or from a password already changed to %q", se.acc.name, ended, next)
	}
	se.acc.changes[old], se.setPw = pw, pw
}

// raceEnd ends sessions while they are in use, due a refresh: by a logout,
// or by two password changes of the account at once.
func (s *stress) raceEnd(r *rand.Rand) {
	se := s.pick(r, nil)
	if se == nil {
		return
	}
	other, logout := s.pick(r, se.acc), r.IntN(2) == 0
	s.f.clock.Advance(61 * time.Second)
	var wg sync.WaitGroup
	wg.Go(func() { s.authenticate(se) })
	wg.Go(func() { s.authenticate(other) })
	if logout {
		wg.Go(func() { s.logout(se) })
	} else {
		wg.Go(func() { s.changePassword(se) })
		wg.Go(func() { s.changePassword(other) })
	}
	wg.Wait()
	s.authenticate(se) // what the race ended stays ended
	s.authenticate(other)
}

// racePut deletes a name and puts it three times at once.
func (s *stress) racePut(r *rand.Rand) {
	name := stressNames[r.IntN(len(stressNames))]
	s.del(variant(r, name))
	var wg sync.WaitGroup
	for range 3 {
		n, createOnly := variant(r, name), r.IntN(2) == 0
		wg.Go(func() { s.put(n, createOnly) })
	}
	wg.Wait()
}

func (s *stress) locked(fn func())            { s.mu.Lock(); defer s.mu.Unlock(); fn() }
func (s *stress) note(id string, op stressOp) { s.locked(func() { s.ops[id] = op }) }

func (s *stress) put(name string, createOnly bool) {
	rq := s.req("put")
	pw := "secret of " + rq.ID
	info, created, err := s.f.v.PutCredential(ctx, rq, s.f.admin, CredentialInput{Name: name, Kind: "shared",
		Password: []byte(pw), Assignees: []string{"IT Provider"}, CreateOnly: createOnly})
	k := s.answer("put", err, "ok", map[bool]string{true: "exists", false: "ok"}[createOnly])
	if k == "ok" && createOnly && !created {
		s.t.Errorf("a create-only put of %q wrote version %d of an existing credential", name, info.Version)
	}
	s.note(rq.ID, stressOp{answer: k, lower: strings.ToLower(name), id: info.ID, version: info.Version, created: created, pw: pw})
}

func (s *stress) del(name string) {
	rq := s.req("delete")
	k := s.answer("delete", s.f.v.DeleteCredential(ctx, rq, s.f.admin, name), "ok", "not found")
	s.note(rq.ID, stressOp{answer: k, lower: strings.ToLower(name)})
}

func (s *stress) read(name string) {
	rq := s.req("read")
	sec, err := s.f.v.ReadCredential(ctx, rq, s.f.admin, name, 0)
	op := stressOp{answer: s.answer("read", err, "ok", "not found"), lower: strings.ToLower(name)}
	if err == nil {
		op.id, op.version, op.pw = sec.ID, sec.Version, string(sec.Password())
		sec.Destroy()
	}
	s.note(rq.ID, op)
}

// keyCalls re-keys, or changes the passphrase: only one goroutine does,
// so the order of its successes is the commit order.
func (s *stress) keyCalls(r *rand.Rand, steps int, rekey bool) {
	for i := range steps {
		call := map[bool]string{true: "rekey", false: "passphrase"}[rekey]
		rq, e0 := s.req(call), s.epoch.Load()
		pass := []byte(fmt.Sprintf("operator passphrase number %d", i))
		var err error
		if rekey {
			s.locked(func() { pass = bytes.Clone(s.last) })
			_, err = s.f.v.Rekey(ctx, rq, s.f.admin, RekeyRequest{Passphrase: pass})
		} else {
			s.epoch.Add(1)
			err = s.f.v.SetPassphrase(ctx, rq, s.f.admin, bytes.Clone(pass))
		}
		allowed := []string{"ok", "conflict"}
		if rekey && (e0%2 == 1 || s.epoch.Load() != e0) { // the passphrase changed meanwhile
			allowed = append(allowed, "wrong passphrase")
		}
		k := s.answer(call, err, allowed...)
		s.note(rq.ID, stressOp{answer: k, pw: string(pass)})
		if !rekey && k == "ok" {
			s.locked(func() { s.last = pass })
		}
		if !rekey {
			s.epoch.Add(1)
		}
		for range 1 + r.IntN(4) {
			s.read(stressNames[r.IntN(len(stressNames))])
		}
	}
}

// checkSessions: every session a call ended fails, and every other one
// used within the idle time still works.
func (s *stress) checkSessions() {
	now, works := s.f.clock.Now(), 0
	for _, se := range s.sess {
		ended, unknown := s.ended(se)
		must := !ended && !unknown && now.Sub(time.Unix(se.lastOK, 0)) < s.f.v.idle-2*time.Minute && now.Sub(se.at) < s.f.v.maxAge/2
		p, err := s.f.v.Authenticate(ctx, se.tok)
		if k := kindOf(err); (ended || k != "ok") && (must || k != "unauthenticated") || k == "ok" && p.UserID != se.p.UserID {
			s.t.Errorf("session of %s (ended %v, must work %v; logged out %v, disabled %v): %+v, %v",
				se.acc.name, ended, must, se.loggedOut, se.acc.disabled, p, err)
		} else if k == "ok" {
			works++
		}
	}
	s.t.Logf("%d sessions, %d still work", len(s.sess), works)
}

// checkEntries: each call has exactly the entry its answer implies, or none.
func (s *stress) checkEntries(es []*audit.Entry) {
	by := map[string][]*audit.Entry{}
	for _, e := range es {
		by[e.RequestID] = append(by[e.RequestID], e)
	}
	for id, op := range s.ops {
		var action, outcome, reason string // outcome "": no entry
		switch call, _, _ := strings.Cut(id, "-"); call + " " + op.answer {
		case "put ok":
			action, outcome, reason = map[bool]string{true: "cred.create", false: "cred.update"}[op.created], "ok", fmt.Sprintf("version %d;", op.version)
		case "delete ok":
			action, outcome = "cred.delete", "ok"
		case "read ok":
			action, outcome, reason = "cred.read", "ok", fmt.Sprintf("version %d", op.version)
		case "read not found":
			action, outcome, reason = "cred.read", "error", "no such credential"
		case "rekey ok", "passphrase ok":
			action, outcome = map[bool]string{true: "escrow.rekey", false: "sys.passphrase"}[call == "rekey"], "ok"
		case "rekey wrong passphrase":
			action, outcome, reason = "escrow.rekey", "denied", "wrong passphrase"
		}
		got := by[id]
		switch {
		case outcome == "" && len(got) == 0:
		case outcome == "" || len(got) != 1 || string(got[0].Action) != action || got[0].Outcome != outcome || !strings.HasPrefix(got[0].Reason, reason),
			op.id != "" && got[0].Target.ID != op.id, action == "cred.delete" && strings.ToLower(got[0].Target.Name) != op.lower:
			s.t.Errorf("request %s (%+v): entries %+v; want %q %q %q", id, op, got, action, outcome, reason)
		}
	}
}

type credState struct {
	id, pw  string
	version int
	live    bool
}

// checkCredentials replays the puts, deletes and reads in commit order (the
// log's), then compares the store, the list and the secrets with it.
func (s *stress) checkCredentials(es []*audit.Entry) map[string]*credState {
	byName, pws, bad := map[string]*credState{}, map[string]string{}, 0 // pws: by id/version
	for _, e := range es {
		op, c := s.ops[e.RequestID], byName[s.ops[e.RequestID].lower]
		switch call, _, _ := strings.Cut(e.RequestID, "-"); {
		case call != "put" && call != "delete" && call != "read":
		case call == "put" && op.created && (c == nil || !c.live) && op.version == 1:
			byName[op.lower] = &credState{id: op.id, version: 1, pw: op.pw, live: true}
		case call == "put" && !op.created && c != nil && c.live && c.id == op.id && op.version == c.version+1:
			c.version, c.pw = op.version, op.pw
		case call == "delete" && c != nil && c.live && c.id == e.Target.ID:
			c.live = false
		case call == "read" && op.answer == "ok" && c != nil && c.live && c.id == op.id && c.version == op.version &&
			pws[fmt.Sprintf("%s/%d", op.id, op.version)] == op.pw:
		case call == "read" && op.answer == "not found" && (c == nil || !c.live):
		default:
			if bad++; bad <= 8 { // the first: the rest may follow from them
				s.t.Errorf("%s (%+v) committed when %q was %+v", e.RequestID, op, op.lower, c)
			}
		}
		if strings.HasPrefix(e.RequestID, "put-") {
			pws[fmt.Sprintf("%s/%d", op.id, op.version)] = op.pw
		}
	}
	live := byName
	maps.DeleteFunc(live, func(_ string, c *credState) bool { return !c.live })
	var stored []CredentialInfo
	err := s.f.v.barrier.View(ctx, func(tx barrier.Tx) error { // the stored heads, read here independently
		return tx.Scan(bucketCredentials, nil, func(k, val []byte) (bool, error) {
			if !strings.HasSuffix(string(k), "/head") {
				return true, nil
			}
			var h struct {
				ID, Name string
				Version  int
				Deleted  bool
			}
			if err := tx.Decode(bucketCredentials+"/"+string(k), bytes.Clone(val), &h); err != nil {
				return false, err
			}
			if !h.Deleted {
				stored = append(stored, CredentialInfo{ID: h.ID, Name: h.Name, Version: h.Version})
			}
			return true, nil
		})
	})
	listed, lerr := s.f.v.ListCredentialsAll(ctx, s.f.admin)
	if err != nil || lerr != nil {
		s.t.Fatal(err, lerr)
	}
	for what, infos := range map[string][]CredentialInfo{"stored": stored, "listed": listed} {
		seen := map[string]string{}
		for _, ci := range infos {
			lower := strings.ToLower(ci.Name)
			if c := live[lower]; seen[lower] != "" || c == nil || c.id != ci.ID || c.version != ci.Version {
				s.t.Errorf("%s: %q %s version %d (and %q); the replay has %+v", what, ci.Name, ci.ID, ci.Version, seen[lower], c)
			}
			seen[lower] = ci.ID
		}
		if len(seen) != len(live) {
			s.t.Errorf("%s: %d live credentials; the replay has %d", what, len(seen), len(live))
		}
	}
	s.readBack(live)
	s.t.Logf("%d calls; %d live credentials; %d calls out of order", len(s.ops), len(live), bad)
	return live
}

// readBack reads each live credential: the password of its last put.
func (s *stress) readBack(live map[string]*credState) {
	for name, c := range live {
		sec, err := s.f.v.ReadCredential(ctx, s.req("final"), s.f.admin, name, 0)
		if err != nil || sec.ID != c.id || sec.Version != c.version || string(sec.Password()) != c.pw {
			s.t.Errorf("read %q: %v, %v; want version %d of %s with the password its put wrote", name, sec, err, c.version, c.id)
		}
		if sec != nil {
			sec.Destroy()
		}
	}
}

// checkAccounts: once every lock has run out, the password and seed in
// force sign in, except to a disabled account.
func (s *stress) checkAccounts() {
	s.f.clock.Advance(2 * time.Hour)
	for _, a := range s.accs {
		pw, seed, at := a.password(), a.seeds[len(a.seeds)-1], s.f.clock.Now()
		_, _, err := s.f.v.Login(ctx, s.req("final"), LoginRequest{Name: a.name, Password: []byte(pw), TOTP: totpCode(seed, at)})
		if k := kindOf(err); k != map[bool]string{true: "bad login", false: "ok"}[a.disabled] {
			s.t.Errorf("sign-in of %s (disabled %v, %d password changes, %d MFA resets): %v", a.name, a.disabled, len(a.changes), len(a.seeds)-1, err)
		}
	}
}

// checkPassphrase: the last passphrase change in the log is the last the
// test saw, each re-key moved the generation on, the keys in memory open the
// stored keyring, and after a seal only the passphrase in force opens.
func (s *stress) checkPassphrase(es []*audit.Entry, gen0 uint32, live map[string]*credState) {
	want, rekeyed := s.f.pass, uint32(0)
	for _, e := range es {
		switch op := s.ops[e.RequestID]; {
		case op.answer == "ok" && e.Action == "sys.passphrase":
			want = []byte(op.pw)
		case op.answer == "ok" && e.Action == "escrow.rekey":
			rekeyed++
		}
	}
	if st, err := s.f.v.Status(ctx); !bytes.Equal(want, s.last) || err != nil || st.Generation != gen0+rekeyed {
		s.t.Errorf("passphrase %q in force by the log, %q by the answers; generation %d after %d re-keys from %d: %v",
			want, s.last, st.Generation, rekeyed, gen0, err)
	}
	opens := false
	_ = s.f.v.barrier.Hold(func(h *barrier.Held) error {
		root, err := h.OpenRoot()
		defer root.Destroy()
		return errors.Join(err, s.f.v.store.View(ctx, func(tx Tx) error { opens = recovery.OpensKeyring(tx, root.Bytes()); return nil }))
	})
	if !opens {
		s.t.Error("the root key in memory does not open the stored keyring")
	}
	s.answer("seal", s.f.v.Seal(ctx, s.req("seal"), s.f.admin), "ok")
	s.ops["passphrase-0"] = stressOp{pw: string(s.f.pass)} // the one before the run
	for id, op := range s.ops {
		if !strings.HasPrefix(id, "passphrase-") || op.pw == string(want) {
			continue
		}
		if err := s.f.v.UnsealPassphrase(ctx, s.req("unseal"), []byte(op.pw)); !errors.Is(err, ErrWrongPassphrase) {
			s.t.Fatalf("unseal with %q, not in force: %v", op.pw, err)
		}
	}
	if err := s.f.v.UnsealPassphrase(ctx, s.req("unseal"), want); err != nil {
		s.t.Fatalf("unseal with the passphrase in force: %v", err)
	}
	s.readBack(live)
	s.t.Logf("%d re-keys; passphrase %q in force", rekeyed, want)
}
