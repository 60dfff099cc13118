package transfer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Bitwarden's unencrypted exports, as its help centre documents them
// ("Condition a Bitwarden .csv or .json"): JSON with folders (personal
// vault) or collections (organisation vault) and items of type 1 (login),
// 2 (secure note), 3 (card), 4 (identity), 5 (SSH key); CSV with the
// columns folder or collections, favorite, type, name, notes, fields,
// reprompt, login_uri, login_username, login_password, login_totp.

type bwExport struct {
	Encrypted   bool     `json:"encrypted"`
	Folders     []bwName `json:"folders"`
	Collections []bwName `json:"collections"`
	Items       []bwItem `json:"items"`
}

type bwName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type bwItem struct {
	Type          int       `json:"type"`
	Name          string    `json:"name"`
	Notes         *string   `json:"notes"`
	FolderID      *string   `json:"folderId"`
	CollectionIDs []string  `json:"collectionIds"`
	Fields        []bwField `json:"fields"`
	Login         *struct {
		URIs []struct {
			URI *string `json:"uri"`
		} `json:"uris"`
		Username *string `json:"username"`
		Password *string `json:"password"`
		TOTP     *string `json:"totp"`
		// Passkeys: their private keys are in the export, but a passkey
		// is bound to the manager that made it and cannot move.
		Fido2Credentials []json.RawMessage `json:"fido2Credentials"`
	} `json:"login"`
	PasswordHistory []struct {
		LastUsedDate *string `json:"lastUsedDate"`
		Password     *string `json:"password"`
	} `json:"passwordHistory"`
}

type bwField struct {
	Name  *string `json:"name"`
	Value *string `json:"value"`
	Type  int     `json:"type"`
}

var bwTypes = map[int]string{2: "a secure note", 3: "a card", 4: "an identity", 5: "an SSH key"}

// bwCSVTypes are the type column's values in a Bitwarden CSV export other
// than "login".
var bwCSVTypes = map[string]string{"note": "a secure note", "card": "a card", "identity": "an identity", "sshkey": "an SSH key"}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

const bwJSON, bwCSV = "bitwarden-json", "bitwarden-csv"

// utf8BOM is the byte-order mark Windows editors put before UTF-8 text.
var utf8BOM = []byte("\xef\xbb\xbf")

// DecodeBitwardenJSON reads an unencrypted Bitwarden JSON export.
func DecodeBitwardenJSON(data []byte) (*Result, error) {
	if len(data) > MaxFileSize {
		return nil, bad(bwJSON, "the file is larger than %d MiB", MaxFileSize>>20)
	}
	data = bytes.TrimPrefix(data, utf8BOM) // Windows tools write one; JSON has none
	if !utf8.Valid(data) {
		return nil, bad(bwJSON, "the file is not UTF-8 text")
	}
	var x bwExport
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&x); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, bad(bwJSON, "malformed JSON at byte %d", int(se.Offset))
		case errors.As(err, &te):
			return nil, bad(bwJSON, "a value of the wrong type at byte %d", int(te.Offset))
		}
		return nil, bad(bwJSON, "malformed JSON")
	}
	if dec.More() {
		return nil, bad(bwJSON, "the file has data after the JSON object")
	}
	if x.Encrypted {
		return nil, bad(bwJSON, "this is an encrypted Bitwarden export; export again choosing the .json format, not .json (Encrypted)")
	}
	if x.Items == nil {
		return nil, bad(bwJSON, "this is not a Bitwarden export (no \"items\")")
	}
	if len(x.Items) > MaxItems {
		return nil, bad(bwJSON, "the file has more than %d items", MaxItems)
	}
	folders, colls := map[string]string{}, map[string]string{}
	for _, f := range x.Folders {
		folders[f.ID] = f.Name
	}
	for _, c := range x.Collections {
		colls[c.ID] = c.Name
	}
	res := &Result{}
	for i, b := range x.Items {
		src := fmt.Sprintf("item %d", i+1)
		name := strings.TrimSpace(b.Name)
		if b.Type != 1 || b.Login == nil {
			kind := bwTypes[b.Type]
			if kind == "" {
				kind = fmt.Sprintf("an item of type %d", b.Type)
			}
			res.Skipped = append(res.Skipped, Skipped{Source: src, Title: name, Reason: kind + ", not a login"})
			continue
		}
		it := Item{Title: name, Username: str(b.Login.Username), Password: []byte(str(b.Login.Password)),
			TOTP: strings.TrimSpace(str(b.Login.TOTP)), Notes: []byte(str(b.Notes)), Source: src}
		if b.FolderID != nil {
			it.Folder = folders[*b.FolderID]
		}
		for _, id := range b.CollectionIDs {
			if n := colls[id]; n != "" {
				it.Tags = append(it.Tags, n)
			}
		}
		var uris []string
		for _, u := range b.Login.URIs {
			if s := strings.TrimSpace(str(u.URI)); s != "" {
				uris = append(uris, s)
			}
		}
		var extra []string
		for n, f := range b.Fields {
			if f.Type == 3 { // linked field: a pointer to another field, no value of its own
				res.Skipped = append(res.Skipped, Skipped{Source: src, Title: name, Reason: fmt.Sprintf("custom field %d not imported: "+
					"it is a linked field, which only points to another field of the item (that field is imported)", n+1)})
				continue
			}
			extra = append(extra, str(f.Name)+": "+str(f.Value))
		}
		if n := len(b.Login.Fido2Credentials); n > 0 {
			res.Skipped = append(res.Skipped, Skipped{Source: src, Title: name, Reason: fmt.Sprintf("%d passkey(s) not imported: "+
				"a passkey cannot move between password managers; sign in with the password and add a new passkey if the site asks", n)})
		}
		bwHistory(res, &it, b, src, name)
		finishItem(res, &it, uris, extra, "Bitwarden fields")
	}
	return res, nil
}

