package transfer

import (
	"fmt"
	"sort"
	"strings"
)

const genericCSV = "csv"

// CSVFields are the item fields a generic CSV column can fill.
var CSVFields = []string{"title", "username", "password", "url", "notes", "totp", "folder", "tags"}

// csvAliases are the header names a spreadsheet is likely to use for
// each field, matched without regard to case, spaces, "_" or "-".
var csvAliases = map[string][]string{
	"title":    {"title", "name", "account", "service", "site", "entry"},
	"username": {"username", "user", "login", "loginname", "email", "userid"},
	"password": {"password", "pass", "passwd", "secret"},
	"url":      {"url", "website", "web", "address", "link", "loginuri", "uri"},
	"notes":    {"notes", "note", "comments", "comment", "extra"},
	"totp":     {"totp", "otp", "otpauth", "2fa", "mfa", "authenticator", "totpseed"},
	// LastPass calls its folders "grouping".
	"folder": {"folder", "group", "grouping", "category", "path"},
	"tags":   {"tags", "tag", "labels"},
}

var headerPunct = strings.NewReplacer(" ", "", "_", "", "-", "")

func normHeader(s string) string {
	return headerPunct.Replace(strings.ToLower(strings.TrimSpace(s)))
}

// ParseCSVMap reads a column mapping "field=Header,field=Header" (fields
// from CSVFields). Empty is no mapping.
func ParseCSVMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for n, p := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || v == "" {
			return nil, bad(genericCSV, "the column mapping must be field=Header pairs separated by commas")
		}
		if _, known := csvAliases[k]; !known {
			return nil, bad(genericCSV, "pair %d of the column mapping names no field (use title, username, password, url, notes, totp, folder or tags)", n+1)
		}
		if _, dup := m[k]; dup {
			return nil, bad(genericCSV, "pair %d of the column mapping maps a field that is already mapped", n+1)
		}
		m[k] = v
	}
	return m, nil
}

// DecodeCSV reads a generic CSV with a header row. mapping names the
// column for a field (field -> header); fields not mapped are found by
// common header names. Title and password columns are required.
func DecodeCSV(data []byte, mapping map[string]string) (*Result, error) {
	header, rows, err := readCSV(genericCSV, data)
	if err != nil {
		return nil, err
	}
	idx, used, err := csvColumns(header, mapping)
	if err != nil {
		return nil, err
	}
	get := func(row []string, f string) string {
		if i, ok := idx[f]; ok {
			return row[i]
		}
		return ""
	}
	res := &Result{}
	for n, row := range rows {
		it := Item{Title: strings.TrimSpace(get(row, "title")), Username: get(row, "username"),
			Password: []byte(get(row, "password")), TOTP: strings.TrimSpace(get(row, "totp")),
			Notes: []byte(get(row, "notes")), Folder: strings.TrimSpace(get(row, "folder")), Source: fmt.Sprintf("line %d", n+2)}
		for _, t := range strings.FieldsFunc(get(row, "tags"), func(r rune) bool { return r == ';' || r == ',' }) {
			if t = strings.TrimSpace(t); t != "" {
				it.Tags = append(it.Tags, t)
			}
		}
		var uris []string
		if u := strings.TrimSpace(get(row, "url")); u != "" {
			uris = []string{u}
		}
		// Columns no field took are kept in the notes, not lost.
		var extra []string
		for i, col := range header {
			if !used[i] && strings.TrimSpace(row[i]) != "" {
				extra = append(extra, strings.TrimSpace(col)+": "+row[i])
			}
		}
		finishItem(res, &it, uris, extra, "Other columns")
	}
	return res, nil
}

// csvColumns finds each field's column (field -> index) and the columns a
// field took: by the mapping, then by the common header names.
func csvColumns(header []string, mapping map[string]string) (map[string]int, map[int]bool, error) {
	idx := map[string]int{}
	for f, h := range mapping {
		found := -1
		for i, col := range header {
			if strings.EqualFold(strings.TrimSpace(col), h) {
				found = i
				break
			}
		}
		if found < 0 {
			return nil, nil, bad(genericCSV, "the column mapping names a column that the header (line 1, %d columns) does not have", len(header))
		}
		idx[f] = found
	}
	used := map[int]bool{}
	for _, i := range idx {
		used[i] = true
	}
	// Normalised once: a hostile header row may have many thousands of columns.
	norm := make([]string, len(header))
	for i, col := range header {
		norm[i] = normHeader(col)
	}
	fields := append([]string(nil), CSVFields...)
	sort.Strings(fields)
	for _, f := range fields {
		if _, ok := idx[f]; ok {
			continue
		}
	alias:
		for _, a := range csvAliases[f] {
			for i, col := range norm {
				if !used[i] && col == a {
					idx[f], used[i] = i, true
					break alias
				}
			}
		}
	}
	// The header's own text is never quoted: a file without a header row
	// has a password there.
	_, hasURL := idx["url"]
	if _, ok := idx["title"]; !ok && !(hasURL && firefoxHeader(norm)) {
		return nil, nil, bad(genericCSV, "the header (line 1, %d columns) has no column for the title (title, name, account, service, "+
			"site or entry; %d other columns recognised): does the file have a header row? Name the column with --map title=COLUMN",
			len(header), len(idx))
	}
	if _, ok := idx["password"]; !ok {
		return nil, nil, bad(genericCSV, "the header (line 1, %d columns) has no column for the password (password, pass, passwd or "+
			"secret; %d other columns recognised): does the file have a header row? Name the column with --map password=COLUMN",
			len(header), len(idx))
	}
	return idx, used, nil
}

// firefoxHeader reports whether a header is Firefox's password export
// (url, username, password, httpRealm, formActionOrigin, guid, …), which
// has no title column: its items are named by their site.
func firefoxHeader(norm []string) bool {
	n := 0
	for _, c := range norm {
		if c == "httprealm" || c == "formactionorigin" || c == "guid" || c == "timepasswordchanged" {
			n++
		}
	}
	return n >= 2
}

// Decode reads data in the named format (one of Formats).
func Decode(format string, data []byte, key KDBXKey, csvMap map[string]string) (*Result, error) {
	switch format {
	case "kdbx":
		return DecodeKDBX(data, key)
	case keepassXML:
		return DecodeKeePassXML(data)
	case bwJSON:
		return DecodeBitwardenJSON(data)
	case bwCSV:
		return DecodeBitwardenCSV(data)
	case genericCSV:
		return DecodeCSV(data, csvMap)
	}
	// The format's name is the caller's text: it is not repeated.
	return nil, bad("import", "unknown format; use one of kdbx, keepass-xml, bitwarden-json, bitwarden-csv, csv")
}
