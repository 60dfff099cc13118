package identity

import (
	"errors"
	"strings"
	"testing"

	"strongroom/vault/access"
)

func TestParseEmail(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"clerk@example-parish.gov.uk", true}, {"", true}, {"a.b+c@x.org", true},
		{"Clerk <clerk@x.org>", false}, {"clerk@x", false}, {"nobody", false}, {"a@b@c.org", false},
		{"clerk@x.org\r\nBcc: all@x.org", false}, {"a b@x.org", false}, {"a@x..org", false}, {"a@x.org.", false},
		{strings.Repeat("a", 250) + "@x.org", false},
	} {
		got, err := ParseEmail("email", c.in)
		var ie *access.InputError
		switch {
		case c.ok && (err != nil || got != c.in):
			t.Errorf("%q: %v", c.in, err)
		case !c.ok && !errors.As(err, &ie):
			t.Errorf("%q accepted (%v)", c.in, err)
		case !c.ok && (ie.Field != "email" || strings.Contains(ie.Msg, c.in)):
			t.Errorf("%q: error %+v", c.in, ie)
		}
	}
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"clerk@example-parish.gov.uk", "Clerk <c@x.org>", "c@x", "a@b\r\nX: y", "\"q\"@x.org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEmail("email", s)
		if err != nil {
			var ie *access.InputError
			if !errors.As(err, &ie) || ie.Field != "email" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if got != s || strings.ContainsAny(got, "\r\n <>,") || len(got) > MaxEmail {
			t.Fatalf("accepted %q", s)
		}
	})
}
