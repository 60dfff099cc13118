package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"strongroom/audit"
	"strongroom/transfer"
	"strongroom/vault/barrier"
	"strongroom/vault/passwords"
)

// ImportOptions says how imported items land in the vault.
type ImportOptions struct {
	Format    string   // the file's format, for the record
	Kind      string   // kind of every imported credential (default shared)
	Assignees []string // user names; default the importer
	Tag       string   // a tag added to every item (default "imported")
	DryRun    bool     // check and report, write nothing
	// ConvertedFrom, if set, says what the client converted the file from
	// (recorded; at most 200 characters).
	ConvertedFrom string
}

// ImportReport says what an import did (or, dry, would do).
type ImportReport struct {
	Format        string             `json:"format"`
	Kind          Kind               `json:"kind"`
	DryRun        bool               `json:"dry_run"`
	ConvertedFrom string             `json:"converted_from,omitempty"`
	Imported      []ImportedItem     `json:"imported"`
	Skipped       []transfer.Skipped `json:"skipped"`
}

// ImportedItem is one credential an import created.
type ImportedItem struct {
	Name    string   `json:"name"`
	Source  string   `json:"source"`
	Tags    []string `json:"tags"`
	HasTOTP bool     `json:"has_totp"`
	// Note says what was changed on the way in: a renamed duplicate, a
	// TOTP seed that could not be kept.
	Note string `json:"note,omitempty"`
}

// Import reads a file with decode (called only once the caller is known
// to be allowed to import) and stores its items as new credentials, all
// in one transaction: every item lands, with a cred.create entry each and
// one cred.import entry, or nothing does. A file that cannot be read is
// refused whole and recorded as a failed cred.import. Items that cannot
// be stored (no usable name, a field too long) are skipped and reported
// with what the decoder skipped; a name already taken gets the item's
// folder, or a number, appended. Decoded secrets are wiped.
func (v *Vault) Import(ctx context.Context, req Request, p *Principal, opt ImportOptions, decode func() (*transfer.Result, error)) (*ImportReport, error) {
	if opt.Kind == "" {
		opt.Kind = string(KindShared)
	}
	kind, err := ParseKind(opt.Kind)
	if err != nil {
		return nil, err
	}
	if opt.Tag == "" {
		opt.Tag = "imported"
	}
	if err := checkName("tag", opt.Tag); err != nil {
		return nil, err
	}
	if len(opt.ConvertedFrom) > 200 || !utf8.ValidString(opt.ConvertedFrom) {
		return nil, invalidField("converted_from", "converted_from is at most 200 characters of text")
	}
	source := opt.Format
	if opt.ConvertedFrom != "" {
		source += " (" + opt.ConvertedFrom + ")"
	}
	target := audit.Target{Kind: "import", Name: opt.Format}
	if !mayManage(p, kind, nil) || p.Role == RoleAuditor {
		return nil, v.recordThen(ctx, req, event{actor: actorOf(p), action: audit.CredImport, target: target,
			outcome: audit.OutcomeDenied, reason: fmt.Sprintf("role %s may not create %s credentials", p.Role, kind)},
			&ForbiddenError{Action: audit.CredImport, Target: opt.Format})
	}
	res, err := decode()
	if err != nil {
		// Decoder errors name the failure and where, never a value.
		return nil, v.recordThen(ctx, req, event{actor: actorOf(p), action: audit.CredImport, target: target,
			outcome: audit.OutcomeError, reason: "file refused: " + strings.TrimPrefix(err.Error(), "transfer: ")}, err)
	}
	defer res.Wipe()
	rep := &ImportReport{Format: opt.Format, ConvertedFrom: opt.ConvertedFrom, Kind: kind, DryRun: opt.DryRun,
		Skipped: append([]transfer.Skipped{}, res.Skipped...)}
	ready := prepareImport(res.Items, opt.Tag, rep)
	before := rep.Skipped
	err = v.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			rep.Imported, rep.Skipped = nil, before[:len(before):len(before)]
			return v.importTx(tx, req, p, kind, opt, source, ready, rep)
		})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// importItem is an item checked and made ready outside the transaction.
type importItem struct {
	it   *transfer.Item
	totp []byte
	tags []string
	note string
}

