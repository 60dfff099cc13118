package transfer

import (
	"errors"
	"fmt"
	"time"
)

// Limits on what a decoder accepts. A council's whole password file is
// a few hundred entries; these leave a wide margin and stop hostile
// files early.
const (
	MaxFileSize = 16 << 20 // bytes of input
	MaxItems    = 10000    // items in one file
	MaxHistory  = 50       // earlier versions kept of one item
	maxDepth    = 64       // nesting of groups or XML elements
	maxField    = 64 << 10 // bytes in one field
)

// Item is one credential read from or written to a file. Password and
// Notes are bytes the caller wipes (Wipe).
type Item struct {
	Title    string
	Username string
	URL      string
	Password []byte
	Notes    []byte
	// TOTP is an otpauth://totp URI or a bare base32 seed, or empty.
	TOTP string
	// Folder is the group or folder path, "/"-separated, without the
	// file's root group; empty at the root.
	Folder string
	// Tags are the item's own tags (KDBX Tags, Bitwarden has none).
	Tags []string
	// Source says where in the file the item came from ("entry 12",
	// "line 7"), for reports.
	Source string
	// History is the item's earlier passwords the file dates, oldest
	// first (KDBX entry history, Bitwarden passwordHistory).
	History []Past
	// Created and Modified are when the item was made and last changed,
	// as an export writes them (zero: the export's time). Decoders leave
	// them zero.
	Created, Modified time.Time
}

// Past is one earlier version of an item, as the file kept it.
type Past struct {
	Username string
	URL      string
	Password []byte
	Notes    []byte
	// TOTP is the version's TOTP, as Item.TOTP; only exports set it.
	TOTP string
	// Date is the date the file gives the version: when it was made
	// (KeePass: its LastModificationTime) or last used (Bitwarden's
	// lastUsedDate). History is sorted by it.
	Date time.Time
}

// Wipe zeroes the item's secret bytes.
func (it *Item) Wipe() {
	for _, b := range [][]byte{it.Password, it.Notes} {
		wipeBuf(b)
	}
	for _, p := range it.History {
		wipeBuf(p.Password)
		wipeBuf(p.Notes)
	}
}

// String redacts: an Item never prints its secrets.
func (it Item) String() string {
	return fmt.Sprintf("item %q at %s (secrets redacted)", it.Title, it.Source)
}

// Skipped is an entry a decoder did not turn into an item, and why.
type Skipped struct {
	Source string `json:"source"`
	Title  string `json:"title,omitempty"`
	Reason string `json:"reason"`
}

// Result is what a decoder read.
type Result struct {
	Items   []Item
	Skipped []Skipped
}

// Wipe zeroes every item's secrets.
func (r *Result) Wipe() {
	for i := range r.Items {
		r.Items[i].Wipe()
	}
}

// FormatError is a file that cannot be read. Its message says what is
// wrong and where (a line, column, item, block or byte offset) and names
// only what the format itself defines (a column Strongroom expects, a
// header field), never text from the file: Msg is a fixed text with
// numbers filled in, as strconv's and encoding/json's errors are, so it
// can go into an audit entry, a log or an answer to a client.
type FormatError struct {
	Format string // one of Formats, or "key file"
	Msg    string
}

func (e *FormatError) Error() string { return "transfer: " + e.Format + ": " + e.Msg }

// ErrBadKey is a KDBX file whose password or key file is wrong (or whose
// header was altered: the two cannot be told apart).
var ErrBadKey = errors.New("transfer: kdbx: wrong password or key file, or the file's header was altered")

// bad is a FormatError. msg must be a string literal (a test checks every
// call) and args are numbers only, so nothing read from the input can
// reach the message.
func bad(format, msg string, args ...int) error {
	a := make([]any, len(args))
	for i, v := range args {
		a[i] = v
	}
	return &FormatError{Format: format, Msg: fmt.Sprintf(msg, a...)}
}

// Formats lists the formats Decode accepts.
var Formats = []string{"kdbx", "keepass-xml", "bitwarden-json", "bitwarden-csv", "csv"}
