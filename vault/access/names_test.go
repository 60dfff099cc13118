package access

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormaliseName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Bank admin", "Bank admin"},
		{"  Bank \u00a0 admin\u3000", "Bank admin"}, // every kind of space, trimmed and collapsed
		{"Ｂａｎｋ", "Bank"},                            // full width: NFKC
		{"Cafe\u0301", "Caf\u00e9"},                 // NFD in, NFC (NFKC) stored
		{"ﬁle server", "file server"},               // a ligature: NFKC
		{"Jo Bloggs", "Jo Bloggs"},                  // case is kept
		{strings.Repeat("é", 100), strings.Repeat("é", 100)},
	} {
		got, err := NormaliseName("name", "user", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormaliseName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	const planted = "planted7f3a"
	for _, in := range []string{"", "   ", "\u00a0", planted + "\x00", planted + "\u200b\x07", planted + "\xff",
		strings.Repeat("a", 101), strings.Repeat("e\u0301", 101), strings.Repeat(planted, 1000)} {
		_, err := NormaliseName("assignees", "user", in)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "assignees" || !errors.Is(err, ErrInvalid) {
			t.Errorf("NormaliseName(%q): %v, want an InputError on assignees", in, err)
			continue
		}
		if strings.Contains(err.Error(), planted) {
			t.Errorf("the error quotes the input: %v", err)
		}
	}
}

func TestNameKey(t *testing.T) {
	same := [][2]string{
		{"Café", "Cafe\u0301"}, {"CAFÉ", "café"}, {"Straße", "STRASSE"}, {"Bank  admin", "bank admin"},
		{"Ｂａｎｋ", "bank"}, {"ΣΊΣΥΦΟΣ", "σίσυφος"},
	}
	for _, p := range same {
		if NameKey(p[0]) != NameKey(p[1]) {
			t.Errorf("%q and %q should have one key: %q, %q", p[0], p[1], NameKey(p[0]), NameKey(p[1]))
		}
	}
	for _, p := range [][2]string{{"Cafe", "Café"}, {"Bank admin", "B\u0430nk admin"}, {"Router 1", "Router 2"}} {
		if NameKey(p[0]) == NameKey(p[1]) {
			t.Errorf("%q and %q should have different keys", p[0], p[1])
		}
	}
}

func TestCheckNewName(t *testing.T) {
	existing := []string{"Bank admin", "Café", "Jo Bloggs", "Москва", "paypal"}
	for _, tc := range []struct {
		name     string
		exists   string // the existing name an ExistsError names
		looks    string // the existing name a ConfusableError names
		mixed    bool   // an InputError for mixing scripts
		accepted bool
	}{
		{name: "BANK ADMIN", exists: "Bank admin"},
		{name: "Cafe\u0301", exists: "Café"},                       // NFD twin
		{name: "B\u0430nk admin", looks: "Bank admin"},             // Cyrillic а
		{name: "Bank \u0430dmin", looks: "Bank admin"},             // in the other word
		{name: "B\u0391NK ADMIN", looks: "Bank admin"},             // Greek capital alpha
		{name: "\u0440\u0430\u0443\u0440\u0430l", looks: "paypal"}, // Cyrillic р а у р а and a Latin l
		{name: "Jo B1oggs", looks: "Jo Bloggs"},                    // the digit one for an l
		{name: "Bank \u0430dmin 2", mixed: true},                   // no twin, but a mixed word
		{name: "Mos\u043aва", mixed: true},
		{name: "Cafe", accepted: true}, // an accent is a different letter
		{name: "Café Москва", accepted: true},
		{name: "東京タワー", accepted: true}, // Han with Katakana
		{name: "Bank admin 2", accepted: true},
	} {
		err := CheckNewName("name", "credential", tc.name, slices.Values(existing))
		var ee *ExistsError
		var ce *ConfusableError
		var ie *InputError
		switch {
		case tc.accepted:
			if err != nil {
				t.Errorf("%q: %v", tc.name, err)
			}
		case tc.exists != "":
			if !errors.As(err, &ee) || ee.Name != tc.exists || ee.Kind != "credential" || !errors.Is(err, ErrExists) {
				t.Errorf("%q: %v, want it to exist as %q", tc.name, err, tc.exists)
			}
		case tc.looks != "":
			if !errors.As(err, &ce) || ce.Existing != tc.looks || !errors.As(err, &ie) || ie.Field != "name" || !errors.Is(err, ErrInvalid) ||
				!strings.Contains(err.Error(), `"`+tc.looks+`"`) {
				t.Errorf("%q: %v, want it to look like %q", tc.name, err, tc.looks)
			}
			if strings.Contains(err.Error(), tc.name) {
				t.Errorf("%q: the error quotes the input: %v", tc.name, err)
			}
		case tc.mixed:
			if !errors.As(err, &ie) || ie.Field != "name" || errors.As(err, &ce) || !strings.Contains(err.Error(), "Latin and Cyrillic") &&
				!strings.Contains(err.Error(), "Cyrillic and Latin") {
				t.Errorf("%q: %v, want a mixed-script error", tc.name, err)
			}
		}
	}
}

func TestSkeleton(t *testing.T) {
	for _, p := range [][2]string{{"B\u0430nk", "bank"}, {"modern", "modem"}, {"ad\u043cin", "ADMIN"}, {"B\u0410NK", "BANK"}, {"\u041a\u0415\u0423", "key"}, {"0ffice", "Office"}} {
		if Skeleton(p[0]) != Skeleton(p[1]) {
			t.Errorf("%q and %q should look alike: %q, %q", p[0], p[1], Skeleton(p[0]), Skeleton(p[1]))
		}
	}
	if Skeleton("Bank") == Skeleton("Bunk") {
		t.Error("Bank and Bunk look alike")
	}
}

func FuzzNormaliseName(f *testing.F) {
	for _, s := range []string{"Bank admin", "Cafe\u0301", "B\u0430nk", "Ｂａｎｋ", "", "\x00", "ΣΊΣΥΦΟΣ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormaliseName("name", "user", s)
		if err != nil {
			return
		}
		// The stored form is a fixed point, and has the key of its input.
		if again, err := NormaliseName("name", "user", n); err != nil || again != n {
			t.Fatalf("%q -> %q -> %q, %v", s, n, again, err)
		}
		if NameKey(n) != NameKey(s) {
			t.Fatalf("%q and its stored form %q have different keys", s, n)
		}
		_ = CheckNewName("name", "user", n, slices.Values([]string{s, "Bank admin"}))
	})
}
