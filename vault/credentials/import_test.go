package credentials

import (
	"fmt"
	"strings"
	"testing"

	"strongroom/audit"
	"strongroom/transfer"
	"strongroom/vault/auditlog"
	"strongroom/vault/storage"
)

func items(titles ...string) func() (*transfer.Result, error) {
	return func() (*transfer.Result, error) {
		res := &transfer.Result{}
		for i, title := range titles {
			res.Items = append(res.Items, transfer.Item{Title: title, Password: []byte(fmt.Sprintf("pw-%d", i)),
				Source: fmt.Sprintf("line %d", i+2)})
		}
		return res, nil
	}
}

func (f *fixture) entries(t *testing.T) []*audit.Entry {
	t.Helper()
	var out []*audit.Entry
	err := f.st.View(ctx, func(tx storage.Tx) error {
		return tx.Scan(storage.BucketAudit, nil, func(_, val []byte) (bool, error) {
			e, err := audit.ParseLine(val)
			out = append(out, e)
			return err == nil, err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) names(t *testing.T) []string {
	t.Helper()
	list, _, err := f.c.ListCredentials(ctx, f.admin, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ci := range list {
		names = append(names, ci.Name)
	}
	return names
}

// An import is stored in bounded chunks: names taken by an earlier chunk
// (or planned by a dry run) are seen by the later ones, and one cred.import
// entry closes it.
func TestImportInChunks(t *testing.T) {
	defer func(n int) { importChunk = n }(importChunk)
	importChunk = 2
	f := newFixture(t)
	opt := ImportOptions{Format: "csv", Kind: "admin"}
	dry := opt
	dry.DryRun = true
	rep, err := f.c.Import(ctx, auditlog.Request{ID: "dry"}, f.admin, dry, items("Dup", "A", "Dup", "B", "Dup"))
	if err != nil || len(rep.Imported) != 5 || rep.Imported[2].Name != "Dup (2)" || rep.Imported[4].Name != "Dup (3)" || len(f.names(t)) != 0 {
		t.Fatalf("dry run: %+v, %v; stored %q", rep, err, f.names(t))
	}
	rep, err = f.c.Import(ctx, auditlog.Request{ID: "imp"}, f.admin, opt, items("Dup", "A", "Dup", "B", "Dup"))
	if err != nil || len(rep.Imported) != 5 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	if got := strings.Join(f.names(t), "|"); got != "A|B|Dup|Dup (2)|Dup (3)" {
		t.Fatalf("stored %q", got)
	}
	var imports []string
	for _, e := range f.entries(t) {
		if e.Action == audit.CredImport {
			imports = append(imports, e.Reason)
		}
	}
	if len(imports) != 1 || imports[0] != "5 imported as admin from csv, 0 skipped" {
		t.Fatalf("cred.import entries: %q", imports)
	}
}

// A chunk that fails after another has landed leaves the landed one,
// records how far the import got, and says so.
func TestImportStoppedPartWay(t *testing.T) {
	defer func(n int) { importChunk = n }(importChunk)
	importChunk = 2
	f := newFixture(t)
	f.st.mu.Lock()
	base := f.st.writes
	f.st.fail = func(n int) bool { return n == base+2 } // the second chunk
	f.st.mu.Unlock()
	_, err := f.c.Import(ctx, auditlog.Request{ID: "imp"}, f.admin, ImportOptions{Format: "csv", Kind: "admin"}, items("A", "B", "C", "D", "E"))
	if err == nil || !strings.Contains(err.Error(), "stopped after 2 of 5") {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(f.names(t), "|"); got != "A|B" {
		t.Fatalf("stored %q; want the first chunk", got)
	}
	last := f.entries(t)[len(f.entries(t))-1]
	if last.Action != audit.CredImport || last.Outcome != audit.OutcomeError || !strings.Contains(last.Reason, "stopped after 2 of 5") {
		t.Fatalf("last entry %+v", last)
	}
}