// bwHistory keeps an item's password history as earlier versions, oldest
// first; an entry without a date it was last used cannot be placed and is
// reported.
func bwHistory(res *Result, it *Item, b bwItem, src, name string) {
	undated := 0
	for _, h := range b.PasswordHistory {
		t, err := time.Parse(time.RFC3339Nano, str(h.LastUsedDate))
		if err != nil || h.Password == nil {
			undated++
			continue
		}
		it.History = append(it.History, Past{Username: it.Username, Password: []byte(*h.Password), Date: t.UTC()})
	}
	sortHistory(res, it, src, name)
	if undated > 0 {
		res.Skipped = append(res.Skipped, Skipped{Source: src, Title: name, Reason: fmt.Sprintf("%d earlier password(s) not imported: "+
			"the file gives no date they were last used, so they cannot be placed in the history", undated)})
	}
}

// sortHistory puts an item's history oldest first and keeps the newest
// MaxHistory, reporting any left out.
func sortHistory(res *Result, it *Item, src, name string) {
	sort.SliceStable(it.History, func(i, j int) bool { return it.History[i].Date.Before(it.History[j].Date) })
	if n := len(it.History) - MaxHistory; n > 0 {
		for _, p := range it.History[:n] {
			wipeBuf(p.Password)
			wipeBuf(p.Notes)
		}
		it.History = it.History[n:]
		res.Skipped = append(res.Skipped, Skipped{Source: src, Title: name, Reason: fmt.Sprintf("its %d oldest earlier versions not imported: "+
			"Strongroom keeps the newest %d from a file", n, MaxHistory)})
	}
}

// finishItem applies the rules every format shares: the first URI is
// the URL and the rest go to the notes with any custom fields; an item
// with no name is named by its site or user; one with neither a
// password nor a TOTP is skipped. A TOTP with no password (a second
// factor kept on its own, as KeePassXC and Bitwarden allow) is imported
// as a credential whose password is empty: its seed is the secret worth
// keeping, and the health report lists the empty password.
func finishItem(res *Result, it *Item, uris, extra []string, heading string) {
	if len(uris) > 0 {
		it.URL = uris[0]
		if len(uris) > 1 {
			extra = append(extra, "Other URLs: "+strings.Join(uris[1:], " "))
		}
	}
	if len(extra) > 0 {
		if len(it.Notes) > 0 {
			it.Notes = append(it.Notes, "\n\n"...)
		}
		it.Notes = append(it.Notes, heading+":\n"+strings.Join(extra, "\n")...)
	}
	if it.Title == "" {
		it.Title = fallbackTitle(it.URL, it.Username)
	}
	switch {
	case it.Title == "":
		it.Wipe()
		res.Skipped = append(res.Skipped, Skipped{Source: it.Source, Reason: "no name, URL or user name to name it by"})
	case len(it.Password) == 0 && it.TOTP == "":
		it.Wipe()
		res.Skipped = append(res.Skipped, Skipped{Source: it.Source, Title: it.Title, Reason: "no password"})
	default:
		res.Items = append(res.Items, *it)
	}
}

