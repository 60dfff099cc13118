package credentials

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"strongroom/audit"
	"strongroom/transfer"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
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
	Kind          access.Kind        `json:"kind"`
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
	// History is how many earlier versions came from the file's password
	// history (stored as versions 1 to History).
	History int `json:"history,omitempty"`
	// Note says what was changed on the way in: a renamed duplicate, a
	// TOTP seed that could not be kept.
	Note string `json:"note,omitempty"`
}

// Import reads a file with decode (called only once the caller is known
// to be allowed to import) and stores its items as new credentials, in
// writes of at most importChunk items (the store contract bounds a
// transaction): each chunk lands whole, with a cred.create entry per item,
// or not at all, and the last carries the cred.import entry. If a chunk
// fails after others have landed, those stay, the failure is recorded as
// a failed cred.import saying how many were stored, and the error says so.
// A file that cannot be read is refused whole and recorded as a failed
// cred.import. Items that cannot be stored (no usable name, a field too
// long) are skipped and reported with what the decoder skipped; a name
// already taken gets the item's folder, or a number, appended. Decoded
// secrets are wiped.
func (c *Credentials) Import(ctx context.Context, req auditlog.Request, p *access.Principal, opt ImportOptions, decode func() (*transfer.Result, error)) (*ImportReport, error) {
	if opt.Kind == "" {
		opt.Kind = string(access.KindShared)
	}
	kind, err := access.ParseKind(opt.Kind)
	if err != nil {
		return nil, err
	}
	if opt.Tag == "" {
		opt.Tag = "imported"
	}
	if err := access.CheckName("tag", opt.Tag); err != nil {
		return nil, err
	}
	if len(opt.ConvertedFrom) > 200 || !utf8.ValidString(opt.ConvertedFrom) {
		return nil, access.Invalid("converted_from", "converted_from is at most 200 characters of text")
	}
	source := opt.Format
	if opt.ConvertedFrom != "" {
		source += " (" + opt.ConvertedFrom + ")"
	}
	target := audit.Target{Kind: "import", Name: opt.Format}
	if !mayManage(p, kind, nil) || p.Role == access.RoleAuditor {
		return nil, c.log.RecordThen(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredImport, Target: target,
			Outcome: audit.OutcomeDenied, Reason: fmt.Sprintf("role %s may not create %s credentials", p.Role, kind)},
			&access.ForbiddenError{Action: audit.CredImport, Target: opt.Format})
	}
	res, err := decode()
	if err != nil {
		return nil, c.log.RecordThen(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredImport, Target: target,
			Outcome: audit.OutcomeError, Reason: refusalReason(err)}, err)
	}
	defer res.Wipe()
	rep := &ImportReport{Format: opt.Format, ConvertedFrom: opt.ConvertedFrom, Kind: kind, DryRun: opt.DryRun,
		Imported: []ImportedItem{}, Skipped: append([]transfer.Skipped{}, res.Skipped...)}
	ready := prepareImport(res.Items, opt.Tag, rep)
	err = c.barrier.Hold(func(h *barrier.Held) error { return c.importChunks(ctx, h, req, p, kind, opt, source, ready, rep) })
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// refusalReason is what a refused file's entry says. Only the decoder's
// typed errors are quoted (their text is fixed, with positions: see
// transfer.FormatError); any other error's text could carry anything and
// is left out.
func refusalReason(err error) string {
	var fe *transfer.FormatError
	switch {
	case errors.As(err, &fe):
		return "file refused: " + fe.Format + ": " + fe.Msg
	case errors.Is(err, transfer.ErrBadKey):
		return "file refused: " + strings.TrimPrefix(transfer.ErrBadKey.Error(), "transfer: ")
	}
	return "file refused: it could not be read"
}

// importChunk is how many items one write of an import stores.
var importChunk = 200

