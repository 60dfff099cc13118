package transfer

import (
	"errors"
	"os"
	"strings"
	"testing"

	"strongroom/transfer/kdbxmatrix"
)

// kdbxKey is what opens c, given as the CLI gives it: an empty
// password file is EmptyPassword.
func kdbxKey(t *testing.T, c kdbxmatrix.Case) KDBXKey {
	var k KDBXKey
	if c.Password != nil {
		k.Password, k.EmptyPassword = []byte(*c.Password), *c.Password == ""
	}
	if c.KeyFile != "" {
		b, err := os.ReadFile(c.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		k.KeyFile = b
	}
	return k
}

// kdbxMatrix makes the import matrix, by case name.
func kdbxMatrix(t *testing.T) map[string]kdbxmatrix.Case {
	cases := map[string]kdbxmatrix.Case{}
	for _, c := range kdbxmatrix.Make(t) {
		cases[c.Name] = c
	}
	return cases
}

// Every database of the matrix decodes to what pykeepass wrote, in
// Strongroom's own reader; Argon2d ones are recognised from the header
// and refused with the ways round (the CLI has keepassxc-cli read them).
func TestDecodeKDBXMatrix(t *testing.T) {
	for _, c := range kdbxMatrix(t) {
		t.Run(c.Name, func(t *testing.T) {
			data, err := os.ReadFile(c.File)
			if err != nil {
				t.Fatal(err)
			}
			if UsesArgon2d(data) != (c.KDF == "argon2") {
				t.Fatalf("UsesArgon2d = %v for KDF %s", UsesArgon2d(data), c.KDF)
			}
			r, err := DecodeKDBX(data, kdbxKey(t, c))
			if c.KDF == "argon2" {
				if !errors.Is(err, ErrArgon2d) || !strings.Contains(err.Error(), "keepassxc-cli") || !strings.Contains(err.Error(), "--format keepass-xml") {
					t.Fatalf("argon2d: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Items come in the file's order, groups first: match by title.
			order := map[string]int{}
			for i, it := range r.Items {
				order[it.Title] = i
			}
			items := make([]want, len(r.Items))
			var skipped []string
			for _, e := range c.Entries {
				if e.Skip != "" {
					reason := map[string]string{"recycle bin": "in the recycle bin", "no password": "no password",
						"attachment not imported": "an attachment not imported (Strongroom stores no files)"}[e.Skip]
					skipped = append(skipped, e.Title+": "+reason)
				}
				if e.Imported() {
					i, ok := order[e.Title]
					if !ok {
						t.Fatalf("%s not decoded", e.Title)
					}
					if got := len(r.Items[i].History); got != e.History {
						t.Errorf("%s: %d earlier versions, pykeepass wrote %d", e.Title, got, e.History)
					}
					items[i] = want{title: e.Title, user: e.Username, password: e.Password, url: e.URL, folder: e.Folder,
						tags: e.Tags, totpHas: e.OTP, notesHas: []string{e.Notes}}
				}
			}
			check(t, r, items, skipped)
		})
	}
}
