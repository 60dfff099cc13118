package credentials

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"strongroom/audit"
	"strongroom/transfer"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/passwords"
	"strongroom/vault/storage"
)

// ExportReport says what an export held and what it left out.
type ExportReport struct {
	Exported int `json:"exported"`
	// OthersPersonal counts other people's personal credentials, which are
	// theirs alone and never exported.
	OthersPersonal int `json:"others_personal_left_out"`
}

// exportChunk is how many credentials one export transaction reads
// (with every version of each): short transactions, as the store
// contract asks of long work.
const exportChunk = 256

// exportAttempts is how often an export reads the vault again when a
// credential changed while it read; then it gives up (ErrConflict).
const exportAttempts = 3

// ExportKDBX writes every live admin and shared credential, and the
// caller's own personal ones, to a KDBX 4 file under passphrase (which
// must be as strong as an account password). Provider only, after
// re-authentication (password and a TOTP code not used before, which
// counts towards lockout like a login). Entries are in groups named by
// kind, tags kept (a "," or ";" in a tag as its fullwidth form:
// transfer.ExportTag), dated as the vault dates the credential, with
// every earlier version as KDBX history.
//
// The credentials are read exportChunk at a time, each chunk in its own
// write transaction that also appends a cred.export entry for each
// credential it read: a read is recorded in the transaction that makes
// it, or not made. The file is one snapshot nonetheless: the first
// transaction notes each credential's head (its name, kind, owner, tags,
// version and time changed), each chunk reads only heads still as noted,
// and a last transaction, finding every head of the vault as noted,
// appends the export.kdbx entry; versions are never rewritten, so what
// was read is what the vault holds at that commit. If a credential
// changed meanwhile, the export reads again from the heads as they now
// are (the earlier reads stay recorded, as they happened), up to
// exportAttempts times, then refuses with ErrConflict, recorded.
//
// The file's Argon2id cost is the vault's own passphrase KDF setting
// (server --kdf-memory, --kdf-time).
func (c *Credentials) ExportKDBX(ctx context.Context, req auditlog.Request, p *access.Principal, ra access.Reauth, passphrase []byte) ([]byte, *ExportReport, error) {
	defer barrier.Wipe(ra.Password)
	defer barrier.Wipe(passphrase)
	if err := passwords.CheckNew(p.Name, nil, passphrase); err != nil {
		var ie *access.InputError
		if !errors.As(err, &ie) {
			return nil, nil, err
		}
		return nil, nil, access.Invalid("passphrase", "%s", strings.Replace(ie.Msg, "the new password", "the export passphrase", 1))
	}
	snap, err := c.exportBegin(ctx, req, p, ra)
	if err != nil {
		return nil, nil, err
	}
	var items []transfer.Item
	defer func() { wipeItems(items) }()
	for attempt := 1; ; attempt++ {
		wipeItems(items)
		var complete bool
		if items, complete, err = c.exportRead(ctx, req, p, snap); err != nil {
			return nil, nil, err
		}
		now, err := c.exportFinish(ctx, req, p, snap, complete, attempt)
		if err != nil {
			return nil, nil, err
		}
		if now == nil {
			break
		}
		snap = now
	}
	o := transfer.KDBXOptions{MemoryKiB: c.kdf.Memory, Iterations: c.kdf.Time, Lanes: max(c.kdf.Threads, 1),
		Name: "Strongroom export", Now: c.now()}
	out, err := transfer.EncodeKDBX(items, passphrase, o)
	if err != nil {
		return nil, nil, err
	}
	return out, &ExportReport{Exported: len(items), OthersPersonal: snap.othersPersonal}, nil
}

func wipeItems(items []transfer.Item) {
	for i := range items {
		items[i].Wipe()
	}
}

// exportStamp is what an export notes of a credential's head: if any of
// it changes, the credential changed.
type exportStamp struct {
	id, name, owner, tags string
	kind                  access.Kind
	version               int
	updated               time.Time
}

func stampOf(h *credHead) exportStamp {
	return exportStamp{id: h.ID, name: h.Name, owner: h.Owner, tags: strings.Join(h.Tags, "\x00"), kind: h.Kind,
		version: h.Version, updated: h.Updated}
}

// exportSnapshot is the credentials an export holds, as noted.
type exportSnapshot struct {
	heads          []exportStamp
	othersPersonal int
}

// snapshotHeads notes, in tx, the live heads p may export.
func snapshotHeads(tx barrier.Tx, p *access.Principal) (*exportSnapshot, error) {
	s := &exportSnapshot{}
	err := eachHead(tx, func(h *credHead) bool {
		switch {
		case h.Deleted:
		case h.Kind == access.KindPersonal && h.Owner != p.UserID:
			s.othersPersonal++
		default:
			s.heads = append(s.heads, stampOf(h))
		}
		return true
	})
	return s, err
}

func (s *exportSnapshot) equal(o *exportSnapshot) bool {
	return s.othersPersonal == o.othersPersonal && slices.Equal(s.heads, o.heads)
}