// readCSV reads a whole CSV file strictly: every row the header's width,
// UTF-8, with a byte-order mark allowed.
func readCSV(format string, data []byte) (header []string, rows [][]string, err error) {
	if len(data) > MaxFileSize {
		return nil, nil, bad(format, "the file is larger than %d MiB", MaxFileSize>>20)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		return nil, nil, bad(format, "the file is not UTF-8 text (save it from the spreadsheet as \"CSV UTF-8\")")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = false
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				switch {
				case errors.Is(pe.Err, csv.ErrFieldCount):
					return nil, nil, bad(format, "line %d has %d columns; the header has %d", pe.StartLine, len(rec), len(header))
				case errors.Is(pe.Err, csv.ErrBareQuote):
					return nil, nil, bad(format, "line %d, column %d: a \" in a field that is not quoted", pe.Line, pe.Column)
				case errors.Is(pe.Err, csv.ErrQuote):
					return nil, nil, bad(format, "line %d, column %d: a \" missing or extra in a quoted field", pe.Line, pe.Column)
				}
				return nil, nil, bad(format, "line %d cannot be read as CSV", pe.StartLine)
			}
			return nil, nil, bad(format, "the file cannot be read as CSV")
		}
		if header == nil {
			header = rec
			continue
		}
		if len(rows) >= MaxItems {
			return nil, nil, bad(format, "the file has more than %d rows", MaxItems)
		}
		for _, f := range rec {
			if len(f) > maxField {
				return nil, nil, bad(format, "line %d has a field over %d KiB", len(rows)+2, maxField>>10)
			}
		}
		rows = append(rows, rec)
	}
	if header == nil {
		return nil, nil, bad(format, "the file is empty")
	}
	return header, rows, nil
}

func columns(header []string) map[string]int {
	m := map[string]int{}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if _, dup := m[k]; !dup {
			m[k] = i
		}
	}
	return m
}

// DecodeBitwardenCSV reads a Bitwarden CSV export (personal or
// organisation vault).
func DecodeBitwardenCSV(data []byte) (*Result, error) {
	header, rows, err := readCSV(bwCSV, data)
	if err != nil {
		return nil, err
	}
	col := columns(header)
	_, hasType := col["type"]
	_, hasName := col["name"]
	_, hasPassword := col["login_password"]
	if !hasType || !hasName || !hasPassword {
		// The header's own text is not quoted: without a header row it
		// is the first item, password included.
		return nil, bad(bwCSV, "the header (line 1, %d columns) lacks a type, name or login_password column: "+
			"is this a Bitwarden CSV export, with its header row?", len(header))
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok {
			return row[i]
		}
		return ""
	}
	res := &Result{}
	for n, row := range rows {
		src := fmt.Sprintf("line %d", n+2)
		name := strings.TrimSpace(get(row, "name"))
		if t := strings.TrimSpace(get(row, "type")); t != "login" {
			// The type is named only if it is one Bitwarden writes: the
			// column may hold anything.
			reason := "not a login"
			if kind := bwCSVTypes[t]; kind != "" {
				reason = kind + ", not a login"
			}
			res.Skipped = append(res.Skipped, Skipped{Source: src, Title: name, Reason: reason})
			continue
		}
		it := Item{Title: name, Username: get(row, "login_username"), Password: []byte(get(row, "login_password")),
			TOTP: strings.TrimSpace(get(row, "login_totp")), Notes: []byte(get(row, "notes")),
			Folder: strings.TrimSpace(get(row, "folder")), Source: src}
		for _, c := range strings.Split(get(row, "collections"), ",") {
			if c = strings.TrimSpace(c); c != "" {
				it.Tags = append(it.Tags, c)
			}
		}
		var uris, extra []string
		for _, u := range strings.Split(get(row, "login_uri"), ",") {
			if u = strings.TrimSpace(u); u != "" {
				uris = append(uris, u)
			}
		}
		for _, f := range strings.Split(get(row, "fields"), "\n") {
			if f = strings.TrimSpace(f); f != "" {
				extra = append(extra, f)
			}
		}
		finishItem(res, &it, uris, extra, "Bitwarden fields")
	}
	return res, nil
}
