package transfer

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// fuzzLimits keep a mutated file's key derivation cheap, so the fuzzer
// spends its time in the parsers.
var fuzzLimits = kdfLimits{argonMemory: 64 << 10, argonTime: 2, argonLanes: 2, aesRounds: 1_000_000}

// checkItems checks a decoder's answer to input: an error is a
// FormatError or ErrBadKey and quotes no part of input.
func checkItems(t *testing.T, input []byte, r *Result, err error) {
	t.Helper()
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) && !errors.Is(err, ErrBadKey) {
			t.Fatalf("error of an unexpected kind: %v", err)
		}
		if w := quotedInput(err.Error(), input); w != "" {
			t.Fatalf("the error %q quotes the input (%q)", err, w)
		}
		if r != nil {
			t.Fatal("a result with an error")
		}
		return
	}
	for _, it := range r.Items {
		// A login with only an authenticator seed is kept (its password
		// empty), as the KeePass and Bitwarden imports do since issue 19.
		if it.Title == "" || len(it.Password) == 0 && it.TOTP == "" {
			t.Fatalf("an item with no title, or neither password nor TOTP: %v", it)
		}
	}
}

// quotedWindow is the length of a piece of input that an error must not
// contain: long enough that no fixed message text turns up in a fuzzed
// file by chance.
const quotedWindow = 16

// formatWords are names the formats define (the Bitwarden CSV columns):
// an error may name them, and a fuzzed file built from a seed holds them
// too, so they are taken out of a message before it is compared with the
// input (the fuzzer found "login_password c", the column named in a fixed
// message and the start of "column").
var formatWords = strings.NewReplacer("login_password", "·", "login_username", "·", "login_totp", "·", "login_uri", "·",
	"collections", "·", "reprompt", "·")

// quotedInput is a piece of msg, quotedWindow bytes long, that also occurs
// in input ("" if none), the format's own words aside.
func quotedInput(msg string, input []byte) string {
	msg = formatWords.Replace(msg)
	for i := 0; i+quotedWindow <= len(msg); i++ {
		if bytes.Contains(input, []byte(msg[i:i+quotedWindow])) {
			return msg[i : i+quotedWindow]
		}
	}
	return ""
}

func FuzzDecodeKDBX(f *testing.F) {
	// Seeds (the fuzzer needs them without outside tools, so they are
	// committed; the tests' KeePass files are made at test time by
	// make_kdbx_matrix.py): seed_kdbx31_keepassxc.kdbx is what
	// `keepassxc-cli import -p keepassxc_council.xml` wrote (KDBX 3.1,
	// AES-KDF at its least, 1M rounds), seed_kdbx4_cheap.kdbx a Strongroom
	// export with 8 KiB Argon2id; both open with "fixture-pass".
	for _, name := range []string{"seed_kdbx31_keepassxc.kdbx", "seed_kdbx4_cheap.kdbx"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := decodeKDBX(b, KDBXKey{Password: []byte("fixture-pass")}, fuzzLimits); err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb, 0x4b, 0xb5, 0, 0, 4, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeKDBX(data, KDBXKey{Password: []byte("fixture-pass")}, fuzzLimits)
		checkItems(t, data, r, err)
	})
}

func FuzzDecodeBitwardenJSON(f *testing.F) {
	f.Add(read(f, "good_bitwarden.json"))
	f.Add([]byte(`{"encrypted":false,"folders":[{"id":"a","name":"F"}],"items":[{"type":1,"name":"","folderId":"a","login":{"uris":[{"uri":"https://x.example"}],"password":"p"}}]}`))
	f.Add([]byte("\xef\xbb\xbf" + `{"items":[{"type":1,"name":"A","fields":[{"type":3}],"login":{"password":"p","totp":"steam://AB","fido2Credentials":[{}]},` +
		`"passwordHistory":[{"lastUsedDate":"2024-05-01T10:00:00.000Z","password":"o"},{"lastUsedDate":null}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeBitwardenJSON(data)
		checkItems(t, data, r, err)
	})
}

func FuzzDecodeBitwardenCSV(f *testing.F) {
	f.Add(read(f, "good_bitwarden.csv"))
	f.Add(read(f, "good_bitwarden_org.csv"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeBitwardenCSV(data)
		checkItems(t, data, r, err)
	})
}

func FuzzDecodeCSV(f *testing.F) {
	f.Add(read(f, "good_generic.csv"), "")
	f.Add(read(f, "good_generic.csv"), "title=Renewal,password=Login")
	f.Add([]byte("a,b\n1,2\n"), "title=a,password=b,notes=a")
	f.Add([]byte("url,username,password,httpRealm,formActionOrigin,guid\nhttps://a.example,u,p,,,g\n"), "")
	f.Add([]byte("url,username,password,totp,extra,name,grouping,fav\nhttps://a.example,u,p,,,A,F/G,0\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, mapping string) {
		m, err := ParseCSVMap(mapping)
		if err != nil {
			return
		}
		r, err := DecodeCSV(data, m)
		checkItems(t, append(append([]byte(nil), data...), mapping...), r, err)
	})
}

// FuzzKeePassXML fuzzes what lies inside the container: the XML tree,
// the protected-value stream and the entry reader.
func FuzzKeePassXML(f *testing.F) {
	f.Add(read(f, "keepassxc_council.xml"))
	f.Add(read(f, "keepassxc_council_customdata.xml"))
	f.Add([]byte(`<KeePassFile><Root><Group><Entry><String><Key>Password</Key><Value>n</Value></String><History><Entry><Times>` +
		`<LastModificationTime>AAAAAAAAAAA=</LastModificationTime></Times></Entry><Entry><Times><LastModificationTime>2022-03-04T05:06:07Z` +
		`</LastModificationTime></Times></Entry></History><String><Key>TOTP Seed</Key><Value>AB</Value></String>` +
		`<String><Key>TOTP Settings</Key><Value>30;S</Value></String></Entry></Group></Root></KeePassFile>`))
	f.Add([]byte(`<KeePassFile><Root><Group><Entry><String><Key>Password</Key><Value Protected="True">AAAA</Value></String></Entry></Group></Root></KeePassFile>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeKeePassXML(data)
		checkItems(t, data, r, err)
		root, err := parseXML(kdbxName, data)
		if err != nil {
			return
		}
		if err := unprotect(root, streamChaCha20, []byte("key")); err != nil {
			return
		}
		r, err = readKeePassXML(root)
		checkItems(t, data, r, err)
	})
}
