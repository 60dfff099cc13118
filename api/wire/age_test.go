package wire

import (
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"365", 365 * day, true}, {"365d", 365 * day, true}, {" 90d ", 90 * day, true}, {"8760h", 8760 * time.Hour, true},
		{"0", 0, true}, {"1h30m", 90 * time.Minute, true},
		{"", 0, false}, {"d", 0, false}, {"-3d", 0, false}, {"-1h", 0, false}, {"soon", 0, false}, {"3.5d", 0, false},
		{"99999999999999999999d", 0, false}, {"1y", 0, false},
	} {
		got, err := ParseAge(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseAge: any input is an age that is not negative, or an error
// that does not quote it.
func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"365", "365d", "8760h", "-3d", "soon", "1h30m", "99999999999999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAge(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseAge(%q) = %v", s, d)
		}
		if err != nil && len(s) >= 4 && contains(err.Error(), s) {
			t.Fatalf("the error quotes the input: %v", err)
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