// importChunks stores ready in chunks, each in its own write.
func (c *Credentials) importChunks(ctx context.Context, h *barrier.Held, req auditlog.Request, p *access.Principal, kind access.Kind,
	opt ImportOptions, source string, ready []importItem, rep *ImportReport) error {
	planned := map[string]bool{} // a dry run's names, which no write makes findable
	for start := 0; ; start += importChunk {
		end := min(start+importChunk, len(ready))
		nImported, nSkipped := len(rep.Imported), len(rep.Skipped)
		var chunkPlanned map[string]bool
		err := h.Write(ctx, func(tx barrier.Tx) error {
			// A write may run again (group commit retries): start over.
			rep.Imported, rep.Skipped = rep.Imported[:nImported:nImported], rep.Skipped[:nSkipped:nSkipped]
			chunkPlanned = maps.Clone(planned)
			return c.importTx(tx, req, p, kind, opt, source, ready[start:end], rep, chunkPlanned, end == len(ready))
		})
		if err != nil && start > 0 {
			_ = c.log.Record(ctx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredImport,
				Target: audit.Target{Kind: "import", Name: opt.Format}, Outcome: audit.OutcomeError,
				Reason: fmt.Sprintf("stopped after %d of %d were stored as %s from %s", nImported, len(ready), kind, source)})
			return fmt.Errorf("vault: the import stopped after %d of %d credentials were stored (they are kept): %w", nImported, len(ready), err)
		}
		if err != nil {
			return err
		}
		planned = chunkPlanned
		if end == len(ready) {
			return nil
		}
	}
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
		totp, note := importTOTP(it) // first: a TOTP it cannot keep lands in the notes, checked below
		switch {
		case len(it.Password) > 4096 || len(it.Notes) > 64*1024 || len(it.URL) > 2048 || len(it.Username) > 512:
			skip("a field is longer than Strongroom keeps (password 4096, notes 65536, URL 2048, user name 512 bytes)")
			continue
		case !utf8.Valid(it.Password) || !utf8.ValidString(it.Username) || !utf8.ValidString(it.URL) || !utf8.Valid(it.Notes):
			skip("a field is not valid UTF-8 text")
			continue
		}
		checkHistory(it, skip)
		pr := importItem{it: it, totp: totp, note: note}
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
func (c *Credentials) importTx(tx barrier.Tx, req auditlog.Request, p *access.Principal, kind access.Kind, opt ImportOptions, source string,
	ready []importItem, rep *ImportReport, planned map[string]bool, last bool) error {
	if err := c.recovery.Routine(tx); err != nil {
		return err
	}
	_, users, err := c.userNames(tx)
	if err != nil {
		return err
	}
	assignees := opt.Assignees
	if len(assignees) == 0 {
		assignees = []string{p.Name}
	}
	ids, err := resolveAssignees(p, kind, scopeOf{name: "an imported credential"}, assignees, users)
	if err != nil {
		return err
	}
	var lookupErr error
	taken := func(name string) bool {
		if planned[access.NameKey(name)] {
			return true
		}
		h, err := findCred(tx, name) // sees this write's own heads too
		if h == nil && err == nil {
			h, err = findSimilar(tx, name) // a name drawn like it is taken too
		}
		lookupErr = cmp.Or(lookupErr, err)
		return h != nil || err != nil
	}
	now := c.now()
	for _, pr := range ready {
		name, note := uniqueName(pr.it.Title, pr.it.Folder, taken), pr.note
		if lookupErr != nil {
			return lookupErr
		}
		if name == "" {
			rep.Skipped = append(rep.Skipped, transfer.Skipped{Source: pr.it.Source, Title: pr.it.Title,
				Reason: "its name cannot be used (1 to 100 printable characters, each word in one alphabet)"})
			continue
		}
		if name != pr.it.Title {
			note = strings.TrimPrefix(note+"; renamed from "+quote(pr.it.Title)+": the name was taken", "; ")
		}
		planned[access.NameKey(name)] = true
		rep.Imported = append(rep.Imported, ImportedItem{Name: name, Source: pr.it.Source, Tags: pr.tags,
			HasTOTP: len(pr.totp) > 0, History: len(pr.it.History), Note: note})
		if opt.DryRun {
			continue
		}
		if err := c.storeImported(tx, req, p, kind, ids, name, source, pr, now); err != nil {
			return err
		}
	}
	if opt.DryRun || !last {
		return nil
	}
	return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredImport, Target: audit.Target{Kind: "import", Name: opt.Format},
		Reason: fmt.Sprintf("%d imported as %s from %s, %d skipped", len(rep.Imported), kind, source, len(rep.Skipped))})
}

