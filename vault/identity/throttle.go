package identity

import (
	"strongroom/vault/access"
	"sync"
	"time"
)

// Sign-in throttling. Failures are counted per account name and source
// address together, never per account alone: a guesser at one address is
// slowed, while the owner signing in from elsewhere is not, and nobody can
// lock an account out by failing on purpose. After ThrottleAfter failures
// for a name from one address, sign-ins for that name from that address are
// refused for 30 s, doubling with each further failure, at most an hour; a
// refused attempt is not a guess and does not count. A sign-in with the
// password and a recovery code is decided even while refused, so the owner
// behind the same address always has a way in; if it fails it gets the
// same refusal as any other refused attempt.
//
// Names are keyed lower-cased and whether an account of that name exists
// plays no part: an unknown name is throttled exactly as a known one.
//
// The state is in memory (a restart forgets it; an attacker cannot restart
// the server) and bounded: at most throttleEntries keys, each forgotten an
// hour after its last failure or refusal ends. When full, the key with the
// fewest failures goes first, so a flood of new keys cannot evict the one
// under attack.
const (
	ThrottleAfter   = 5
	throttleFirst   = 30 * time.Second
	throttleLongest = time.Hour
	throttleForget  = time.Hour
	throttleEntries = 10000
	// refusalEvery is how often a stream of refused attempts on one key is
	// recorded: one entry a minute at most, with the count since the last.
	refusalEvery = time.Minute
)

// ThrottleKey is the key of a sign-in: the name's key and the
// source address.
//
// The name is keyed as accounts are found (access.NameKey: case, width,
// normal form and surrounding spaces folded), so no other spelling of a
// name gets a budget of its own.
func ThrottleKey(name, source string) string { return access.NameKey(name) + "\x00" + source }

// throttleFor is how long a key with failures failures is refused.
func throttleFor(failures int) time.Duration {
	if failures < ThrottleAfter {
		return 0
	}
	return min(throttleFirst<<min(failures-ThrottleAfter, 7), throttleLongest)
}

type throttleEntry struct {
	failures int
	until    time.Time // refused before this
	last     time.Time // the last failure or refusal
	// counted are the last attempts counted, so that a write function run
	// again by a group commit counts its attempt once.
	counted [4]string
	next    int
	// refused counts refusals not yet recorded; recorded is when the last
	// was.
	refused  int
	recorded time.Time
}

// throttle is the sign-in throttle shared by every client (API and web go
// through the same Accounts).
type throttle struct {
	mu      sync.Mutex
	entries map[string]*throttleEntry
	max     int
}

func newThrottle(max int) *throttle {
	return &throttle{entries: make(map[string]*throttleEntry), max: max}
}

// until is when key may try again; zero if it may now.
func (t *throttle) until(key string, now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.entries[key]; e != nil && now.Before(e.until) {
		return e.until
	}
	return time.Time{}
}

// fail counts a failed attempt of key (once per attempt id) and returns
// until when key is now refused (zero if it is not).
func (t *throttle) fail(key, attempt string, now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entry(key, now)
	for _, c := range e.counted {
		if attempt != "" && c == attempt {
			return e.until
		}
	}
	e.counted[e.next%len(e.counted)], e.next = attempt, e.next+1
	e.failures++
	e.last = now
	if d := throttleFor(e.failures); d > 0 {
		e.until = now.Add(d)
	}
	return e.until
}

// succeed forgets key: its holder proved password and second factor.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

// refuse notes a refused attempt of key and says whether it is due to be
// recorded, with how many refusals the entry covers.
func (t *throttle) refuse(key string, now time.Time) (due bool, count int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entry(key, now)
	e.refused++
	e.last = now
	if !e.recorded.IsZero() && now.Sub(e.recorded) < refusalEvery {
		return false, 0
	}
	count, e.refused, e.recorded = e.refused, 0, now
	return true, count
}

// takeRefused returns the refusals of key not yet recorded, and forgets
// them: the entry of a decided attempt carries them.
func (t *throttle) takeRefused(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	if e == nil {
		return 0
	}
	n := e.refused
	e.refused = 0
	return n
}

// entry is key's entry, made if absent; t.mu is held.
func (t *throttle) entry(key string, now time.Time) *throttleEntry {
	if e := t.entries[key]; e != nil && now.Sub(maxTime(e.until, e.last)) <= throttleForget {
		return e
	}
	delete(t.entries, key)
	if len(t.entries) >= t.max {
		t.evict(now)
	}
	e := &throttleEntry{}
	t.entries[key] = e
	return e
}

// evict forgets the entries whose time is up and, if none was, the one
// with the fewest failures (the oldest of those); t.mu is held.
func (t *throttle) evict(now time.Time) {
	var victim string
	var v *throttleEntry
	for k, e := range t.entries {
		if now.Sub(maxTime(e.until, e.last)) > throttleForget {
			delete(t.entries, k)
			continue
		}
		if v == nil || e.failures < v.failures || e.failures == v.failures && e.last.Before(v.last) {
			victim, v = k, e
		}
	}
	if len(t.entries) >= t.max && v != nil {
		delete(t.entries, victim)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
