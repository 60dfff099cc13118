package conffile

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	got, err := Parse([]byte("# comment\r\n\n  listen = 0.0.0.0:443 \r\nbackup-copy = \"rclone copyto {file} remote:x/{name} # not a comment\"\npasswordless=true\nempty =\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{{3, "listen", "0.0.0.0:443"}, {4, "backup-copy", "rclone copyto {file} remote:x/{name} # not a comment"}, {5, "passwordless", "true"}, {6, "empty", ""}}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("setting %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"listen", "= x", "a = \"open", "a = \"x\\q\"", "a = b\x01", "\xff = 1", "x = \"a\\u0000\""} {
		_, err := Parse([]byte("# ok\n" + bad + "\n"))
		if err == nil || !strings.HasPrefix(err.Error(), "line 2: ") && bad != "\xff = 1" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzParseConfig: any file parses or is refused by line, never quoting
// it; what parses holds no control characters.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"listen = 127.0.0.1:8443\n", "# c\na=\"b\"\n", "a\n", "=\n", "a = \"\\x00\"", "a = b\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "line ") && msg != "the file is not UTF-8 text" {
				t.Fatalf("error %q", msg)
			}
			return
		}
		for _, s := range got {
			if s.Name == "" || strings.ContainsAny(s.Name+s.Value, "\x00\n\r\t\x7f") || strings.Contains(s.Name, "=") {
				t.Fatalf("%+v", s)
			}
		}
	})
}