// prepareImport checks items and normalises their TOTP and tags, adding
// what cannot be stored to rep.Skipped.
func prepareImport(items []transfer.Item, tag string, rep *ImportReport) []importItem {
	var ready []importItem
	for i := range items {
		it := &items[i]
		skip := func(reason string) {
			rep.Skipped = append(rep.Skipped, transfer.Skipped{Source: it.Source, Title: it.Title, Reason: reason})
		}
		switch {
		case len(it.Password) > 4096 || len(it.Notes) > 64*1024 || len(it.URL) > 2048 || len(it.Username) > 512:
			skip("a field is longer than Strongroom keeps (password 4096, notes 65536, URL 2048, user name 512 bytes)")
			continue
		case !utf8.Valid(it.Password) || !utf8.ValidString(it.Username) || !utf8.ValidString(it.URL) || !utf8.Valid(it.Notes):
			skip("a field is not valid UTF-8 text")
			continue
		}
		pr := importItem{it: it}
		if it.TOTP != "" {
			t, err := normaliseTOTP(it.TOTP, it.Title)
			var ie *InputError
			if errors.As(err, &ie) {
				pr.note = "TOTP not imported: " + ie.Msg
			}
			pr.totp = t
		}
		seen := map[string]bool{}
		for _, t := range append(append([]string{tag}, folderTag(it.Folder)...), it.Tags...) {
			t = strings.TrimSpace(t)
			if t != "" && !seen[strings.ToLower(t)] && utf8.RuneCountInString(t) <= 100 {
				seen[strings.ToLower(t)] = true
				pr.tags = append(pr.tags, t)
			}
		}
		if len(pr.tags) > 50 {
			pr.tags = pr.tags[:50]
		}
		ready = append(ready, pr)
	}
	return ready
}

// importTx stores the ready items in tx (or, for a dry run, only reports
// what would be stored), renaming any whose name is taken.
func (v *Vault) importTx(tx barrier.Tx, req Request, p *Principal, kind Kind, opt ImportOptions, source string,
	ready []importItem, rep *ImportReport) error {
	if err := checkRoutine(tx); err != nil {
		return err
	}
	_, users, err := userNames(tx)
	if err != nil {
		return err
	}
	assignees := opt.Assignees
	if len(assignees) == 0 {
		assignees = []string{p.Name}
	}
	ids, err := resolveAssignees(p, kind, assignees, users)
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	if err := eachHead(tx, func(h *credHead) bool {
		if !h.Deleted {
			taken[strings.ToLower(h.Name)] = true
		}
		return true
	}); err != nil {
		return err
	}
	now := v.now()
	for _, pr := range ready {
		name, note := uniqueName(pr.it.Title, pr.it.Folder, taken), pr.note
		if name == "" {
			rep.Skipped = append(rep.Skipped, transfer.Skipped{Source: pr.it.Source, Title: pr.it.Title,
				Reason: "its name cannot be used (1 to 100 printable characters, no leading or trailing space)"})
			continue
		}
		if name != pr.it.Title {
			note = strings.TrimPrefix(note+"; renamed from "+quote(pr.it.Title)+": the name was taken", "; ")
		}
		taken[strings.ToLower(name)] = true
		rep.Imported = append(rep.Imported, ImportedItem{Name: name, Source: pr.it.Source, Tags: pr.tags,
			HasTOTP: len(pr.totp) > 0, Note: note})
		if opt.DryRun {
			continue
		}
		h := &credHead{ID: newID(), Name: name, Kind: kind, Owner: p.UserID, Created: now, Updated: now,
			Version: 1, URL: pr.it.URL, Username: pr.it.Username, Tags: pr.tags, Assignees: ids, HasTOTP: len(pr.totp) > 0}
		cv := credVersion{Version: 1, Username: pr.it.Username, URL: pr.it.URL, Password: pr.it.Password,
			TOTP: pr.totp, Notes: pr.it.Notes, Created: now, CreatedBy: p.Name}
		if err := tx.PutRecord(bucketCredentials, versionKey(h.ID, 1), &cv); err != nil {
			return err
		}
		if err := putHead(tx, h); err != nil {
			return err
		}
		if err := v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.CredCreate,
			target: audit.Target{Kind: "credential", ID: h.ID, Name: h.Name},
			reason: fmt.Sprintf("imported from %s, %s; version 1", source, pr.it.Source)}); err != nil {
			return err
		}
	}
	if opt.DryRun {
		return nil
	}
	return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.CredImport, target: audit.Target{Kind: "import", Name: opt.Format},
		reason: fmt.Sprintf("%d imported as %s from %s, %d skipped", len(rep.Imported), kind, source, len(rep.Skipped))})
}

