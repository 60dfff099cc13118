package main

import (
	"encoding/base64"
	le "encoding/binary"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exportCase is a credential the export test stores, in versions.
type exportCase struct {
	name, totp string
	tags       []string
	versions   []exportVersion
	oath       string // oathtool's options for the TOTP ("" for Steam)
}

type exportVersion struct{ user, password, url, notes string }

var exportCases = []exportCase{
	{name: "Bank", tags: []string{"finance, audit", "a;b", "plain tag"},
		totp: "otpauth://totp/Bank?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA256&digits=8&period=60", oath: "--totp=sha256 -d 8 -s 60",
		versions: []exportVersion{
			{user: "treasurer", password: "first-bank-pw", url: "https://bank.example"},
			{user: "old-treasurer", password: "second-bank-pw", url: "https://bank.example/login", notes: "changed clerk"},
			{user: "treasurer", password: "third-bank-pw", url: "https://bank.example/login", notes: "line one\nline <two> & \"three\""},
		}},
	{name: "Mail", tags: []string{"office"}, totp: "otpauth://totp/Mail?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", oath: "--totp",
		versions: []exportVersion{{user: "clerk@parish.example", password: "mail-pw", url: "https://mail.example"}}},
	{name: "Payroll", totp: "otpauth://totp/Payroll?secret=KRUGS4ZANFZSAYJAORSXG5BAONSWK3TU&algorithm=SHA512&digits=7", oath: "--totp=sha512 -d 7",
		versions: []exportVersion{{user: "rfo", password: "payroll-one"}, {user: "rfo", password: "payroll-two"}}},
	{name: "Steam", totp: "otpauth://totp/Steam?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&encoder=steam&issuer=Steam",
		versions: []exportVersion{{user: "parishgamer", password: "steam-pw"}}},
}

// TestExportReadBack is issue 19's export check: the vault's export is
// read back by keepassxc-cli and by pykeepass (testdata/read_export.py),
// and every field is compared with the vault: title, user name,
// password, URL, notes, tags (whole), both TOTP forms (codes equal to
// `cred totp` and oathtool's), created and changed times, each earlier
// version with its password and time, and the declared recycle bin.
func TestExportReadBack(t *testing.T) {
	kxc := keepassxc(t)
	pyBin := pykeepass(t)
	oath := needTool(t, "oathtool", "oathtool")
	v := newProvisioned(t)
	for _, c := range exportCases {
		for i, ver := range c.versions {
			pw := write(t, filepath.Join(v.work, "cred.pw"), ver.password)
			args := []string{"cred", "put", c.name, "--kind", "shared", "--username", ver.user, "--password-file", pw, "--url", ver.url,
				"--assign", "IT Provider"}
			if ver.notes != "" {
				args = append(args, "--notes-file", write(t, filepath.Join(v.work, "cred.notes"), ver.notes))
			}
			if i == len(c.versions)-1 {
				args = append(args, "--totp-uri", c.totp)
				for _, tag := range c.tags {
					args = append(args, "--tag", tag)
				}
			}
			v.provider.must(0, args...)
			if i < len(c.versions)-1 {
				time.Sleep(1100 * time.Millisecond) // KDBX times are in whole seconds: each version its own
			}
		}
	}
	export := filepath.Join(v.work, "export.kdbx")
	exPass := write(t, filepath.Join(v.work, "ex.pw"), "quartz meadow lantern")
	v.provider.must(0, "export", "--format", "kdbx", "--out", export, "--passphrase-file", exPass,
		"--password-file", filepath.Join(v.work, "a.pw"), "--totp", codeAfter(t, v.admin.TOTPURI))

	// keepassxc-cli: its XML export of our file, and show for each field.
	doc := kxExportXML(t, kxc, export)
	if !strings.EqualFold(doc.Meta.RecycleBinEnabled, "true") || doc.Meta.RecycleBinUUID == "" {
		t.Fatalf("keepassxc-cli: no recycle bin declared: %+v", doc.Meta)
	}
	byName := map[string]kxEntry{}
	var bin *kxGroup
	doc.Root.Group.walk("", func(path string, g *kxGroup) {
		if g.UUID == doc.Meta.RecycleBinUUID {
			bin = g
		}
		for _, e := range g.Entries {
			byName[path+"/"+e.field("Title")] = e
		}
	})
	if bin == nil || bin.Name != "Recycle Bin" || len(bin.Entries) != 0 {
		t.Fatalf("keepassxc-cli: the recycle bin group is missing or not empty: %+v", bin)
	}
	py := pyExport(t, pyBin, export, exPass)
	if py.RecycleBin == nil || py.RecycleBin.Name != "Recycle Bin" || py.RecycleBin.Entries != 0 {
		t.Fatalf("pykeepass: recycle bin %+v", py.RecycleBin)
	}
	if len(py.Entries) != len(exportCases) || len(byName) != len(exportCases) {
		t.Fatalf("pykeepass read %d entries, keepassxc-cli %d; want %d", len(py.Entries), len(byName), len(exportCases))
	}
	for _, c := range exportCases {
		vault := vaultCredential(t, v, c)
		kx, ok := byName["Strongroom export/shared/"+c.name]
		if !ok {
			t.Fatalf("keepassxc-cli lacks shared/%s: %v", c.name, byName)
		}
		checkKXEntry(t, kxc, export, c, kx, vault)
		pe := py.entry(t, c.name)
		checkPyEntry(t, c, pe, vault)
		checkExportTOTP(t, v, kxc, oath, export, c, pe)
	}
	checkTagsRoundTrip(t, v, kxc, export, exPass)
}

// checkTagsRoundTrip imports the export back, as it is and after
// KeePassXC has changed and saved it: each time every tag comes back
// as the vault holds it, "," and ";" included.
func checkTagsRoundTrip(t *testing.T, v *provisioned, kxc, export, exPass string) {
	t.Helper()
	for round, saved := range []bool{false, true} {
		if saved {
			kx(t, kxc, "quartz meadow lantern\n", "mkdir", "-q", export, "Added in KeePassXC")
		}
		var rep struct {
			Imported []struct {
				Name string
				Tags []string
			}
		}
		tag := fmt.Sprintf("round-trip-%d", round)
		json.Unmarshal([]byte(v.provider.must(0, "import", "--format", "kdbx", export, "--password-file", exPass, "--tag", tag, "--json")), &rep)
		if len(rep.Imported) != len(exportCases) {
			t.Fatalf("round trip %d: imported %+v", round, rep)
		}
		byName := map[string][]string{}
		for _, it := range rep.Imported {
			byName[strings.SplitN(it.Name, " (", 2)[0]] = it.Tags // "Bank (shared)", "Bank (2)": the name is taken
		}
		for _, c := range exportCases {
			want := append([]string{tag, "shared"}, c.tags...)
			got := append([]string(nil), byName[c.name]...)
			sort.Strings(want)
			sort.Strings(got)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("round trip %d: %s tags %q, want %q", round, c.name, got, want)
			}
		}
	}
}

