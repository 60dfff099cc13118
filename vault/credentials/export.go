package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

// ExportKDBX writes every live admin and shared credential, and the
// caller's own personal ones, to a KDBX 4 file under passphrase (which
// must be as strong as an account password). Provider only, after
// re-authentication (password and a TOTP code not used before, which
// counts towards lockout like a login). Each credential's read is a
// cred.export entry and the whole is an export.kdbx entry, written in
// the same transaction as the reads: if they cannot be recorded nothing
// is returned. Entries are in groups named by kind, tags kept (a "," or
// ";" in a tag as its fullwidth form: transfer.ExportTag), dated as the
// vault dates the credential, with every earlier version as KDBX history.
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
	var items []transfer.Item
	var rep ExportReport
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		now := c.now()
		pwOK, step, err := c.people.ReauthInputs(ctx, h, p, ra, now)
		if err != nil {
			return err
		}
		return h.Write(ctx, func(tx barrier.Tx) error {
			for i := range items {
				items[i].Wipe()
			}
			items, rep, result = nil, ExportReport{}, nil
			target := audit.Target{Kind: "export", Name: "kdbx"}
			if p.Role != access.RoleProvider {
				result = &access.ForbiddenError{Action: "export", Target: "kdbx"}
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ExportKDBX, Target: target,
					Outcome: audit.OutcomeDenied, Reason: "only the IT provider may export"})
			}
			denied, err := c.people.CheckReauth(tx, req, p, pwOK, step, now, audit.ExportKDBX, target)
			if err != nil || denied != nil {
				result = denied
				return err
			}
			var heads []*credHead
			if err := eachHead(tx, func(h *credHead) bool {
				switch {
				case h.Deleted:
				case h.Kind == access.KindPersonal && h.Owner != p.UserID:
					rep.OthersPersonal++
				default:
					heads = append(heads, h)
				}
				return true
			}); err != nil {
				return err
			}
			for _, h := range heads {
				it, err := exportItem(tx, h)
				if it != nil {
					items = append(items, *it)
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
			rep.Exported = len(items)
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.ExportKDBX, Target: target,
				Reason: fmt.Sprintf("%d credentials exported after re-authentication; %d other people's personal credentials left out",
					rep.Exported, rep.OthersPersonal)})
		})
	})
	if err == nil {
		err = result
	}
	defer func() {
		for i := range items {
			items[i].Wipe()
		}
	}()
	if err != nil {
		return nil, nil, err
	}
	o := transfer.KDBXOptions{MemoryKiB: c.kdf.Memory, Iterations: c.kdf.Time, Lanes: max(c.kdf.Threads, 1),
		Name: "Strongroom export", Now: c.now()}
	out, err := transfer.EncodeKDBX(items, passphrase, o)
	if err != nil {
		return nil, nil, err
	}
	return out, &rep, nil
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
