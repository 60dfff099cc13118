package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// totpCase is one TOTP form a council's KeePass file may hold, and who
// can check its codes: keepassxc-cli (for what KeePassXC 2.7.4 computes
// right) and oathtool (its arguments: algorithm, digits, period; "" if
// it cannot), or only the last n digits of oathtool's 8 (9 and 10
// digits, which oathtool cannot make and KeePassXC 2.7.4 gets wrong).
type totpCase struct {
	title  string
	fields string // the entry's otp or TOTP fields, as KeePass XML
	kx     bool   // compare with keepassxc-cli show --totp
	oath   []string
}

const totpSeed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func otpField(v string) string {
	return `<String><Key>otp</Key><Value>` + xmlEscape(v) + `</Value></String>`
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

var totpCases = []totpCase{
	{"Default", otpField("otpauth://totp/a?secret=" + totpSeed), true, []string{"--totp", "-d", "6"}},
	{"Five digits", otpField("otpauth://totp/a?secret=" + totpSeed + "&digits=5"), true, nil},
	{"Seven digits", otpField("otpauth://totp/a?secret=" + totpSeed + "&digits=7"), true, []string{"--totp", "-d", "7"}},
	{"Eight SHA256 60s", otpField("otpauth://totp/a?secret=" + totpSeed + "&digits=8&period=60&algorithm=SHA256"), true,
		[]string{"--totp=sha256", "-d", "8", "-s", "60"}},
	{"SHA512", otpField("otpauth://totp/a?secret=" + totpSeed + "&algorithm=sha512"), true, []string{"--totp=sha512", "-d", "6"}},
	{"Ten digits", otpField("otpauth://totp/a?secret=" + totpSeed + "&digits=10"), false, []string{"--totp", "-d", "8"}},
	{"Day period", otpField("otpauth://totp/a?secret=" + totpSeed + "&period=86400"), false, []string{"--totp", "-d", "6", "-s", "86400"}},
	{"Steam", otpField("otpauth://totp/Steam:a?secret=" + totpSeed + "&period=30&digits=6&encoder=steam&issuer=Steam"), true, nil},
	{"Steam legacy", `<String><Key>TOTP Seed</Key><Value>` + totpSeed + `</Value></String><String><Key>TOTP Settings</Key><Value>30;S</Value></String>`, true, nil},
	{"Legacy 8", `<String><Key>TOTP Seed</Key><Value>` + totpSeed + `</Value></String><String><Key>TOTP Settings</Key><Value>30;8</Value></String>`, true,
		[]string{"--totp", "-d", "8"}},
	{"KeeOtp", otpField("key=" + totpSeed + "&size=8&step=60&otpHashMode=SHA256"), true, []string{"--totp=sha256", "-d", "8", "-s", "60"}},
	{"Short seed", otpField("otpauth://totp/a?secret=DFDFDEF%3D"), true, nil},
	{"KeePass 2.47", `<String><Key>TimeOtp-Secret-Base32</Key><Value>` + totpSeed + `</Value></String>` +
		`<String><Key>TimeOtp-Length</Key><Value>8</Value></String><String><Key>TimeOtp-Algorithm</Key><Value>HMAC-SHA-512</Value></String>`,
		false, []string{"--totp=sha512", "-d", "8"}},
}

// refusedTOTP are forms that cannot be kept as a TOTP: each must land
// verbatim in the notes, with the reason.
var refusedTOTP = map[string]string{
	"MD5":         "otpauth://totp/a?secret=" + totpSeed + "&algorithm=MD5",
	"HOTP":        "otpauth://hotp/a?secret=" + totpSeed + "&counter=3",
	"Four digits": "otpauth://totp/a?secret=" + totpSeed + "&digits=4",
}

// TestTOTPFidelity is issue 19's check: every TOTP form above, in a
// KDBX file made by keepassxc-cli, gives in `strongroom cred totp` the
// codes keepassxc-cli and oathtool give at the same moment; short seeds
// and Steam codes work; what cannot be kept is in the notes verbatim.
func TestTOTPFidelity(t *testing.T) {
	kxc := keepassxc(t)
	oath := needTool(t, "oathtool", "oathtool")
	v := newProvisioned(t)
	files := t.TempDir() // the plain files a council brings: outside the vault's directory, which is swept for secrets
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0" encoding="UTF-8"?><KeePassFile><Meta><Generator>test</Generator></Meta><Root><Group>` +
		`<UUID>AAAAAAAAAAAAAAAAAAAAAQ==</UUID><Name>Root</Name>`)
	n := 0
	entry := func(title, fields string) {
		n++
		uuid := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("entry-uuid-%05d", n)))
		doc.WriteString(`<Entry><UUID>` + uuid + `</UUID><String><Key>Title</Key><Value>` + title + `</Value></String>` +
			`<String><Key>Password</Key><Value>pw-` + title + `</Value></String>` + fields + `</Entry>`)
	}
	for _, c := range totpCases {
		entry(c.title, c.fields)
	}
	for title, uri := range refusedTOTP {
		entry(title, otpField(uri))
	}
	doc.WriteString(`</Group></Root></KeePassFile>`)
	src := write(t, filepath.Join(files, "totp.xml"), doc.String())
	db := filepath.Join(files, "totp.kdbx")
	kx(t, kxc, "kx-totp-pass\nkx-totp-pass\n", "import", "-q", "-p", src, db)
	kxPass := write(t, filepath.Join(v.work, "kxt.pw"), "kx-totp-pass")
	out := v.provider.must(0, "import", "--format", "kdbx", db, "--password-file", kxPass, "--kind", "shared")
	if !strings.Contains(out, fmt.Sprintf("Imported %d credentials", n)) {
		t.Fatalf("import: %s", out)
	}
	ours := func(title string) (string, string) {
		var tc struct{ Code, Warning string }
		json.Unmarshal([]byte(v.provider.must(0, "cred", "totp", title, "--json")), &tc)
		return tc.Code, tc.Warning
	}
	// same checks other against our code just before and just after it,
	// so a step boundary between the two cannot fail the test.
	same := func(title, who string, other func() string, suffix int) {
		t.Helper()
		before, _ := ours(title)
		got := other()
		after, _ := ours(title)
		trim := func(s string) string { return s[max(0, len(s)-suffix):] }
		if suffix > 0 && trim(got) != trim(before) && trim(got) != trim(after) || suffix == 0 && got != before && got != after {
			t.Errorf("%s: %s gives %q, Strongroom %q then %q", title, who, got, before, after)
		}
	}
	secretOf := func(fields string) string {
		if strings.Contains(fields, "DFDFDEF") {
			return "DFDFDEF"
		}
		return totpSeed
	}
	for _, c := range totpCases {
		code, _ := ours(c.title)
		if code == "" {
			t.Errorf("%s: no TOTP code", c.title)
			continue
		}
		if c.kx {
			same(c.title, "keepassxc-cli", func() string {
				return strings.TrimSpace(kx(t, kxc, "kx-totp-pass\n", "show", "-q", "--totp", db, c.title))
			}, 0)
		}
		if c.oath != nil {
			suffix := 0
			if c.title == "Ten digits" {
				suffix = 8
			}
			same(c.title, "oathtool", func() string {
				o, err := exec.Command(oath, append(append([]string{}, c.oath...), "-b", secretOf(c.fields))...).Output()
				if err != nil {
					t.Fatalf("oathtool: %v", err)
				}
				return strings.TrimSpace(string(o))
			}, suffix)
		}
	}
	if c, _ := ours("Steam"); len(c) != 5 || strings.Trim(c, "23456789BCDFGHJKMNPQRTVWXY") != "" {
		t.Errorf("Steam code %q is not 5 characters of Steam's alphabet", c)
	}
	if c, _ := ours("Ten digits"); len(c) != 10 {
		t.Errorf("10-digit code %q", c)
	}
	if _, warn := ours("Short seed"); !strings.Contains(warn, "RFC 4226's 128-bit minimum") {
		t.Errorf("short seed: warning %q", warn)
	}
	for title, uri := range refusedTOTP {
		if !strings.Contains(out, title) || !regexp.MustCompile(regexp.QuoteMeta(title)+`.*TOTP kept in the notes, not as a TOTP`).MatchString(out) {
			t.Errorf("import output does not say %s's TOTP went to the notes:\n%s", title, out)
		}
		var sec struct {
			Notes   string
			HasTOTP bool `json:"has_totp"`
		}
		json.Unmarshal([]byte(v.provider.must(0, "cred", "get", title, "--json")), &sec)
		if sec.HasTOTP || !strings.Contains(sec.Notes, "TOTP kept here, not as a TOTP, because") || !strings.Contains(sec.Notes, uri) {
			t.Errorf("%s: notes %q (has TOTP %v), want the URI verbatim with the reason", title, sec.Notes, sec.HasTOTP)
		}
	}

	// Bitwarden: steam:// and its own short-seed fixture.
	bw := write(t, filepath.Join(files, "bw.json"), `{"encrypted":false,"items":[`+
		`{"type":1,"name":"BW Steam","login":{"username":"s","password":"p1","totp":"steam://`+totpSeed+`"}},`+
		`{"type":1,"name":"BW Short","login":{"username":"s","password":"p2","totp":"DFDFDEF="}}]}`)
	out = v.provider.must(0, "import", "--format", "bitwarden-json", bw)
	if !strings.Contains(out, "Imported 2 credentials") || !strings.Contains(out, "below RFC 4226's 128-bit minimum") {
		t.Fatalf("bitwarden import: %s", out)
	}
	same("BW Steam", "keepassxc-cli (its Steam entry, same seed)", func() string {
		return strings.TrimSpace(kx(t, kxc, "kx-totp-pass\n", "show", "-q", "--totp", db, "Steam"))
	}, 0)
	same("BW Short", "oathtool", func() string {
		o, _ := exec.Command(oath, "--totp", "-b", "DFDFDEF").Output()
		return strings.TrimSpace(string(o))
	}, 0)
	if info := v.provider.must(0, "cred", "list", "--json"); !strings.Contains(info, `"totp_warning"`) {
		t.Errorf("the short seed's warning is not on the credential: %s", info)
	}
}
