package transfer

// The KeePass XML document an export writes: a root group named after
// the export, one subgroup per folder path, an empty recycle bin the
// Meta declares, and each item as an entry with the vault's times, its
// earlier versions as the entry's History, and its TOTP in the two forms
// in use (KeePassXC's otp URI and KeePass 2.47's TimeOtp-* fields).

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RecycleBinName is the name of the export's (empty) recycle bin group.
const RecycleBinName = "Recycle Bin"

// ExportTag is how a tag is written in an export. KeePassXC splits a
// KDBX Tags value at "," and ";" and pykeepass at ";", and neither has
// an escape, so a tag holding either would come back as two: each is
// written as its fullwidth form (U+FF0C "，", U+FF1B "；"), which both
// read as part of the tag. Tags are joined with ";", KeePass's own
// separator.
func ExportTag(tag string) string { return tagMapper.Replace(tag) }

var tagMapper = strings.NewReplacer(",", "\uFF0C", ";", "\uFF1B")

// tagUnmapper undoes tagMapper, for a file that declares it (ExportMarker).
var tagUnmapper = strings.NewReplacer("\uFF0C", ",", "\uFF1B", ";")

// ExportMarker is the key of the Meta/CustomData item an export writes
// to say its tags are mapped as ExportTag maps them; its value is
// tagMarkerValue. An import maps the tags back only in a file that has
// it (KeePassXC keeps Meta custom data when it saves a file, so an
// export opened and saved there still has it), never in another
// file, whose "，" is the user's own.
const ExportMarker = "Strongroom.TagsMapped"

const tagMarkerValue = "fullwidth , ;"

// keePassXML builds the document.
func keePassXML(items []Item, o KDBXOptions) *node {
	ts := kdbxTime(o.Now)
	root := exportGroup(o.Name, "48", ts)
	bin := exportGroup(RecycleBinName, "43", ts)
	bin.Children = append(bin.Children, leaf("EnableAutoType", "false"), leaf("EnableSearching", "false"))
	binUUID := bin.text("UUID")
	groups := map[string]*node{"": root}
	var groupFor func(path string) *node
	groupFor = func(path string) *node {
		if g, ok := groups[path]; ok {
			return g
		}
		parent, name := "", path
		if i := strings.LastIndex(path, "/"); i >= 0 {
			parent, name = path[:i], path[i+1:]
		}
		g := exportGroup(name, "48", ts)
		p := groupFor(parent)
		p.Children = append(p.Children, g)
		groups[path] = g
		return g
	}
	// Groups first in a stable order, so the file reads the same each time.
	sorted := append([]Item(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Folder < sorted[j].Folder })
	for _, it := range sorted {
		g := groupFor(strings.Trim(it.Folder, "/"))
		g.Children = append(g.Children, exportEntry(it, o.Now))
	}
	root.Children = append(root.Children, bin)
	// HistoryMaxItems and HistoryMaxSize -1: no limit, so KeePass and
	// KeePassXC keep every earlier version when an entry is next saved.
	meta := elem("Meta", leaf("Generator", "Strongroom"), leaf("DatabaseName", o.Name), leaf("DatabaseNameChanged", ts),
		leaf("RecycleBinEnabled", "True"), leaf("RecycleBinUUID", binUUID), leaf("RecycleBinChanged", ts),
		leaf("HistoryMaxItems", "-1"), leaf("HistoryMaxSize", "-1"),
		elem("CustomData", elem("Item", leaf("Key", ExportMarker), leaf("Value", tagMarkerValue))))
	return elem("KeePassFile", meta, elem("Root", root, elem("DeletedObjects")))
}

func exportGroup(name, icon, ts string) *node {
	return elem("Group", leaf("UUID", newUUID()), leaf("Name", name), leaf("IconID", icon),
		exportTimes(ts, ts), leaf("IsExpanded", "True"))
}

// exportTimes is an element's Times: created and last changed (access,
// expiry and location take those too; nothing expires).
func exportTimes(created, modified string) *node {
	return elem("Times", leaf("CreationTime", created), leaf("LastModificationTime", modified), leaf("LastAccessTime", modified),
		leaf("ExpiryTime", modified), leaf("Expires", "False"), leaf("UsageCount", "0"), leaf("LocationChanged", created))
}

