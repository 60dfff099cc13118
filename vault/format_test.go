package vault

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataFormat: a new data directory records this release's format; a
// directory from before the file opens and gets it; a newer format is
// refused with the reason and left as it was; a damaged file is refused.
func TestDataFormat(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	path := filepath.Join(dir, formatFile)
	if raw, _ := os.ReadFile(path); strings.TrimSpace(string(raw)) != "1" {
		t.Fatalf("format file %q", raw)
	}
	os.Remove(path) // a directory from before the file
	st, err = OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatalf("an older directory: %v", err)
	}
	st.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal("the format was not recorded for an older directory")
	}
	os.WriteFile(path, []byte("2\n"), 0o600)
	before, _ := os.ReadFile(filepath.Join(dir, "strongroom.db"))
	if _, err := OpenBolt(dir, BoltOptions{}); !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "format is 2; this release reads formats up to 1") {
		t.Fatalf("a newer format: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "strongroom.db"))
	if raw, _ := os.ReadFile(path); string(raw) != "2\n" || string(before) != string(after) {
		t.Fatal("a refused directory was changed")
	}
	for _, bad := range []string{"", "x", "0", "-1"} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := OpenBolt(dir, BoltOptions{}); err == nil || errors.Is(err, ErrNewerFormat) {
			t.Errorf("format file %q: %v", bad, err)
		}
	}
}
