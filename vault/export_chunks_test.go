package vault

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"strongroom/audit"
	"strongroom/transfer"
)

// importMany stores n shared credentials "Cred 000"… in one import.
func importMany(t *testing.T, f *fixture, n int) {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("Title,Password\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "Cred %03d,pw-%03d\n", i, i)
	}
	if _, err := f.v.Import(ctx, req, f.admin, ImportOptions{Format: "csv", Kind: "shared"}, func() (*transfer.Result, error) {
		return transfer.DecodeCSV([]byte(csv.String()), nil)
	}); err != nil {
		t.Fatal(err)
	}
}

// The export reads in chunks, each its own transaction; a credential
// changed between two chunks makes it read again, so the file is one
// snapshot: the changed credential's new password, every other one, and
// each read recorded, the first attempt's included.
func TestExportChunksStayOneSnapshot(t *testing.T) {
	f := newFixture(t)
	providerLogin(t, f)
	const n = 300 // two chunks
	importMany(t, f, n)
	changes := 0
	before := len(f.entries(t))
	changed := ""
	f.v.between = func(point string) {
		if point == "export.chunk" && changes == 0 {
			changes++
			// One the first chunk read (the chunks follow the snapshot's
			// order, not the names'): the last credential it recorded.
			es := f.entries(t)
			changed = es[len(es)-1].Target.Name
			f.put(t, f.admin, changed, "shared", "changed-between-chunks")
		}
	}
	out, rep, err := f.v.ExportKDBX(ctx, req, f.admin, Reauth{Password: []byte(exportPassword), TOTP: code(t, f.init.Admin.TOTPURI, f.clock.Now())},
		[]byte("export-quartz-meadow-9"))
	f.v.between = nil
	if err != nil || changes != 1 || rep.Exported != n {
		t.Fatalf("export: %v, %d changes, %+v", err, changes, rep)
	}
	r, err := transfer.DecodeKDBX(out, transfer.KDBXKey{Password: []byte("export-quartz-meadow-9")})
	if err != nil || len(r.Items) != n {
		t.Fatalf("read back: %v", err)
	}
	for _, it := range r.Items {
		want := "pw-" + strings.TrimPrefix(it.Title, "Cred ")
		if it.Title == changed {
			want = "changed-between-chunks"
		}
		if string(it.Password) != want {
			t.Errorf("%s: %q, want %q", it.Title, it.Password, want)
		}
	}
	reads, done := 0, 0
	for _, e := range f.entries(t)[before:] {
		switch e.Action {
		case "cred.export":
			reads++
		case "export.kdbx":
			done++
		}
	}
	// The changed one was read in the first chunk and changed after it: the first
	// attempt read all n, its last transaction found the change, and the
	// second read all n again.
	if reads != 2*n || done != 1 {
		t.Fatalf("%d cred.export entries and %d export.kdbx, want %d and 1", reads, done, 2*n)
	}
}

// A vault that changes during every attempt is refused, and the refusal
// recorded, after exportAttempts tries.
func TestExportRefusedWhenTheVaultKeepsChanging(t *testing.T) {
	f := newFixture(t)
	providerLogin(t, f)
	importMany(t, f, 300)
	changes := 0
	f.v.between = func(point string) {
		if point == "export.chunk" {
			changes++
			f.put(t, f.admin, "Cred 299", "shared", fmt.Sprintf("changed-%d", changes))
		}
	}
	out, _, err := f.v.ExportKDBX(ctx, req, f.admin, Reauth{Password: []byte(exportPassword), TOTP: code(t, f.init.Admin.TOTPURI, f.clock.Now())},
		[]byte("export-quartz-meadow-9"))
	f.v.between = nil
	if !errors.Is(err, ErrConflict) || out != nil || changes != 3 {
		t.Fatalf("export: %v, %d changes", err, changes)
	}
	if e := f.last(t); e.Action != "export.kdbx" || e.Outcome != audit.OutcomeError || !strings.Contains(e.Reason, "changed while the export read them, 3 times") {
		t.Fatalf("last entry %+v", e)
	}
}
