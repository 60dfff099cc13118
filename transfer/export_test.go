package transfer

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// exportOTPCases are the TOTP forms an export writes, as exact fields.
var exportOTPCases = []struct {
	in     string
	otp    string // "" means the input unchanged
	fields [][2]string
}{
	{in: "otpauth://totp/Bank?issuer=Strongroom&secret=JBSWY3DPEHPK3PXP",
		fields: [][2]string{{"TimeOtp-Secret-Base32", "JBSWY3DPEHPK3PXP"}}},
	{in: "otpauth://totp/Bank?algorithm=SHA256&digits=8&issuer=Strongroom&period=60&secret=JBSWY3DPEHPK3PXP",
		fields: [][2]string{{"TimeOtp-Secret-Base32", "JBSWY3DPEHPK3PXP"}, {"TimeOtp-Length", "8"}, {"TimeOtp-Period", "60"},
			{"TimeOtp-Algorithm", "HMAC-SHA-256"}}},
	{in: "otpauth://totp/Bank?algorithm=SHA512&digits=7&secret=jbswy3dpehpk3pxp",
		fields: [][2]string{{"TimeOtp-Secret-Base32", "JBSWY3DPEHPK3PXP"}, {"TimeOtp-Length", "7"}, {"TimeOtp-Algorithm", "HMAC-SHA-512"}}},
	{in: "otpauth://totp/Bank?digits=6&period=30&secret=JBSWY3DPEHPK3PXP",
		fields: [][2]string{{"TimeOtp-Secret-Base32", "JBSWY3DPEHPK3PXP"}}},
	// KeePass makes at most 8 digits and no Steam codes: otp alone.
	{in: "otpauth://totp/Bank?digits=10&secret=JBSWY3DPEHPK3PXP"},
	{in: "otpauth://totp/Steam?encoder=steam&issuer=Steam&secret=JBSWY3DPEHPK3PXP",
		otp: "otpauth://totp/Steam?digits=5&encoder=steam&issuer=Steam&period=30&secret=JBSWY3DPEHPK3PXP"},
	{in: "otpauth://totp/Bank?algorithm=MD5&secret=JBSWY3DPEHPK3PXP"},
	{in: "otpauth://hotp/Bank?secret=JBSWY3DPEHPK3PXP&counter=1"},
	{in: "JBSWY3DPEHPK3PXP"},
	{in: "otpauth://totp/Bank?period=0&secret=JBSWY3DPEHPK3PXP"},
}

func TestExportOTP(t *testing.T) {
	for _, c := range exportOTPCases {
		otp, fields := exportOTP(c.in)
		want := c.otp
		if want == "" {
			want = c.in
		}
		if otp != want || !reflect.DeepEqual(fields, c.fields) {
			t.Errorf("exportOTP(%q) = %q, %v; want %q, %v", c.in, otp, fields, want, c.fields)
		}
	}
}

