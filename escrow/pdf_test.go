package escrow

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needTools skips outside CI when Debian's poppler-utils or zbar-tools are
// missing; under CI (which installs them) their absence is a failure.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (.ci/run installs poppler-utils and zbar-tools)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// The PDF is rendered to PNG and its QR code read back by zbarimg: the
// decoded share must be the issued one.
func TestPDFQRCodeDecodesToTheShare(t *testing.T) {
	needTools(t, "pdftoppm", "zbarimg", "pdftotext")
	_, id, shares := testShares(t, 3, 2)
	dir := t.TempDir()
	for _, s := range shares {
		env := &Envelope{Council: "Wrockwardine Parish Council", VaultID: id, Holder: "Vice-chair", Shares: 3, Share: s,
			Issued: time.Date(2026, 5, 14, 19, 0, 0, 0, time.UTC), VerifierKey: "strongroom-abc+01234567+AQIDBA"}
		pdf, err := env.PDF()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "envelope.pdf")
		os.WriteFile(path, pdf, 0o600)
		if out, err := exec.Command("pdftoppm", "-r", "150", "-png", path, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v %s", err, out)
		}
		pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
		if len(pages) != 1 {
			t.Fatalf("%d pages, want one A4 page per holder", len(pages))
		}
		out, err := exec.Command("zbarimg", "--raw", "-q", pages[0]).Output()
		if err != nil {
			t.Fatalf("zbarimg found no code: %v", err)
		}
		got, err := ReadShareFile(string(out))
		if err != nil {
			t.Fatalf("decoded QR %q: %v", out, err)
		}
		if got.Commitment() != s.Commitment() {
			t.Fatal("the QR code holds another share")
		}
		// The printed words: holder, council, share number, every group.
		txt, err := exec.Command("pdftotext", "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range append([]string{"Vice-chair", "Wrockwardine Parish Council", "Share number " + string(rune('0'+s.Index)) + " of 3",
			"generation 1", "IN AN EMERGENCY"}, s.groups()...) {
			if !bytes.Contains(txt, []byte(want)) {
				t.Fatalf("PDF text lacks %q:\n%s", want, txt)
			}
		}
		// Its rows, typed exactly as pdftotext reads them (labels and all),
		// are the share, and number the groups as the text envelope does.
		var typed, printed []string
		for _, line := range strings.Split(string(txt), "\n") {
			if f := strings.Fields(line); len(f) == 5 && f[0] == RowLabel(len(typed)*4+1) {
				typed = append(typed, strings.Join(f, " "))
			}
		}
		for _, row := range s.rows() {
			printed = append(printed, strings.Join(strings.Fields(row), " "))
		}
		if strings.Join(typed, "\n") != strings.Join(printed, "\n") {
			t.Fatalf("PDF rows\n%s\nwant the text envelope's\n%s", strings.Join(typed, "\n"), strings.Join(printed, "\n"))
		}
		if got, err := Decode(strings.Join(typed, "\n")); err != nil || got.Commitment() != s.Commitment() {
			t.Fatalf("the PDF's rows typed as printed: %v", err)
		}
		for _, p := range pages {
			os.Remove(p)
		}
	}
}

// docs/emergency.md is the same text as the envelope's instructions.
func TestEmergencyRunbookMatchesEnvelope(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "emergency.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), Instructions) {
		t.Fatal("docs/emergency.md does not hold the envelope's instructions word for word")
	}
}
