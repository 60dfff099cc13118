package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// checkMembers walks b, one syntactically valid JSON value, beside the Go
// type of v, and refuses a member given twice or twice in two cases (in
// any object), and a member of a struct's object that is not exactly one
// of the struct's JSON field names (in case or at all). Values are
// skipped, never decoded: only member names are read.
func checkMembers(b []byte, v any) error {
	w := &memberWalker{b: b}
	return w.value(reflect.TypeOf(v), "")
}

type memberWalker struct {
	b []byte
	i int
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// value walks the value at w.i, whose destination type is t (nil: any
// shape, only duplicates are checked).
func (w *memberWalker) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			t = nil // decodes itself: only duplicates are checked inside
			break
		}
		t = t.Elem()
	}
	if t != nil && (t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)) {
		t = nil
	}
	w.space()
	switch w.b[w.i] {
	case '{':
		return w.object(t, path)
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		w.i++
		for n := 0; ; n++ {
			w.space()
			if w.b[w.i] == ']' {
				w.i++
				return nil
			}
			if err := w.value(elem, fmt.Sprintf("%s[%d]", path, n)); err != nil {
				return err
			}
			w.space()
			if w.b[w.i] == ',' {
				w.i++
			}
		}
	case '"':
		w.str()
	default: // a number, true, false or null
		for w.i < len(w.b) && !strings.ContainsRune(",]} \t\r\n", rune(w.b[w.i])) {
			w.i++
		}
	}
	return nil
}

func (w *memberWalker) object(t reflect.Type, path string) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t != nil && t.Kind() == reflect.Struct:
		fields = map[string]reflect.Type{}
		jsonFields(t, fields)
	case t != nil && t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	var seen []string
	w.i++
	for {
		w.space()
		if w.b[w.i] == '}' {
			w.i++
			return nil
		}
		at := w.i
		name := w.key()
		w.space()
		w.i++ // the colon
		sub := elem
		if fields != nil {
			ft, ok := fields[name]
			if !ok {
				for f := range fields {
					if strings.EqualFold(f, name) {
						return &bodyError{Field: join(path, f), Msg: fmt.Sprintf("field %q must be written in that case, exactly", join(path, f))}
					}
				}
				return memberError(path, name, at, "is not a field of this request (unknown field)")
			}
			sub = ft
		}
		for _, s := range seen {
			switch {
			case s == name && fields != nil:
				return &bodyError{Field: join(path, name), Msg: fmt.Sprintf("field %q is given twice", join(path, name))}
			case strings.EqualFold(s, name):
				// A map's keys are data: named by position only.
				return &bodyError{Field: path, Msg: fmt.Sprintf("a member of %q at byte %d is given twice (perhaps in another case)", path, at)}
			}
		}
		seen = append(seen, name)
		member := join(path, name)
		if fields == nil {
			member = path + ".*" // a map key or free-form member: not repeated
		}
		if err := w.value(sub, member); err != nil {
			return err
		}
		w.space()
		if w.b[w.i] == ',' {
			w.i++
		}
	}
}

// memberError names a member by its name if it is a plain identifier (a
// field a client misspelt), otherwise only by its byte offset: a name that
// is not an identifier may be data sent in the wrong place.
func memberError(path, name string, at int, what string) error {
	if plainName(name) {
		return &bodyError{Field: join(path, name), Msg: fmt.Sprintf("field %q %s", join(path, name), what)}
	}
	where := "a member"
	if path != "" {
		where = fmt.Sprintf("a member of %q", path)
	}
	return &bodyError{Field: path, Msg: fmt.Sprintf("%s at byte %d %s", where, at, what)}
}

func plainName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// key reads a member name (a JSON string) at w.i.
func (w *memberWalker) key() string {
	start := w.i
	w.str()
	raw := w.b[start:w.i]
	if !strings.ContainsRune(string(raw), '\\') {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // valid JSON: cannot fail
	return s
}

// str skips the JSON string at w.i.
func (w *memberWalker) str() {
	w.i++
	for w.b[w.i] != '"' {
		if w.b[w.i] == '\\' {
			w.i++
		}
		w.i++
	}
	w.i++
}

func (w *memberWalker) space() {
	for w.i < len(w.b) && strings.IndexByte(" \t\r\n", w.b[w.i]) >= 0 {
		w.i++
	}
}

// jsonFields adds t's JSON member names and their types to m, as
// encoding/json names them: the tag's name, else the Go name; "-" is
// skipped; an embedded struct without a name lends its fields.
func jsonFields(t reflect.Type, m map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				jsonFields(ft, m)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
}
