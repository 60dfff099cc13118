package transfer

// The KeePass XML document: reading its groups and entries (the inside
// of a KDBX file, or a KeePass XML export) into items, with the TOTP
// layouts KeePass and KeePassXC use, and building the document an
// export writes, with its protected values under the inner stream.

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20"
)

// Standard entry fields; any other string field is kept in the notes.
var standardFields = map[string]bool{
	"Title": true, "UserName": true, "Password": true, "URL": true, "Notes": true,
	"otp": true, "TOTP Seed": true, "TOTP Settings": true,
}

// DecodeKeePassXML reads a KeePass 2 XML export (KeePass: File > Export >
// KeePass XML (2.x); KeePassXC: Database > Export > XML File, or
// keepassxc-cli export --format xml), whose values are in plain text.
func DecodeKeePassXML(data []byte) (*Result, error) {
	if len(data) > 4*MaxFileSize {
		return nil, bad(keepassXML, "the file is larger than %d MiB", 4*MaxFileSize>>20)
	}
	root, err := parseXML(keepassXML, data)
	if err != nil {
		return nil, err
	}
	if err := root.walk(func(n *node) error {
		if n.Protected {
			return bad(keepassXML, "the XML holds encrypted values: it is the inside of a KDBX file, not an XML export")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	r, err := readKeePassXML(root)
	var fe *FormatError
	if errors.As(err, &fe) {
		fe.Format = keepassXML
		return nil, fe
	}
	return r, err
}

const keepassXML = "keepass-xml"

func readKeePassXML(root *node) (*Result, error) {
	if root.Name != "KeePassFile" {
		return nil, bad(kdbxName, "the XML inside is not a KeePass document")
	}
	r := root.child("Root")
	if r == nil || r.child("Group") == nil {
		return nil, bad(kdbxName, "the document has no root group")
	}
	recycle := ""
	if m := root.child("Meta"); m != nil && strings.EqualFold(strings.TrimSpace(m.text("RecycleBinEnabled")), "true") {
		recycle = strings.TrimSpace(m.text("RecycleBinUUID"))
	}
	res := &Result{}
	mapped := tagsMapped(root.child("Meta"))
	count := 0
	var walk func(g *node, path []string, binned bool) error
	walk = func(g *node, path []string, binned bool) error {
		for _, c := range g.Children {
			switch c.Name {
			case "Entry":
				count++
				if count > MaxItems {
					return bad(kdbxName, "the file has more than %d entries", MaxItems)
				}
				src := fmt.Sprintf("entry %d", count)
				if binned {
					res.Skipped = append(res.Skipped, Skipped{Source: src, Title: fieldText(c, "Title"), Reason: "in the recycle bin"})
					continue
				}
				readEntry(res, c, strings.Join(path, "/"), src, mapped)
			case "Group":
				name := strings.TrimSpace(c.text("Name"))
				inBin := binned || (recycle != "" && strings.TrimSpace(c.text("UUID")) == recycle && recycle != "AAAAAAAAAAAAAAAAAAAAAA==")
				if err := walk(c, append(path[:len(path):len(path)], name), inBin); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(r.child("Group"), nil, false); err != nil {
		res.Wipe()
		return nil, err
	}
	return res, nil
}

func fieldText(e *node, key string) string {
	if v := field(e, key); v != nil {
		return string(v)
	}
	return ""
}

// field returns an entry's string field by key (nil if absent).
func field(e *node, key string) []byte {
	for _, c := range e.Children {
		if c.Name == "String" && c.text("Key") == key {
			if v := c.child("Value"); v != nil {
				return v.Text
			}
			return []byte{}
		}
	}
	return nil
}

// tagsMapped reports whether meta declares Strongroom's tag mapping
// (ExportMarker): the file is Strongroom's own export.
func tagsMapped(meta *node) bool {
	if meta == nil {
		return false
	}
	if cd := meta.child("CustomData"); cd != nil {
		for _, it := range cd.Children {
			if it.Name == "Item" && it.text("Key") == ExportMarker && it.text("Value") == tagMarkerValue {
				return true
			}
		}
	}
	return false
}

func readEntry(res *Result, e *node, folder, src string, tagsMapped bool) {
	title := strings.TrimSpace(fieldText(e, "Title"))
	it := &Item{Title: title, Username: fieldText(e, "UserName"), Folder: folder, Source: src,
		Password: append([]byte(nil), field(e, "Password")...), Notes: append([]byte(nil), field(e, "Notes")...)}
	for _, t := range strings.FieldsFunc(e.text("Tags"), func(r rune) bool { return r == ';' || r == ',' }) {
		if t = strings.TrimSpace(t); t != "" {
			if tagsMapped {
				t = tagUnmapper.Replace(t)
			}
			it.Tags = append(it.Tags, t)
		}
	}
	totp, rawTOTP, why := entryTOTP(e, title)
	it.TOTP = totp
	var extra []string
	for _, c := range e.Children {
		switch c.Name {
		case "String":
			k := c.text("Key")
			if standardFields[k] || strings.HasPrefix(k, "TimeOtp-") {
				continue
			}
			if v := c.child("Value"); v != nil && len(v.Text) > 0 {
				extra = append(extra, k+": "+string(v.Text))
			}
		case "Binary":
			res.Skipped = append(res.Skipped, Skipped{Source: src, Title: title,
				Reason: "an attachment not imported (Strongroom stores no files)"})
		case "History":
			kdbxHistory(res, it, c, src)
		}
	}
	var uris []string
	if u := strings.TrimSpace(fieldText(e, "URL")); u != "" {
		uris = []string{u}
	}
	if why != "" {
		extra = append(extra, "TOTP kept here, not as a TOTP, because "+why+". As it was in the file:\n"+rawTOTP)
		res.Skipped = append(res.Skipped, Skipped{Source: src, Title: title, Reason: "TOTP kept in the notes, not as a TOTP: " + why})
	}
	finishItem(res, it, uris, extra, "KeePass fields")
}

// kdbxHistory keeps an entry's history (earlier copies of the entry) as
// earlier versions, dated by their modification times; a copy without a
// readable time cannot be placed and is reported.
func kdbxHistory(res *Result, it *Item, h *node, src string) {
	undated := 0
	for _, e := range h.Children {
		if e.Name != "Entry" {
			continue
		}
		var when time.Time
		ok := false
		if t := e.child("Times"); t != nil {
			when, ok = kdbxParseTime(t.text("LastModificationTime"))
		}
		if !ok {
			undated++
			continue
		}
		it.History = append(it.History, Past{Username: fieldText(e, "UserName"), URL: strings.TrimSpace(fieldText(e, "URL")),
			Password: append([]byte(nil), field(e, "Password")...), Notes: append([]byte(nil), field(e, "Notes")...), Date: when})
	}
	sortHistory(res, it, src, it.Title)
	if undated > 0 {
		res.Skipped = append(res.Skipped, Skipped{Source: src, Title: it.Title, Reason: fmt.Sprintf("%d earlier version(s) not imported: "+
			"they have no modification time, so they cannot be placed in the history", undated)})
	}
}

// kdbxParseTime reads a KeePass time: KDBX 4's base64 of little-endian
// seconds since 0001-01-01, or the ISO 8601 text of KDBX 3.1 and XML.
func kdbxParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 8 {
		return time.Time{}, false
	}
	secs := binary.LittleEndian.Uint64(b)
	if secs < 62135596800 || secs > 62135596800+1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(secs-62135596800), 0).UTC(), true
}

// fallbackTitle names an untitled entry by its site or user name.
func fallbackTitle(rawURL, user string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return strings.TrimSpace(user)
}

// entryTOTP reads the TOTP settings of the three layouts in use:
// KeePassXC's "otp" (an otpauth URI, or KeeOtp's key=…&step=…&size=…),
// the older "TOTP Seed"/"TOTP Settings" pair, and KeePass 2.47's
// TimeOtp-* fields, as an otpauth URI whose parameters are the file's
// (the vault refuses those it cannot keep). A TOTP that cannot be put
// as a URI is returned as raw, verbatim, with the reason.
func entryTOTP(e *node, title string) (uri, raw, reason string) {
	if v := strings.TrimSpace(fieldText(e, "otp")); v != "" {
		if strings.HasPrefix(strings.ToLower(v), "otpauth://") {
			return v, "", ""
		}
		q, err := url.ParseQuery(v)
		if err != nil || q.Get("key") == "" {
			return "", v, "its otp field is neither an otpauth:// URI nor KeeOtp settings"
		}
		if t := q.Get("type"); t != "" && !strings.EqualFold(t, "totp") {
			return "", v, "it is a counter-based (HOTP) code, which Strongroom does not generate"
		}
		return otpURI(title, q.Get("key"), q.Get("step"), q.Get("size"), q.Get("otpHashMode")), "", ""
	}
	if seed := strings.TrimSpace(fieldText(e, "TOTP Seed")); seed != "" {
		period, digits := "30", "6"
		if s := strings.Split(fieldText(e, "TOTP Settings"), ";"); len(s) >= 2 {
			period, digits = strings.TrimSpace(s[0]), strings.TrimSpace(s[1])
		}
		if digits == "S" { // Steam Guard, as KeePassXC writes it
			return otpURI(title, seed, "", "", "") + "&encoder=steam", "", ""
		}
		return otpURI(title, seed, period, digits, ""), "", ""
	}
	return timeOtp(e, title)
}

// timeOtp reads KeePass 2.47's TimeOtp-* fields.
func timeOtp(e *node, title string) (uri, raw, reason string) {
	var secret []byte
	switch {
	case fieldText(e, "TimeOtp-Secret-Base32") != "":
		return otpURI(title, fieldText(e, "TimeOtp-Secret-Base32"), fieldText(e, "TimeOtp-Period"),
			fieldText(e, "TimeOtp-Length"), fieldText(e, "TimeOtp-Algorithm")), "", ""
	case fieldText(e, "TimeOtp-Secret") != "":
		secret = field(e, "TimeOtp-Secret")
	case fieldText(e, "TimeOtp-Secret-Hex") != "":
		b, err := hexBytes(fieldText(e, "TimeOtp-Secret-Hex"))
		if err != nil {
			return "", "TimeOtp-Secret-Hex: " + fieldText(e, "TimeOtp-Secret-Hex"), "its TimeOtp-Secret-Hex is not hex"
		}
		secret = b
	case fieldText(e, "TimeOtp-Secret-Base64") != "":
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(fieldText(e, "TimeOtp-Secret-Base64")))
		if err != nil {
			return "", "TimeOtp-Secret-Base64: " + fieldText(e, "TimeOtp-Secret-Base64"), "its TimeOtp-Secret-Base64 is not base64"
		}
		secret = b
	default:
		return "", "", ""
	}
	return otpURI(title, base32NoPad(secret), fieldText(e, "TimeOtp-Period"), fieldText(e, "TimeOtp-Length"),
		fieldText(e, "TimeOtp-Algorithm")), "", ""
}

func hexBytes(s string) ([]byte, error) {
	var out []byte
	s = strings.Join(strings.Fields(s), "")
	for i := 0; i+1 < len(s); i += 2 {
		b, err := strconv.ParseUint(s[i:i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out = append(out, byte(b))
	}
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("odd length")
	}
	return out, nil
}

// otpURI builds an otpauth://totp URI; the vault checks the secret.
func otpURI(label, secret, period, digits, algo string) string {
	q := url.Values{}
	q.Set("secret", strings.ToUpper(strings.Join(strings.Fields(secret), "")))
	if p := strings.TrimSpace(period); p != "" && p != "30" {
		q.Set("period", p)
	}
	if d := strings.TrimSpace(digits); d != "" && d != "6" {
		q.Set("digits", d)
	}
	// KeePass writes HMAC-SHA-256; anything not SHA-1 is passed on as it
	// is, so the vault keeps it or refuses it, never turns it into SHA-1.
	if a := strings.ToUpper(strings.NewReplacer("HMAC-", "", "-", "").Replace(strings.TrimSpace(algo))); a != "" && a != "SHA1" {
		q.Set("algorithm", a)
	}
	if label == "" {
		label = "imported"
	}
	return (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + label, RawQuery: q.Encode()}).String()
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func wipeBuf(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

func base32NoPad(b []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// protect encrypts every Protected value with the ChaCha20 inner stream.
func protect(root *node, key []byte) error {
	h := sha512.Sum512(key)
	c, err := chacha20.NewUnauthenticatedCipher(h[:32], h[32:44])
	if err != nil {
		return err
	}
	return root.walk(func(n *node) error {
		if n.Protected {
			ct := make([]byte, len(n.Text))
			c.XORKeyStream(ct, n.Text)
			wipeBuf(n.Text)
			n.Text = []byte(base64.StdEncoding.EncodeToString(ct))
		}
		return nil
	})
}
