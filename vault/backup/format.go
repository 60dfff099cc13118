package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Backup format v1 (SECURITY.md "Backups"):
//
//	"STRONGROOM BACKUP 1\n"
//	<length of the signed manifest, decimal>\n
//	<signed manifest: a sumdb/note whose text is one JSON line, signed with the audit key>
//	<the database: a bbolt snapshot of exactly manifest.size bytes>
//
// The database is a consistent snapshot (bbolt Tx.WriteTo) and is encrypted
// as the live database is: every record sealed, only the audit log and seal
// metadata in the clear. The manifest carries the vault ID, the time, the
// audit head at the snapshot, the size and the SHA-256 of the database.
const Magic = "STRONGROOM BACKUP 1\n"

// Manifest describes a backup.
type Manifest struct {
	VaultID    string    `json:"vault_id"`
	Created    time.Time `json:"created"`
	HeadSeq    uint64    `json:"audit_head_seq"`
	HeadHash   string    `json:"audit_head_hash"`
	Generation uint32    `json:"escrow_generation"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
}

// Errors a backup is refused with.
var (
	ErrNotBackup = errors.New("vault: not a Strongroom backup")
	ErrTruncated = errors.New("vault: backup is truncated")
	ErrCorrupt   = errors.New("vault: backup is corrupt")
	ErrForeign   = errors.New("vault: backup belongs to another vault")
	// ErrNoVerifierKey: a backup is checked only against the verifier key
	// the operator brings (printed by init and on every envelope), never
	// against the one inside it, which whoever doctored it could replace.
	ErrNoVerifierKey = errors.New("vault: no verifier key given to check the backup against")
)

// Sign signs the manifest as a note whose text is its JSON and a
// newline.
func Sign(m *Manifest, signer note.Signer) ([]byte, error) {
	text, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(text) + "\n"}, signer)
}

// WriteFrame writes the backup file: header, manifest length, the
// signed manifest, then the database.
func WriteFrame(w io.Writer, signed []byte, db io.Reader) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s%d\n", Magic, len(signed))
	bw.Write(signed)
	if _, err := io.Copy(bw, db); err != nil {
		return err
	}
	return bw.Flush()
}

// Parsed is a backup whose framing and checksum are sound.
type Parsed struct {
	Manifest Manifest
	Signed   []byte // the signed manifest
	DB       []byte // the database
}

// maxBackup bounds what is read into memory (a council's vault is small).
const maxBackup = 4 << 30

// Parse reads a backup file and checks its framing and checksum; it does
// not check the signature (Check does).
func Parse(r io.Reader) (*Parsed, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(Magic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != Magic {
		return nil, fmt.Errorf("%w (no STRONGROOM BACKUP 1 header)", ErrNotBackup)
	}
	line, err := br.ReadString('\n')
	n, perr := strconv.Atoi(strings.TrimSuffix(line, "\n"))
	if err != nil || perr != nil || n <= 0 || n > 64<<10 {
		return nil, fmt.Errorf("%w: the manifest length is unreadable", ErrCorrupt)
	}
	signed := make([]byte, n)
	if _, err := io.ReadFull(br, signed); err != nil {
		return nil, fmt.Errorf("%w: it ends inside the manifest", ErrTruncated)
	}
	text, _, ok := bytes.Cut(signed, []byte("\n\n"))
	var m Manifest
	if !ok || json.Unmarshal(text, &m) != nil || m.Size <= 0 || m.Size > maxBackup {
		return nil, fmt.Errorf("%w: the manifest is unreadable", ErrCorrupt)
	}
	db := make([]byte, m.Size)
	got, err := io.ReadFull(br, db)
	if err != nil {
		return nil, fmt.Errorf("%w: the manifest says %d bytes of database but the file holds %d", ErrTruncated, m.Size, got)
	}
	if extra, _ := br.Peek(1); len(extra) > 0 {
		return nil, fmt.Errorf("%w: data after the end of the database", ErrCorrupt)
	}
	sum := sha256.Sum256(db)
	if hex.EncodeToString(sum[:]) != m.SHA256 {
		return nil, fmt.Errorf("%w: the database's SHA-256 does not match the manifest (a changed or damaged byte)", ErrCorrupt)
	}
	return &Parsed{Manifest: m, Signed: signed, DB: db}, nil
}