// vaultView is what the vault holds of one credential, every version.
type vaultView struct {
	created, updated string
	versions         []struct{ user, password, url, notes, created string }
}

func vaultCredential(t *testing.T, v *provisioned, c exportCase) vaultView {
	t.Helper()
	var info struct{ Created, Updated time.Time }
	json.Unmarshal([]byte(v.provider.must(0, "cred", "get", c.name, "--json")), &info)
	var hist []struct {
		Version int
		Created string
	}
	json.Unmarshal([]byte(v.provider.must(0, "cred", "history", c.name, "--json")), &hist)
	out := vaultView{created: info.Created.UTC().Format(time.RFC3339), updated: info.Updated.UTC().Format(time.RFC3339)}
	if len(hist) != len(c.versions) {
		t.Fatalf("%s: the vault has %d versions, want %d", c.name, len(hist), len(c.versions))
	}
	for ver := 1; ver <= len(c.versions); ver++ {
		var sec struct {
			Username, Password, Notes string
			URL                       string `json:"url"`
		}
		json.Unmarshal([]byte(v.provider.must(0, "cred", "get", c.name, "--version", strconv.Itoa(ver), "--json")), &sec)
		created := ""
		for _, h := range hist {
			if h.Version == ver {
				created = h.Created
			}
		}
		out.versions = append(out.versions, struct{ user, password, url, notes, created string }{
			sec.Username, sec.Password, sec.URL, sec.Notes, created})
	}
	return out
}

