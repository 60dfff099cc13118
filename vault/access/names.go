package access

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// The name rule, for people and credentials alike.
//
// A name is stored in the form the PRECIS Nickname profile (RFC 8266, over
// the FreeformClass of RFC 8264) gives it: NFKC, spaces of every kind
// mapped to U+0020, leading and trailing spaces trimmed, inner runs of
// spaces collapsed to one; case is kept for display. Nickname is the
// profile for "a memorable, human-friendly name" and is the right one
// here: people sign in as "Jo Bloggs" and credentials are called "Bank
// admin", and the Username profiles of RFC 8265 (IdentifierClass) forbid
// the space; OpaqueString is for passwords and keeps width and
// compatibility variants apart, so "Ｂａｎｋ" and "Bank" would be two names.
//
// Two names are the same name when their keys (NameKey) are equal: the
// Nickname comparison form (lower case, NFKC) folded once more with full
// Unicode case folding, so "Straße" and "STRASSE", "Café" in NFC and in
// NFD, are one name.
//
// A name that is not the same as an existing one but is drawn like it is
// refused too (CheckNewName): its UTS #39 skeleton (Skeleton) equals the
// existing one's, as a Cyrillic "а" inside "Bank admin" makes it, or it
// has a word that mixes scripts (a Latin word with one Greek letter).

// MaxNameLen is the longest name, in characters of its stored form.
const MaxNameLen = 100

// NormaliseName is the stored form of a name typed for field (the input's
// name, "name" or "assignees"); what ("user", "credential") words the
// message. It refuses, with an InputError on field that never quotes the
// name, an empty name, one over MaxNameLen characters, invalid UTF-8 and
// characters PRECIS disallows (controls, unassigned code points).
func NormaliseName(field, what, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", Invalid(field, "%s name is not valid UTF-8", what)
	}
	if len(s) > 4*4*MaxNameLen {
		// NFKC grows a string by at most a small factor; far longer input
		// cannot become a short name.
		return "", Invalid(field, "%s name must be 1 to %d characters", what, MaxNameLen)
	}
	n, err := precis.Nickname.String(s)
	if err != nil {
		if strings.TrimSpace(s) == "" {
			return "", Invalid(field, "%s name must be 1 to %d characters", what, MaxNameLen)
		}
		return "", Invalid(field, "%s name has a character that is not allowed in names (a control or unassigned character)", what)
	}
	if n == "" || utf8.RuneCountInString(n) > MaxNameLen {
		return "", Invalid(field, "%s name must be 1 to %d characters", what, MaxNameLen)
	}
	for _, r := range n {
		if !unicode.IsPrint(r) {
			return "", Invalid(field, "%s name has a character that cannot be printed", what)
		}
	}
	return n, nil
}

// NameKey is the key two names are compared by: equal keys, same name.
// It is total: a name stored before the rule (that NormaliseName would
// refuse) still has a key, its NFKC case fold.
func NameKey(name string) string {
	k, err := precis.Nickname.CompareKey(name)
	if err != nil {
		k = name
	}
	return norm.NFKC.String(cases.Fold().String(k)) // a Caser is not safe to share
}

// Skeleton is the UTS #39 skeleton of a name, made case-blind: its stored
// form case folded, NFD, each character replaced by the Latin letters it
// is drawn like (the table in confusables.go) until nothing changes (two
// passes: the table's targets are ASCII, and of ASCII only "m", "0" and
// "1" are mapped), NFD again. Names with equal skeletons look the same to
// a reader, in some case.
func Skeleton(name string) string {
	n, err := precis.Nickname.String(name)
	if err != nil {
		n = norm.NFKC.String(name)
	}
	d := norm.NFD.String(cases.Fold().String(n))
	return norm.NFD.String(lookalikes(lookalikes(d)))
}