func TestExportTag(t *testing.T) {
	for in, want := range map[string]string{"plain": "plain", "a,b": "a，b", "x;y;z": "x；y；z", "a:b": "a:b", "two words": "two words"} {
		if got := ExportTag(in); got != want {
			t.Errorf("ExportTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// An export keeps the vault's times, the earlier versions (dated) and
// tags whole, and declares its recycle bin; our own decoder reads it.
func TestKDBXExportHistoryTimesTags(t *testing.T) {
	created := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	modified := time.Date(2024, 8, 9, 10, 11, 12, 0, time.UTC)
	items := []Item{{Title: "Bank", Username: "treasurer", Password: []byte("third-pw"), Folder: "shared",
		Tags: []string{"finance, audit", "a;b"}, Created: created, Modified: modified,
		TOTP: "otpauth://totp/Bank?digits=8&secret=JBSWY3DPEHPK3PXP",
		History: []Past{
			{Username: "treasurer", Password: []byte("first-pw"), Date: created},
			{Username: "old-treasurer", Password: []byte("second-pw"), TOTP: "otpauth://totp/Bank?secret=GEZDGNBVGY3TQOJQ", Date: created.Add(48 * time.Hour)},
		}}}
	doc := keePassXML(items, KDBXOptions{Name: "Strongroom export", Now: modified.Add(time.Hour)})
	s := xmlString(doc)
	for _, want := range []string{"<RecycleBinEnabled>True</RecycleBinEnabled>", "<Name>Recycle Bin</Name>",
		"<Tags>finance， audit;a；b</Tags>", "<Key>TimeOtp-Secret-Base32</Key>", "<Key>TimeOtp-Length</Key><Value>8</Value>",
		"<CreationTime>" + kdbxTime(created) + "</CreationTime><LastModificationTime>" + kdbxTime(modified) + "<"} {
		if !strings.Contains(s, want) {
			t.Errorf("document lacks %s:\n%s", want, s)
		}
	}
	meta, bin := doc.child("Meta"), doc.child("Root").child("Group").Children
	if id := meta.text("RecycleBinUUID"); id == "" || bin[len(bin)-1].text("UUID") != id {
		t.Fatalf("RecycleBinUUID %q is not the last group of the root", id)
	}
	out, err := EncodeKDBX(items, []byte("export-pass"), KDBXOptions{MemoryKiB: 1024, Iterations: 1, Now: modified})
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeKDBX(out, KDBXKey{Password: []byte("export-pass")})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Items) != 1 || len(r.Items[0].History) != 2 {
		t.Fatalf("read back %d items: %+v", len(r.Items), r.Items)
	}
	h := r.Items[0].History
	if string(h[0].Password) != "first-pw" || !h[0].Date.Equal(created) || string(h[1].Password) != "second-pw" ||
		h[1].Username != "old-treasurer" || !h[1].Date.Equal(created.Add(48*time.Hour)) {
		t.Fatalf("history read back: %+v", h)
	}
	if got := r.Items[0].Tags; !reflect.DeepEqual(got, []string{"finance, audit", "a;b"}) { // mapped back: the file is our export
		t.Fatalf("tags read back %q", got)
	}
}

func xmlString(n *node) string {
	var b strings.Builder
	var walk func(n *node)
	walk = func(n *node) {
		b.WriteString("<" + n.Name + ">" + string(n.Text))
		for _, c := range n.Children {
			walk(c)
		}
		b.WriteString("</" + n.Name + ">")
	}
	walk(n)
	return b.String()
}

// FuzzExportOTP: any TOTP string gives an otp field, and TimeOtp fields
// only with a secret and a length KeePass can make.
func FuzzExportOTP(f *testing.F) {
	for _, c := range exportOTPCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		otp, fields := exportOTP(in)
		if in != "" && otp == "" {
			t.Fatal("no otp field")
		}
		for i, kv := range fields {
			switch {
			case i == 0 && (kv[0] != "TimeOtp-Secret-Base32" || kv[1] == ""):
				t.Fatalf("first field %q", kv[0])
			case kv[0] == "TimeOtp-Length" && (len(kv[1]) != 1 || kv[1] < "1" || kv[1] > "8"):
				t.Fatalf("length %q", kv[1])
			}
		}
	})
}

// Strongroom's own export gives its tags back whole, "," and ";"
// included; in any other file "，" and "；" are the user's own and stay.
func TestExportTagsRoundTrip(t *testing.T) {
	tags := []string{"finance, audit", "a;b", "plain", "wide，already"}
	out, err := EncodeKDBX([]Item{{Title: "Bank", Password: []byte("bank-pw"), Tags: tags}}, []byte("export-pass"),
		KDBXOptions{MemoryKiB: 64, Iterations: 1, Lanes: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeKDBX(out, KDBXKey{Password: []byte("export-pass")})
	if err != nil {
		t.Fatal(err)
	}
	// "wide，already" was the user's "，": the export cannot tell it from a
	// mapped ",", so it comes back as ",". Recorded, not hidden.
	check(t, r, []want{{title: "Bank", password: "bank-pw", tags: []string{"finance, audit", "a;b", "plain", "wide,already"}}}, nil)

	other := `<KeePassFile><Meta><Generator>KeePassXC</Generator></Meta><Root><Group><Name>Root</Name><Entry>` +
		`<String><Key>Title</Key><Value>Bank</Value></String><String><Key>Password</Key><Value>bank-pw</Value></String>` +
		`<Tags>finance，audit;a；b</Tags></Entry></Group></Root></KeePassFile>`
	r, err = DecodeKeePassXML([]byte(other))
	if err != nil {
		t.Fatal(err)
	}
	check(t, r, []want{{title: "Bank", password: "bank-pw", tags: []string{"finance，audit", "a；b"}}}, nil)
	marked := strings.Replace(other, "</Generator>", "</Generator><CustomData><Item><Key>"+ExportMarker+"</Key><Value>fullwidth , ;</Value></Item></CustomData>", 1)
	if r, err = DecodeKeePassXML([]byte(marked)); err != nil {
		t.Fatal(err)
	}
	check(t, r, []want{{title: "Bank", password: "bank-pw", tags: []string{"finance,audit", "a;b"}}}, nil)
}