func checkKXEntry(t *testing.T, kxc, export string, c exportCase, e kxEntry, vault vaultView) {
	t.Helper()
	cur := vault.versions[len(vault.versions)-1]
	got := kx(t, kxc, "quartz meadow lantern\n", "show", "-q", "-s", "-a", "Title", "-a", "UserName", "-a", "Password", "-a", "URL",
		"-a", "Notes", export, "shared/"+c.name)
	if want := c.name + "\n" + cur.user + "\n" + cur.password + "\n" + cur.url + "\n" + cur.notes + "\n"; got != want {
		t.Errorf("%s: keepassxc-cli shows %q, the vault holds %q", c.name, got, want)
	}
	if tags := splitKXTags(e.Tags); !reflect.DeepEqual(tags, sortedTags(c.tags)) {
		t.Errorf("%s: keepassxc-cli reads tags %q, want %q", c.name, tags, c.tags)
	}
	if ct, mt := kxTime(t, e.Times.Creation), kxTime(t, e.Times.Modification); ct != vault.created || mt != vault.updated {
		t.Errorf("%s: keepassxc-cli times %s, %s; the vault's %s, %s", c.name, ct, mt, vault.created, vault.updated)
	}
	if len(e.History) != len(vault.versions)-1 {
		t.Fatalf("%s: keepassxc-cli reads %d earlier versions, want %d", c.name, len(e.History), len(vault.versions)-1)
	}
	for i, h := range e.History {
		want := vault.versions[i]
		if h.field("Password") != want.password || h.field("UserName") != want.user || h.field("URL") != want.url ||
			h.field("Notes") != want.notes || kxTime(t, h.Times.Modification) != want.created {
			t.Errorf("%s: keepassxc-cli history %d is %q %q %q, want version %d: %+v", c.name, i, h.field("UserName"),
				h.field("URL"), kxTime(t, h.Times.Modification), i+1, want)
		}
	}
}

func checkPyEntry(t *testing.T, c exportCase, e pyEntry, vault vaultView) {
	t.Helper()
	cur := vault.versions[len(vault.versions)-1]
	if e.Path != "shared/"+c.name || e.Title != c.name || e.Username != cur.user || e.Password != cur.password ||
		e.URL != cur.url || e.Notes != cur.notes {
		t.Errorf("%s: pykeepass reads %q %q %q %q, the vault holds %+v", c.name, e.Path, e.Username, e.URL, e.Notes, cur)
	}
	if !reflect.DeepEqual(sortedTags(e.Tags), sortedTags(c.tags)) {
		t.Errorf("%s: pykeepass reads tags %q, want %q", c.name, e.Tags, c.tags)
	}
	if e.Ctime != vault.created || e.Mtime != vault.updated {
		t.Errorf("%s: pykeepass times %s, %s; the vault's %s, %s", c.name, e.Ctime, e.Mtime, vault.created, vault.updated)
	}
	if len(e.History) != len(vault.versions)-1 {
		t.Fatalf("%s: pykeepass reads %d earlier versions, want %d", c.name, len(e.History), len(vault.versions)-1)
	}
	for i, h := range e.History {
		want := vault.versions[i]
		if h.Password != want.password || h.Username != want.user || h.URL != want.url || h.Notes != want.notes || h.Mtime != want.created {
			t.Errorf("%s: pykeepass history %d is %q %q %s, want version %d: %+v", c.name, i, h.Username, h.URL, h.Mtime, i+1, want)
		}
	}
}

// checkExportTOTP compares, in one TOTP step, the codes of `cred totp`,
// keepassxc-cli (the otp URI), and oathtool run on the otp URI's and on
// the TimeOtp-* fields' parameters as pykeepass reads them.
func checkExportTOTP(t *testing.T, v *provisioned, kxc, oath, export string, c exportCase, e pyEntry) {
	t.Helper()
	period := int64(30)
	if p := e.Custom["TimeOtp-Period"]; p != "" {
		period, _ = strconv.ParseInt(p, 10, 64)
	}
	if c.oath == "" { // Steam: KeePass has no Steam codes, so no TimeOtp-* fields
		if len(e.Custom) != 0 || !strings.Contains(e.Otp, "encoder=steam") {
			t.Errorf("%s: otp %q, custom fields %v", c.name, e.Otp, e.Custom)
		}
	} else if e.Custom["TimeOtp-Secret-Base32"] == "" || !strings.Contains(e.Otp, e.Custom["TimeOtp-Secret-Base32"]) {
		t.Errorf("%s: TimeOtp-Secret-Base32 %q does not match otp %q", c.name, e.Custom["TimeOtp-Secret-Base32"], e.Otp)
	}
	for try := 0; ; try++ {
		step := time.Now().Unix() / period
		var ours struct{ Code string }
		json.Unmarshal([]byte(v.provider.must(0, "cred", "totp", c.name, "--json")), &ours)
		codes := map[string]string{"cred totp": ours.Code,
			"keepassxc-cli": strings.TrimSpace(kx(t, kxc, "quartz meadow lantern\n", "show", "-q", "-t", export, "shared/"+c.name))}
		if c.oath != "" {
			codes["oathtool (TimeOtp-*)"] = runOath(t, oath, strings.Fields(timeOtpOath(e.Custom)), e.Custom["TimeOtp-Secret-Base32"])
			codes["oathtool (expected)"] = runOath(t, oath, strings.Fields(c.oath), e.Custom["TimeOtp-Secret-Base32"])
		}
		if time.Now().Unix()/period != step && try < 2 {
			continue // a step boundary passed while the codes were made
		}
		for from, code := range codes {
			if code != ours.Code || code == "" {
				t.Errorf("%s: TOTP codes differ: %v (%s)", c.name, codes, from)
				break
			}
		}
		return
	}
}