func lookalikes(s string) string {
	var b strings.Builder
	for _, r := range s {
		if t, ok := confusables[r]; ok {
			b.WriteString(t)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ConfusableError says a new name looks like an existing one. It unwraps
// to an InputError on Field, so the API and the web show it as a field
// error. Its message names the existing record: a caller that may not know
// of it (a credential the caller may not see) must not pass it on.
type ConfusableError struct {
	Field, Kind, Existing string
}

func (e *ConfusableError) Error() string { return "vault: invalid input: " + e.msg() }
func (e *ConfusableError) Unwrap() error { return &InputError{Field: e.Field, Msg: e.msg()} }

func (e *ConfusableError) msg() string {
	return fmt.Sprintf("the name looks the same as the existing %s %q (letters from another alphabet, or a case or accent variant); choose a name that reads differently",
		e.Kind, e.Existing)
}

// CheckNewName refuses a new name (in its stored form) that is an existing
// name, or is drawn like one, or mixes scripts within a word. existing
// yields the stored names of the records of that kind (what: "user",
// "credential"). The answers, in this order:
//   - the same key as an existing name: an ExistsError naming the existing
//     one, as stored;
//   - the same skeleton: a ConfusableError naming the existing one;
//   - a word mixing scripts: an InputError on field that names the scripts,
//     not the word.
func CheckNewName(field, what, name string, existing iter.Seq[string]) error {
	key, skel := NameKey(name), Skeleton(name)
	var look string
	for x := range existing {
		if NameKey(x) == key {
			return &ExistsError{Kind: what, Name: x}
		}
		if look == "" && Skeleton(x) == skel {
			look = x
		}
	}
	if look != "" {
		return &ConfusableError{Field: field, Kind: what, Existing: look}
	}
	return MixedScript(field, what, name)
}

// MixedScript refuses a name with a word whose letters come from more than
// one script, by the "highly restrictive" level of UTS #39 §5.2 applied to
// each word: a word is in one script (Common and Inherited characters,
// such as digits, punctuation and accents, count for any), or in Latin
// with the scripts of Chinese, Japanese or Korean writing.
func MixedScript(field, what, name string) error {
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) }) {
		seen := wordScripts(w)
		if len(seen) > 1 && !allowedTogether(seen) {
			slices.Sort(seen)
			return Invalid(field, "a word of the %s name mixes letters of different alphabets (%s); write each word in one alphabet", what,
				strings.Join(seen, " and "))
		}
	}
	return nil
}

// scripts are the scripts a name's letters are looked up in first, most
// likely first; the others follow, from the standard library's table.
var scripts = []string{"Latin", "Cyrillic", "Greek", "Armenian", "Georgian", "Hebrew", "Arabic", "Han", "Hiragana", "Katakana",
	"Hangul", "Bopomofo", "Devanagari", "Bengali", "Tamil", "Thai", "Ethiopic", "Cherokee", "Coptic"}

// wordScripts lists the scripts of w's letters, in order of first use.
func wordScripts(w string) []string {
	var seen []string
	add := func(s string) {
		for _, x := range seen {
			if x == s {
				return
			}
		}
		seen = append(seen, s)
	}
	for _, r := range w {
		if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
			continue
		}
		add(scriptOf(r))
	}
	return seen
}

func scriptOf(r rune) string {
	for _, s := range scripts {
		if unicode.Is(unicode.Scripts[s], r) {
			return s
		}
	}
	for s, t := range unicode.Scripts {
		if unicode.Is(t, r) {
			return s
		}
	}
	return "Unknown"
}

// allowedTogether: the script sets UTS #39 "highly restrictive" allows,
// Latin with Han, Hiragana and Katakana (Japanese), Han and Bopomofo
// (Chinese), or Han and Hangul (Korean).
func allowedTogether(seen []string) bool {
	for _, set := range [][]string{{"Latin", "Han", "Hiragana", "Katakana"}, {"Latin", "Han", "Bopomofo"}, {"Latin", "Han", "Hangul"}} {
		all := true
		for _, s := range seen {
			in := false
			for _, x := range set {
				in = in || x == s
			}
			all = all && in
		}
		if all {
			return true
		}
	}
	return false
}