// folderTag keeps a folder path as one tag.
func folderTag(folder string) []string {
	if f := strings.Trim(strings.TrimSpace(folder), "/"); f != "" {
		return []string{f}
	}
	return nil
}

// uniqueName returns title, or title with its folder or a number
// appended if the name is taken; "" if no usable name can be made.
func uniqueName(title, folder string, taken map[string]bool) string {
	title = strings.TrimSpace(title)
	if checkName("credential", title) != nil {
		return ""
	}
	if !taken[strings.ToLower(title)] {
		return title
	}
	if f := strings.Trim(folder, "/"); f != "" {
		if n := title + " (" + f + ")"; checkName("credential", n) == nil && !taken[strings.ToLower(n)] {
			return n
		}
	}
	for i := 2; i < 10000; i++ {
		if n := fmt.Sprintf("%s (%d)", title, i); checkName("credential", n) == nil && !taken[strings.ToLower(n)] {
			return n
		}
	}
	return ""
}

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
// is returned. Entries are in groups named by kind, tags kept.
//
// The file's Argon2id cost is the vault's own passphrase KDF setting
// (server --kdf-memory, --kdf-time).
func (v *Vault) ExportKDBX(ctx context.Context, req Request, p *Principal, ra Reauth, passphrase []byte) ([]byte, *ExportReport, error) {
	defer wipe(ra.Password)
	defer wipe(passphrase)
	if err := passwords.CheckNew(p.Name, nil, passphrase); err != nil {
		var ie *InputError
		if !errors.As(err, &ie) {
			return nil, nil, err
		}
		return nil, nil, invalidField("passphrase", "%s", strings.Replace(ie.Msg, "the new password", "the export passphrase", 1))
	}
	var items []transfer.Item
	var rep ExportReport
	var result error
	err := v.barrier.Hold(func(h *barrier.Held) error {
		now := v.now()
		pwOK, step, err := v.accounts.ReauthInputs(ctx, h, p, ra, now)
		if err != nil {
			return err
		}
		return h.Write(ctx, func(tx barrier.Tx) error {
			for i := range items {
				items[i].Wipe()
			}
			items, rep, result = nil, ExportReport{}, nil
			target := audit.Target{Kind: "export", Name: "kdbx"}
			if p.Role != RoleProvider {
				result = &ForbiddenError{Action: "export", Target: "kdbx"}
				return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.ExportKDBX, target: target,
					outcome: audit.OutcomeDenied, reason: "only the IT provider may export"})
			}
			denied, err := v.accounts.CheckReauth(tx, req, p, pwOK, step, now, audit.ExportKDBX, target)
			if err != nil || denied != nil {
				result = denied
				return err
			}
			var heads []*credHead
			if err := eachHead(tx, func(h *credHead) bool {
				switch {
				case h.Deleted:
				case h.Kind == KindPersonal && h.Owner != p.UserID:
					rep.OthersPersonal++
				default:
					heads = append(heads, h)
				}
				return true
			}); err != nil {
				return err
			}
			for _, h := range heads {
				var cv credVersion
				ok, err := tx.GetRecord(bucketCredentials, versionKey(h.ID, h.Version), &cv)
				if err != nil || !ok {
					return errors.Join(err, fmt.Errorf("vault: credential %q has no version %d", h.Name, h.Version))
				}
				items = append(items, transfer.Item{Title: h.Name, Username: cv.Username, URL: cv.URL,
					Password: cv.Password, Notes: cv.Notes, TOTP: string(cv.TOTP), Folder: string(h.Kind),
					Tags: append([]string(nil), h.Tags...)})
				if err := v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.CredExport,
					target: audit.Target{Kind: "credential", ID: h.ID, Name: h.Name},
					reason: fmt.Sprintf("KDBX export; version %d", cv.Version)}); err != nil {
					return err
				}
			}
			rep.Exported = len(items)
			return v.appendAudit(tx, req, event{actor: actorOf(p), action: audit.ExportKDBX, target: target,
				reason: fmt.Sprintf("%d credentials exported after re-authentication; %d other people's personal credentials left out",
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
	o := transfer.KDBXOptions{MemoryKiB: v.kdf.Memory, Iterations: v.kdf.Time, Lanes: max(v.kdf.Threads, 1),
		Name: "Strongroom export", Now: v.now()}
	out, err := transfer.EncodeKDBX(items, passphrase, o)
	if err != nil {
		return nil, nil, err
	}
	return out, &rep, nil
}