// exportEntry is one item as an entry, in KeePass's element order. Its
// History holds the earlier versions, oldest first, each an entry with
// the same UUID dated when that version was made.
func exportEntry(it Item, now time.Time) *node {
	created, modified := orNow(it.Created, now), orNow(it.Modified, now)
	tags := make([]string, len(it.Tags))
	for i, t := range it.Tags {
		tags[i] = ExportTag(t)
	}
	id := newUUID()
	e := elem("Entry", leaf("UUID", id), leaf("IconID", "0"), leaf("Tags", strings.Join(tags, ";")),
		exportTimes(kdbxTime(created), kdbxTime(modified)))
	e.Children = append(e.Children, entryStrings(it.Title, it.Username, it.URL, it.Password, it.Notes, it.TOTP)...)
	if len(it.History) == 0 {
		return e
	}
	hist := elem("History")
	for _, p := range it.History {
		when := kdbxTime(orNow(p.Date, now))
		h := elem("Entry", leaf("UUID", id), leaf("IconID", "0"), leaf("Tags", strings.Join(tags, ";")), exportTimes(when, when))
		h.Children = append(h.Children, entryStrings(it.Title, p.Username, p.URL, p.Password, p.Notes, p.TOTP)...)
		hist.Children = append(hist.Children, h)
	}
	e.Children = append(e.Children, hist)
	return e
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// entryStrings is an entry's String fields. The password and the TOTP
// fields are protected.
func entryStrings(title, user, url string, password, notes []byte, totp string) []*node {
	str := func(k string, v []byte, protected bool) *node {
		return elem("String", leaf("Key", k), &node{Name: "Value", Text: append([]byte(nil), v...), Protected: protected})
	}
	out := []*node{str("Title", []byte(title), false), str("UserName", []byte(user), false),
		str("Password", password, true), str("URL", []byte(url), false), str("Notes", notes, false)}
	if totp == "" {
		return out
	}
	uri, fields := exportOTP(totp)
	out = append(out, str("otp", []byte(uri), true))
	for _, f := range fields {
		out = append(out, str(f[0], []byte(f[1]), f[0] == "TimeOtp-Secret-Base32"))
	}
	return out
}

// exportOTP writes a TOTP (an otpauth://totp URI as the vault keeps it)
// as KeePassXC's otp field and, where KeePass 2.47 computes the same
// codes, its TimeOtp-* fields: TimeOtp-Secret-Base32, and TimeOtp-Length,
// TimeOtp-Period and TimeOtp-Algorithm (HMAC-SHA-256, HMAC-SHA-512) when
// they are not KeePass's defaults (6, 30, HMAC-SHA-1). KeePass has no
// Steam codes and makes at most 8 digits: such TOTPs are in otp alone.
// A Steam URI is written as KeePassXC writes one, encoder=steam with
// Steam's digits and period. Anything else (a bare seed) is written as
// it is, to otp only.
func exportOTP(totp string) (otp string, fields [][2]string) {
	u, err := url.Parse(totp)
	if err != nil || !strings.EqualFold(u.Scheme, "otpauth") || !strings.EqualFold(u.Host, "totp") {
		return totp, nil
	}
	q := u.Query()
	secret := strings.ToUpper(strings.TrimRight(q.Get("secret"), "="))
	if secret == "" {
		return totp, nil
	}
	if strings.EqualFold(q.Get("encoder"), "steam") {
		q.Set("digits", "5")
		q.Set("period", "30")
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	digits, period := 6, 30
	if d := q.Get("digits"); d != "" {
		if digits, err = strconv.Atoi(d); err != nil || digits < 1 || digits > 8 {
			return totp, nil
		}
	}
	if p := q.Get("period"); p != "" {
		if period, err = strconv.Atoi(p); err != nil || period < 1 {
			return totp, nil
		}
	}
	algo := ""
	switch strings.ToUpper(q.Get("algorithm")) {
	case "", "SHA1":
	case "SHA256":
		algo = "HMAC-SHA-256"
	case "SHA512":
		algo = "HMAC-SHA-512"
	default:
		return totp, nil
	}
	fields = [][2]string{{"TimeOtp-Secret-Base32", secret}}
	if digits != 6 {
		fields = append(fields, [2]string{"TimeOtp-Length", strconv.Itoa(digits)})
	}
	if period != 30 {
		fields = append(fields, [2]string{"TimeOtp-Period", strconv.Itoa(period)})
	}
	if algo != "" {
		fields = append(fields, [2]string{"TimeOtp-Algorithm", algo})
	}
	return totp, fields
}

// kdbxTime is KDBX 4's time: base64 of seconds since 0001-01-01 UTC.
func kdbxTime(t time.Time) string {
	secs := t.UTC().Unix() + 62135596800
	return base64.StdEncoding.EncodeToString(le64(uint64(secs)))
}

func newUUID() string { return base64.StdEncoding.EncodeToString(random(16)) }