// exportBegin checks the caller may export (provider, re-authenticated:
// a refusal is recorded and returned) and notes the heads to export.
func (c *Credentials) exportBegin(ctx context.Context, req auditlog.Request, p *access.Principal, ra access.Reauth) (*exportSnapshot, error) {
	var snap *exportSnapshot
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		now := c.now()
		rc, err := c.people.ReauthInputs(ctx, h, p, ra, now)
		if err != nil {
			return err
		}
		return h.Write(ctx, func(tx barrier.Tx) error {
			snap, result = nil, nil
			target := audit.Target{Kind: "export", Name: "kdbx"}
			if p.Role != access.RoleProvider {
				result = &access.ForbiddenError{Action: "export", Target: "kdbx"}
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ExportKDBX, Target: target,
					Outcome: audit.OutcomeDenied, Reason: "only the IT provider may export"})
			}
			denied, err := c.people.CheckReauth(tx, req, p, rc, now, audit.ExportKDBX, target)
			if err != nil || denied != nil {
				result = denied
				return err
			}
			snap, err = snapshotHeads(tx, p)
			return err
		})
	})
	return snap, access.FirstErr(err, result)
}

// exportRead reads the snapshot's credentials a chunk at a time, each
// read recorded in its chunk's transaction. It stops early (complete
// false, no error) at a head that is no longer as noted.
func (c *Credentials) exportRead(ctx context.Context, req auditlog.Request, p *access.Principal, snap *exportSnapshot) (items []transfer.Item, complete bool, err error) {
	for from := 0; from < len(snap.heads); from += exportChunk {
		if from > 0 {
			c.pause("export.chunk")
		}
		var chunk []transfer.Item
		changed := false
		err := c.barrier.Write(ctx, func(tx barrier.Tx) error {
			wipeItems(chunk) // a group commit may run this again
			chunk, changed = nil, false
			for _, st := range snap.heads[from:min(from+exportChunk, len(snap.heads))] {
				h, ok, err := getHead(tx, st.id)
				if err != nil {
					return err
				}
				if !ok || h.Deleted || stampOf(h) != st {
					changed = true
					return nil
				}
				it, err := exportItem(tx, h)
				if it != nil {
					chunk = append(chunk, *it)
				}
				if err != nil {
					return err
				}
				reason := fmt.Sprintf("KDBX export; version %d", h.Version)
				if h.Version > 1 {
					reason += fmt.Sprintf(", with versions 1 to %d as its history", h.Version-1)
				}
				if err := c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredExport,
					Target: audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}, Reason: reason}); err != nil {
					return err
				}
			}
			return nil
		})
		items = append(items, chunk...)
		if err != nil || changed {
			return items, false, err
		}
	}
	return items, true, nil
}

// exportFinish, in one transaction, compares the vault's heads with the
// snapshot. Unchanged and read completely, it appends the export.kdbx entry and returns nil;
// changed, it returns the heads as they now are for another attempt, or
// after the last attempt records the refusal and returns ErrConflict.
func (c *Credentials) exportFinish(ctx context.Context, req auditlog.Request, p *access.Principal, snap *exportSnapshot, complete bool, attempt int) (*exportSnapshot, error) {
	var now *exportSnapshot
	var result error
	err := c.barrier.Write(ctx, func(tx barrier.Tx) error {
		now, result = nil, nil
		cur, err := snapshotHeads(tx, p)
		if err != nil {
			return err
		}
		ev := auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ExportKDBX, Target: audit.Target{Kind: "export", Name: "kdbx"}}
		switch {
		case complete && cur.equal(snap):
			ev.Reason = fmt.Sprintf("%d credentials exported after re-authentication; %d other people's personal credentials left out",
				len(snap.heads), snap.othersPersonal)
		case attempt < exportAttempts:
			now = cur
			return nil
		default:
			result = fmt.Errorf("%w: credentials changed while the export read them, %d times; nothing was exported", access.ErrConflict, exportAttempts)
			ev.Outcome, ev.Reason = audit.OutcomeError, fmt.Sprintf("credentials changed while the export read them, %d times; nothing was exported", exportAttempts)
		}
		return c.log.Append(tx, req, ev)
	})
	return now, access.FirstErr(err, result)
}

// exportItem reads a credential's current version and, as its history,
// every earlier one (oldest first, each dated when it was made). On an
// error the item read so far is returned too, for the caller to wipe.
func exportItem(tx barrier.Tx, h *credHead) (*transfer.Item, error) {
	it := &transfer.Item{Title: h.Name, Folder: string(h.Kind), Tags: append([]string(nil), h.Tags...),
		Created: h.Created, Modified: h.Updated}
	for ver := 1; ver <= h.Version; ver++ {
		var cv credVersion
		ok, err := tx.GetRecord(storage.BucketCredentials, versionKey(h.ID, ver), &cv)
		if err != nil || !ok {
			return it, errors.Join(err, fmt.Errorf("vault: credential %q has no version %d", h.Name, ver))
		}
		totp := string(cv.TOTP)
		barrier.Wipe(cv.TOTP)
		if ver < h.Version {
			it.History = append(it.History, transfer.Past{Username: cv.Username, URL: cv.URL, Password: cv.Password,
				Notes: cv.Notes, TOTP: totp, Date: cv.Created})
			continue
		}
		it.Username, it.URL, it.Password, it.Notes, it.TOTP = cv.Username, cv.URL, cv.Password, cv.Notes, totp
	}
	return it, nil
}