// timeOtpOath is oathtool's options for KeePass's TimeOtp-* fields, with
// KeePass's defaults (6 digits, 30 s, HMAC-SHA-1).
func timeOtpOath(f map[string]string) string {
	opts := "--totp"
	switch f["TimeOtp-Algorithm"] {
	case "HMAC-SHA-256":
		opts = "--totp=sha256"
	case "HMAC-SHA-512":
		opts = "--totp=sha512"
	}
	if d := f["TimeOtp-Length"]; d != "" {
		opts += " -d " + d
	}
	if p := f["TimeOtp-Period"]; p != "" {
		opts += " -s " + p
	}
	return opts
}

func runOath(t *testing.T, bin string, opts []string, secret string) string {
	t.Helper()
	out, err := exec.Command(bin, append(append(opts, "-b"), secret)...).Output()
	if err != nil {
		t.Fatalf("oathtool %v: %v", opts, err)
	}
	return strings.TrimSpace(string(out))
}

// keepassxc-cli's reading of the file, as its own XML export.
type kxFile struct {
	Meta struct{ RecycleBinEnabled, RecycleBinUUID string }
	Root struct{ Group kxGroup }
}

type kxGroup struct {
	UUID, Name string
	Entries    []kxEntry `xml:"Entry"`
	Groups     []kxGroup `xml:"Group"`
}

func (g *kxGroup) walk(parent string, fn func(path string, g *kxGroup)) {
	path := strings.TrimPrefix(parent+"/"+g.Name, "/")
	fn(path, g)
	for i := range g.Groups {
		g.Groups[i].walk(path, fn)
	}
}

type kxEntry struct {
	Tags  string
	Times struct {
		Creation     string `xml:"CreationTime"`
		Modification string `xml:"LastModificationTime"`
	}
	Strings []struct{ Key, Value string } `xml:"String"`
	History []kxEntry                     `xml:"History>Entry"`
}

func (e kxEntry) field(k string) string {
	for _, s := range e.Strings {
		if s.Key == k {
			return s.Value
		}
	}
	return ""
}

func kxExportXML(t *testing.T, kxc, export string) kxFile {
	t.Helper()
	var doc kxFile
	if err := xml.Unmarshal([]byte(kx(t, kxc, "quartz meadow lantern\n", "export", "-q", "--format", "xml", export)), &doc); err != nil {
		t.Fatalf("keepassxc-cli export: %v", err)
	}
	return doc
}

// kxTime reads a KeePass time (ISO 8601 or KDBX 4's base64 seconds) as
// RFC 3339 UTC.
func kxTime(t *testing.T, s string) string {
	if tm, err := time.Parse(time.RFC3339, s); err == nil {
		return tm.UTC().Format(time.RFC3339)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 8 {
		t.Fatalf("keepassxc-cli time %q", s)
	}
	return time.Unix(int64(le.LittleEndian.Uint64(b))-62135596800, 0).UTC().Format(time.RFC3339)
}

// splitKXTags splits as KeePassXC does (at "," and ";").
func splitKXTags(s string) []string {
	return sortedTags(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }))
}

// sortedTags is tags as the export writes them (transfer.ExportTag),
// sorted.
func sortedTags(tags []string) []string {
	out := []string{}
	for _, tg := range tags {
		out = append(out, strings.NewReplacer(",", "\uFF0C", ";", "\uFF1B").Replace(tg))
	}
	sort.Strings(out)
	return out
}

// pykeepass's reading of the file (testdata/read_export.py).
type pyFile struct {
	RecycleBin *struct {
		Name    string
		Entries int
	} `json:"recycle_bin"`
	Entries []pyEntry
}

type pyFields struct {
	Title, Username, Password, URL, Notes, Otp, Ctime, Mtime string
	Custom                                                   map[string]string
}

type pyEntry struct {
	pyFields
	Path    string
	Tags    []string
	History []pyFields
}

func (f pyFile) entry(t *testing.T, title string) pyEntry {
	t.Helper()
	for _, e := range f.Entries {
		if e.Title == title {
			return e
		}
	}
	t.Fatalf("pykeepass did not read %s", title)
	return pyEntry{}
}

func pyExport(t *testing.T, pyBin, export, passFile string) pyFile {
	t.Helper()
	out, err := exec.Command(pyBin, "testdata/read_export.py", export, passFile).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("read_export.py: %v\n%s", err, stderr)
	}
	var f pyFile
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("read_export.py output: %v", err)
	}
	return f
}
