package transfer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// want is what a test expects of one item; empty fields are not checked
// except Password, Folder and Tags, which always are.
type want struct {
	title, user, password, url, folder string
	tags                               []string
	totpHas                            string // a substring of the TOTP URI ("" = no TOTP)
	notesHas                           []string
}

func check(t *testing.T, r *Result, items []want, skipped []string) {
	t.Helper()
	if len(r.Items) != len(items) {
		var got []string
		for _, it := range r.Items {
			got = append(got, it.Title)
		}
		t.Fatalf("got %d items %q, want %d", len(r.Items), got, len(items))
	}
	for i, w := range items {
		it := r.Items[i]
		if it.Title != w.title || string(it.Password) != w.password || it.Folder != w.folder ||
			(w.user != "" && it.Username != w.user) || (w.url != "" && it.URL != w.url) {
			t.Errorf("item %d = %q/%q/%q/%q folder %q; want %q/%q/%q/%q folder %q", i, it.Title, it.Username, it.Password, it.URL, it.Folder,
				w.title, w.user, w.password, w.url, w.folder)
		}
		if len(it.Tags) != 0 || len(w.tags) != 0 {
			got, exp := append([]string(nil), it.Tags...), append([]string(nil), w.tags...)
			sort.Strings(got)
			sort.Strings(exp)
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("%s: tags %q, want %q", w.title, it.Tags, w.tags)
			}
		}
		if (w.totpHas == "") != (it.TOTP == "") || !strings.Contains(it.TOTP, w.totpHas) {
			t.Errorf("%s: TOTP %q, want it to hold %q", w.title, it.TOTP, w.totpHas)
		}
		for _, n := range w.notesHas {
			if !bytes.Contains(it.Notes, []byte(n)) {
				t.Errorf("%s: notes %q lack %q", w.title, it.Notes, n)
			}
		}
	}
	var reasons []string
	for _, s := range r.Skipped {
		reasons = append(reasons, s.Title+": "+s.Reason)
	}
	if !reflect.DeepEqual(reasons, skipped) && !(len(reasons) == 0 && len(skipped) == 0) {
		t.Errorf("skipped %q, want %q", reasons, skipped)
	}
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The council's file as testdata/keepassxc_council.xml holds it.
var councilKeePass = []want{
	{title: "Website host", user: "clerk@parish.example", password: "river-candle-orbit", url: "https://host.example/login",
		tags: []string{"hosting", "website"}, notesHas: []string{"Renewal due in May.\nSecond line & more.", "KeePass fields:\nSupport PIN: 4471"}},
	{title: "Facebook page", user: "parish.social", password: "tulip-marble-glacier", folder: "Social",
		totpHas: "secret=JBSWY3DPEHPK3PXPJBSWY3DP"},
	{title: "YouTube", user: "parishtube", password: "anchor-velvet-summit", folder: "Social/Video",
		totpHas: "digits=8&period=60&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
}

func TestKeePassXML(t *testing.T) {
	r, err := DecodeKeePassXML(read(t, "keepassxc_council.xml"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, r, councilKeePass, []string{"Old router: in the recycle bin"})
	if _, err := DecodeKeePassXML([]byte(`<KeePassFile><Root><Group><Entry><String><Key>Password</Key><Value Protected="True">AAAA</Value></String></Entry></Group></Root></KeePassFile>`)); err == nil ||
		!strings.Contains(err.Error(), "not an XML export") {
		t.Fatalf("protected XML: %v", err)
	}
}

func TestKDBXRefusals(t *testing.T) {
	// Made at test time: KDBX 4 (Argon2id, AES-256) with a password and
	// an XML v2.0 key file, and KDBX 3.1 (AES-KDF) with a password.
	m := kdbxMatrix(t)
	readFile := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good, kf, k31 := readFile(m["key-xml2"].File), readFile(m["key-xml2"].KeyFile), readFile(m["k31-aes"].File)
	pw := []byte(*m["key-xml2"].Password)
	flip := func(b []byte, i int) []byte { c := append([]byte(nil), b...); c[i] ^= 1; return c }
	// A typo in the key's first hex digit, its check hash unchanged.
	at := bytes.Index(kf, []byte(`">`)) + 2
	typo := append([]byte(nil), kf...)
	if typo[at] = '0'; kf[at] == '0' {
		typo[at] = '1'
	}
	cases := []struct {
		name string
		data []byte
		key  KDBXKey
		want string // substring of the error; "" means ErrBadKey
	}{
		{"wrong password", good, KDBXKey{Password: []byte("matrix-pasS"), KeyFile: kf}, ""},
		{"key file missing", good, KDBXKey{Password: pw}, ""},
		{"other key file", good, KDBXKey{Password: pw, KeyFile: []byte("not the key")}, ""},
		{"key file typo", good, KDBXKey{Password: pw, KeyFile: typo}, "does not match its check hash"},
		{"no key at all", good, KDBXKey{}, "give the file's password"},
		{"wrong password 3.1", k31, KDBXKey{Password: []byte("nope")}, ""},
		{"header byte", flip(good, 60), KDBXKey{Password: pw, KeyFile: kf}, "header"},
		{"payload byte", flip(good, len(good)-80), KDBXKey{Password: pw, KeyFile: kf}, "block 0 is damaged or altered"},
		{"truncated", good[:len(good)-100], KDBXKey{Password: pw, KeyFile: kf}, "truncated"},
		{"truncated header", good[:100], KDBXKey{Password: pw, KeyFile: kf}, "truncated"},
		{"3.1 truncated", k31[:len(k31)-100], KDBXKey{Password: pw}, "truncated"},
		{"not kdbx", []byte("Title,Password\nx,y\n"), KDBXKey{Password: pw}, "not a KeePass database"},
		{"kdb 1.x", append([]byte{0x03, 0xd9, 0xa2, 0x9a, 0x65, 0xfb, 0x4b, 0xb5}, make([]byte, 100)...), KDBXKey{Password: pw}, "KeePass 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := DecodeKDBX(c.data, c.key)
			if err == nil {
				t.Fatalf("decoded %d items", len(r.Items))
			}
			if c.want == "" {
				if !errors.Is(err, ErrBadKey) {
					t.Fatalf("err = %v, want ErrBadKey", err)
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want a FormatError with %q", err, c.want)
			}
		})
	}
}

func TestKDBXRoundTrip(t *testing.T) {
	items := []Item{
		{Title: "Website host", Username: "clerk", Password: []byte("river-candle-orbit"), URL: "https://host.example",
			Notes: []byte("line one\nline <two> & \"three\""), Tags: []string{"admin", "web"}, Folder: "admin"},
		{Title: "Facebook page", Password: []byte("tulip-marble-glacier"), Folder: "shared/Social",
			TOTP: "otpauth://totp/Facebook%20page?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Strongroom"},
		{Title: "Ünïcode ✓", Password: []byte("пароль-密码"), Folder: "shared"},
	}
	out, err := EncodeKDBX(items, []byte("export-pass"), KDBXOptions{MemoryKiB: 1024, Iterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("river-candle-orbit")) || bytes.Contains(out, []byte("Website host")) {
		t.Fatal("plaintext in the export")
	}
	r, err := DecodeKDBX(out, KDBXKey{Password: []byte("export-pass")})
	if err != nil {
		t.Fatal(err)
	}
	// Groups are written in folder order.
	check(t, r, []want{
		{title: "Website host", user: "clerk", password: "river-candle-orbit", url: "https://host.example", folder: "admin",
			tags: []string{"admin", "web"}, notesHas: []string{"line one\nline <two> & \"three\""}},
		{title: "Ünïcode ✓", password: "пароль-密码", folder: "shared"},
		{title: "Facebook page", password: "tulip-marble-glacier", folder: "shared/Social", totpHas: "secret=JBSWY3DPEHPK3PXPJBSWY3DP"},
	}, nil)
	if _, err := DecodeKDBX(out, KDBXKey{Password: []byte("export-pasS")}); !errors.Is(err, ErrBadKey) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := EncodeKDBX(items, nil, KDBXOptions{}); err == nil {
		t.Fatal("an export with no passphrase was written")
	}
}

var councilBitwarden = []want{
	{title: "Facebook page", user: "parish.social", password: "tulip-marble-glacier", url: "https://facebook.com", folder: "Social",
		totpHas: "secret=JBSWY3DPEHPK3PXPJBSWY3DP",
		notesHas: []string{"Page admin for the parish.", "Recovery email: clerk@parish.example", "Security answer: Saint Mary",
			"Other URLs: https://business.facebook.com"}},
	{title: "Bank", user: "treasurer", password: "bank-ledger-copper", url: "https://bank.example", folder: "Finance",
		totpHas: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
	{title: "Website host", user: "clerk@parish.example", password: "river-candle-orbit"},
}

func TestDecodeBitwarden(t *testing.T) {
	r, err := DecodeBitwardenJSON(read(t, "good_bitwarden.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The JSON's linked field is listed (the CSV export has none).
	check(t, r, councilBitwarden, []string{"Facebook page: custom field 3 not imported: it is a linked field, which only points to another field of the item (that field is imported)",
		"Alarm code: a secure note, not a login", "Library wifi: no password"})

	r, err = DecodeBitwardenCSV(read(t, "good_bitwarden.csv"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, r, councilBitwarden, []string{"Alarm code: a secure note, not a login", "Library wifi: no password"})

	r, err = DecodeBitwardenCSV(read(t, "good_bitwarden_org.csv"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, r, []want{{title: "Facebook page", password: "tulip-marble-glacier", tags: []string{"Council", "Social media"}}}, nil)
}

func TestDecodeGenericCSV(t *testing.T) {
	r, err := DecodeCSV(read(t, "good_generic.csv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, r, []want{
		{title: "Website host", user: "clerk@parish.example", password: "river-candle-orbit", url: "https://host.example", folder: "IT",
			notesHas: []string{"Renewal due in May.", "Other columns:\nRenewal: May 2027"}},
		{title: "Facebook page", user: "parish.social", password: "tulip-marble-glacier", folder: "Social"},
	}, []string{"Old printer: no password"})

	m, err := ParseCSVMap("title=Renewal, password=Login")
	if err != nil {
		t.Fatal(err)
	}
	r, err = DecodeCSV(read(t, "good_generic.csv"), m)
	if err != nil {
		t.Fatal(err)
	}
	// Rows whose mapped title is empty, with no URL or user name left to
	// name them by, are skipped and said so.
	check(t, r, []want{{title: "May 2027", password: "clerk@parish.example", url: "https://host.example", folder: "IT",
		notesHas: []string{"Account: Website host", "Password: river-candle-orbit"}}},
		[]string{": no name, URL or user name to name it by", ": no name, URL or user name to name it by"})
}

func TestTextFormatRefusals(t *testing.T) {
	cases := []struct {
		format, data, want string
	}{
		{"bitwarden-json", `{"encrypted": true, "encKeyValidation_DO_NOT_EDIT": "x", "items": []}`, "encrypted Bitwarden export"},
		{"bitwarden-json", `{"folders": []}`, `no "items"`},
		{"bitwarden-json", `{"items": [{"type": "one"}]}`, "a value of the wrong type at byte 25"},
		{"bitwarden-json", `{"items": [`, "malformed JSON"},
		{"bitwarden-json", `{"items": []} {}`, "data after the JSON object"},
		{"bitwarden-json", "{\"items\": [], \"x\": \"\xff\"}", "not UTF-8"},
		{"bitwarden-csv", "name,login_uri\nx,y\n", "the header (line 1, 2 columns) lacks a type, name or login_password column"},
		{"bitwarden-csv", "type,name,login_password\nlogin,a,b\nlogin,c\n", "line 3 has 2 columns; the header has 3"},
		{"csv", "Name,Password\n\"unterminated,x\n", "line 2"},
		{"csv", "Name,Secretish\na,b\n", "no column for the password"},
		{"csv", "", "the file is empty"},
		{"csv", "Name,Password\na,\xff\n", "not UTF-8"},
		{"kdbx", "", "not a KeePass database"},
		{"zip", "", "unknown format"},
	}
	for _, c := range cases {
		r, err := Decode(c.format, []byte(c.data), KDBXKey{Password: []byte("x")}, nil)
		var fe *FormatError
		if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: got %v, %v; want a FormatError with %q", c.format, c.data, r, err, c.want)
		}
	}
	for _, bad := range []string{"title", "title=", "colour=Name", "title=A,title=B"} {
		if _, err := ParseCSVMap(bad); err == nil {
			t.Errorf("ParseCSVMap(%q) accepted", bad)
		}
	}
}

// Items that are not logins are named with the right article ("an
// identity", not "a identity").
func TestBitwardenNotALoginWording(t *testing.T) {
	r, err := DecodeBitwardenJSON([]byte(`{"items":[{"type":4,"name":"Clerk"},{"type":5,"name":"Server"},{"type":9,"name":"Odd"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	csv, err := DecodeBitwardenCSV([]byte("folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n" +
		",,identity,Clerk,,,,,,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range append(r.Skipped, csv.Skipped...) {
		got = append(got, s.Reason)
	}
	want := []string{"an identity, not a login", "an SSH key, not a login", "an item of type 9, not a login", "an identity, not a login"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("reasons %q, want %q", got, want)
	}
}
