// Package conffile reads the server's configuration file (server
// --config FILE; in the Debian package /etc/strongroom/strongroom.conf):
// one setting a line,
//
//	# a comment
//	listen = 0.0.0.0:443
//	backup-copy = "rclone copyto {file} remote:strongroom/{name}"
//
// where a name is one of the server's flags without its "--", and the
// value is what the flag would take (in double quotes, with Go's escapes,
// for a value with a leading or trailing space). Blank lines and lines
// whose first non-space character is '#' are skipped. Errors name the
// line, never quote it.
package conffile

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxSize is the most a configuration file may hold.
const MaxSize = 64 << 10

// Setting is one line of a configuration file.
type Setting struct {
	Line        int
	Name, Value string
}

// Parse reads a configuration file's settings; it checks the form
// of each line, not the names.
func Parse(data []byte) ([]Setting, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("the file is not UTF-8 text")
	}
	var out []Setting
	for i, raw := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(string(raw), "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return nil, fmt.Errorf("line %d: expected 'name = value'", n)
		}
		if strings.HasPrefix(value, `"`) {
			v, err := strconv.Unquote(value)
			if err != nil {
				return nil, fmt.Errorf("line %d: a quoted value must end with its closing quote, with Go's escapes inside", n)
			}
			value = v
		}
		for _, r := range name + value {
			if r < 0x20 || r == 0x7f {
				return nil, fmt.Errorf("line %d: control characters are not allowed", n)
			}
		}
		out = append(out, Setting{Line: n, Name: name, Value: value})
	}
	return out, nil
}
