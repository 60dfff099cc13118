package identity

import (
	"fmt"
	"testing"
	"time"
)

// The throttle's memory is bounded: a flood of new keys never grows it
// past its cap and never evicts the key under attack, and a key is
// forgotten an hour after its last failure.
func TestThrottleBounded(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	th := newThrottle(100)
	target := ThrottleKey("Clerk", "192.0.2.1")
	for i := 0; i < ThrottleAfter+2; i++ {
		th.fail(target, fmt.Sprint("t", i), now)
	}
	until := th.until(target, now)
	if until.Sub(now) != 2*time.Minute {
		t.Fatalf("refused for %v", until.Sub(now))
	}
	for i := 0; i < 1000; i++ {
		th.fail(ThrottleKey(fmt.Sprint("name", i), "192.0.2.1"), fmt.Sprint("f", i), now)
	}
	if n := len(th.entries); n > 100 {
		t.Fatalf("%d entries, cap 100", n)
	}
	if got := th.until(target, now); !got.Equal(until) {
		t.Fatalf("the key under attack was evicted by a flood: until %v", got)
	}
	// One attempt counted once, even if its write runs again.
	th.fail(target, "again", now.Add(3*time.Minute))
	th.fail(target, "again", now.Add(3*time.Minute))
	if d := th.until(target, now.Add(3*time.Minute)).Sub(now.Add(3 * time.Minute)); d != 4*time.Minute {
		t.Fatalf("an attempt counted twice: refused for %v", d)
	}
	// Forgotten an hour after the refusal ends: the next failure is the first.
	later := now.Add(3*time.Minute + 4*time.Minute + throttleForget + time.Second)
	for i := 0; i < ThrottleAfter-1; i++ {
		if u := th.fail(target, fmt.Sprint("late", i), later); !u.IsZero() {
			t.Fatalf("failure %d after an hour's quiet refused the key until %v", i, u)
		}
	}
}

func TestThrottleFor(t *testing.T) {
	for failures, want := range map[int]time.Duration{0: 0, 4: 0, 5: 30 * time.Second, 6: time.Minute, 10: 16 * time.Minute,
		11: 32 * time.Minute, 12: time.Hour, 40: time.Hour} {
		if got := throttleFor(failures); got != want {
			t.Errorf("throttleFor(%d) = %v, want %v", failures, got, want)
		}
	}
}