// importTOTP keeps an item's TOTP exactly, with any warning as the note,
// or, if it cannot be kept as a TOTP, puts it verbatim at the end of the
// notes (which are as secret as the seed) with a line saying why.
func importTOTP(it *transfer.Item) (uri []byte, note string) {
	if strings.TrimSpace(it.TOTP) == "" {
		return nil, ""
	}
	uri, warn, err := normaliseTOTP(it.TOTP, it.Title)
	var ie *access.InputError
	if errors.As(err, &ie) {
		if len(it.Notes) > 0 {
			it.Notes = append(it.Notes, "\n\n"...)
		}
		it.Notes = append(it.Notes, "TOTP kept here, not as a TOTP, because "+ie.Msg+". As it was in the file:\n"...)
		it.Notes = append(it.Notes, it.TOTP...)
		return nil, "TOTP kept in the notes, not as a TOTP: " + ie.Msg
	}
	return uri, warn
}

// storeImported writes one imported credential in tx: the file's
// history as versions 1 to n, oldest first, each a new version record
// dated as the file dates it, then the current one as version n+1.
func (c *Credentials) storeImported(tx barrier.Tx, req auditlog.Request, p *access.Principal, kind access.Kind, ids []string,
	name, source string, pr importItem, now time.Time) error {
	cur := len(pr.it.History) + 1
	h := &credHead{ID: access.NewID(), Name: name, Kind: kind, Owner: p.UserID, Created: now, Updated: now,
		Version: cur, URL: pr.it.URL, Username: pr.it.Username, Tags: pr.tags, Assignees: ids}
	h.setTOTP(pr.totp)
	for i, past := range pr.it.History {
		pv := credVersion{Version: i + 1, Username: past.Username, URL: past.URL, Password: past.Password, Notes: past.Notes,
			Created: past.Date, CreatedBy: p.Name + " (imported history)"}
		if err := putVersion(tx, h.ID, i+1, &pv); err != nil {
			return err
		}
	}
	cv := credVersion{Version: cur, Username: pr.it.Username, URL: pr.it.URL, Password: pr.it.Password,
		TOTP: pr.totp, Notes: pr.it.Notes, Created: now, CreatedBy: p.Name}
	if err := putVersion(tx, h.ID, cur, &cv); err != nil {
		return err
	}
	if err := putHead(tx, h); err != nil {
		return err
	}
	reason := fmt.Sprintf("imported from %s, %s; version %d", source, pr.it.Source, cur)
	if cur > 1 {
		reason += fmt.Sprintf(" (versions 1 to %d are the file's password history)", cur-1)
	}
	return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredCreate,
		Target: audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}, Reason: reason})
}

// checkHistory drops earlier versions Strongroom cannot store (a field
// too long, not UTF-8), reporting them.
func checkHistory(it *transfer.Item, skip func(string)) {
	kept, dropped := it.History[:0], 0
	for _, h := range it.History {
		if len(h.Password) > 4096 || len(h.Notes) > 64*1024 || len(h.URL) > 2048 || len(h.Username) > 512 ||
			!utf8.Valid(h.Password) || !utf8.Valid(h.Notes) || !utf8.ValidString(h.URL) || !utf8.ValidString(h.Username) {
			barrier.Wipe(h.Password)
			barrier.Wipe(h.Notes)
			dropped++
			continue
		}
		kept = append(kept, h)
	}
	it.History = kept
	if dropped > 0 {
		skip(fmt.Sprintf("%d earlier version(s) not imported: a field is too long or not UTF-8 text", dropped))
	}
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
func uniqueName(title, folder string, taken func(string) bool) string {
	title, err := access.NormaliseName("name", "credential", title)
	if err != nil || access.MixedScript("name", "credential", title) != nil {
		return ""
	}
	usable := func(n string) bool {
		n2, err := access.NormaliseName("name", "credential", n)
		return err == nil && n2 == n && !taken(n)
	}
	if !taken(title) {
		return title
	}
	if f := strings.Trim(folder, "/"); f != "" {
		if n := title + " (" + f + ")"; usable(n) {
			return n
		}
	}
	for i := 2; i < 10000; i++ {
		if n := fmt.Sprintf("%s (%d)", title, i); usable(n) {
			return n
		}
	}
	return ""
}
