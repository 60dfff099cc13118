package transfer

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// planted stands for a password in a refused file: no error may quote it,
// nor any 8 bytes of it.
const planted = "Planted-Pw-7f3Qz9xK!"

func kdbxWithField(id byte, value string) string {
	b := []byte{0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb, 0x4b, 0xb5, 0, 0, 4, 0, id}
	b = append(b, byte(len(value)), 0, 0, 0)
	return string(append(b, value...))
}

// TestRefusalsNeverQuoteInput feeds every decoder files it refuses, each
// with a password where a header, a value, a name or a tag would be, and
// requires the exact kind of refusal and no trace of the password in it.
// A file without a header row once came back as "the header has: <the
// first row>".
func TestRefusalsNeverQuoteInput(t *testing.T) {
	p := planted
	row := p + "," + p + "," + p + "\n"
	garbage := "\x00\x01" + p + "\x7f\x02" + strings.Repeat(p+"\x1b", 50)
	cases := []struct {
		name, format, data, mapping, want string
	}{
		{"csv no header", "csv", row + row, "", "has no column for the title"},
		{"csv no header, title mapped", "csv", row + row, "title=" + p, "no column for the password"},
		{"csv no header, mapped column missing", "csv", row + row, "password=Password", "names a column that the header (line 1, 3 columns) does not have"},
		{"csv no header, password not found", "csv", "name," + p + "\nx," + p + "\n", "", "has no column for the password"},
		{"csv wrong header", "csv", "Site,Colour," + p + "\na,b,c\n", "", "has no column for the password"},
		{"csv garbage", "csv", garbage, "", "has no column for the title"},
		{"csv bare quote", "csv", "title,password\n" + p + "x\"" + p + ",y\n", "", `line 2, column 22: a " in a field`},
		{"csv open quote", "csv", "title,password\n\"" + p + ",y\n", "", `line 2, column 25: a " missing or extra`},
		{"csv short row", "csv", "title,password,notes\n" + p + "," + p + "\n", "", "line 2 has 2 columns; the header has 3"},
		{"csv binary", "csv", "\xff\xfe" + p, "", "not UTF-8"},
		{"bitwarden-csv no header", "bitwarden-csv", row + row, "", "lacks a type, name or login_password column"},
		{"bitwarden-csv wrong header", "bitwarden-csv", "type,name," + p + "\nlogin,a,b\n", "", "lacks a type, name or login_password column"},
		{"bitwarden-csv garbage", "bitwarden-csv", garbage, "", "lacks a type"},
		{"bitwarden-csv binary", "bitwarden-csv", p + "\xc3\x28", "", "not UTF-8"},
		{"bitwarden-json password as JSON", "bitwarden-json", p, "", "malformed JSON at byte 1"},
		{"bitwarden-json wrong type", "bitwarden-json", `{"items":"` + p + `"}`, "", "a value of the wrong type at byte"},
		{"bitwarden-json type is a password", "bitwarden-json", `{"items":[{"type":"` + p + `"}]}`, "", "a value of the wrong type at byte"},
		{"bitwarden-json password is a number", "bitwarden-json", `{"items":[{"type":1,"name":"` + p + `","login":{"password":5}}]}`, "", "wrong type"},
		{"bitwarden-json cut", "bitwarden-json", `{"items":[{"type":1,"name":"` + p, "", "malformed JSON"},
		{"bitwarden-json no items", "bitwarden-json", `{"` + p + `":1}`, "", `no "items"`},
		{"bitwarden-json trailing", "bitwarden-json", `{"items":[]}"` + p + `"`, "", "data after the JSON object"},
		{"bitwarden-json binary", "bitwarden-json", garbage + "\xff", "", "not UTF-8"},
		{"keepass-xml garbage", "keepass-xml", garbage, "", "the XML inside is malformed"},
		{"keepass-xml root is a password", "keepass-xml", "<" + p[:7] + ">" + p + "</" + p[:7] + ">", "", "not a KeePass document"},
		{"keepass-xml bad element", "keepass-xml", "<KeePassFile><Root><" + p + "/></Root></KeePassFile>", "", "malformed at line 1"},
		{"keepass-xml no group", "keepass-xml", "<KeePassFile><Root>" + p + "</Root></KeePassFile>", "", "no root group"},
		{"keepass-xml cut", "keepass-xml", "<KeePassFile><Root><Group><Entry><String><Key>Password</Key><Value>" + p, "", "malformed"},
		{"kdbx garbage", "kdbx", garbage, "", "not a KeePass database"},
		{"kdbx header field", "kdbx", kdbxWithField(2, p), "", "the header is truncated"},
		{"unknown format", p, row, "", "import: unknown format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseCSVMap(c.mapping)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Decode(c.format, []byte(c.data), KDBXKey{Password: []byte(p)}, m)
			var fe *FormatError
			if r != nil || !errors.As(err, &fe) {
				t.Fatalf("got %v, %v; want a FormatError", r, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to say %q", err, c.want)
			}
			for i := 0; i+8 <= len(p); i++ {
				if strings.Contains(err.Error(), p[i:i+8]) {
					t.Fatalf("the error quotes the planted password: %q", err)
				}
			}
		})
	}
}

// The mapping is the caller's, but its errors follow the same rule.
func TestCSVMapErrorsNeverQuote(t *testing.T) {
	for _, m := range []string{planted, planted + "=x", "title=" + planted + ",title=" + planted} {
		_, err := ParseCSVMap(m)
		var fe *FormatError
		if !errors.As(err, &fe) || strings.Contains(err.Error(), planted[:8]) {
			t.Errorf("ParseCSVMap(%q) = %v", m, err)
		}
	}
}

// TestFormatErrorMessagesAreLiterals reads the package's source: every
// message a FormatError carries is a string literal (bad's msg, need's
// what), and bad takes numbers only, so no later change can build one from
// the file's text without failing here or at compile time.
func TestFormatErrorMessagesAreLiterals(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	literalArg := map[string]int{"bad": 1, "need": 2}
	fset := token.NewFileSet()
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				fn := ""
				switch x := n.Fun.(type) {
				case *ast.Ident:
					fn = x.Name
				case *ast.SelectorExpr:
					fn = x.Sel.Name
				}
				if i, ok := literalArg[fn]; ok && len(n.Args) > i {
					calls++
					if !isLiteral(n.Args[i]) {
						t.Errorf("%s: the message of %s is not a string literal", fset.Position(n.Pos()), fn)
					}
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "FormatError" {
					if fn := enclosingFunc(f, n.Pos()); fn != "bad" && fn != "need" && !literalMsg(n) {
						t.Errorf("%s: a FormatError whose Msg is not a string literal", fset.Position(n.Pos()))
					}
				}
			}
			return true
		})
	}
	if calls < 50 {
		t.Fatalf("found only %d calls: is the test reading the package?", calls)
	}
}

// isLiteral is a string literal or a concatenation of them.
func isLiteral(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.BinaryExpr:
		return e.Op == token.ADD && isLiteral(e.X) && isLiteral(e.Y)
	case *ast.ParenExpr:
		return isLiteral(e.X)
	}
	return false
}

// literalMsg is a FormatError literal whose Msg is a string literal.
func literalMsg(n *ast.CompositeLit) bool {
	for _, e := range n.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Msg" {
				return isLiteral(kv.Value)
			}
		}
	}
	return false
}

func enclosingFunc(f *ast.File, pos token.Pos) string {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= pos && pos < fd.End() {
			return fd.Name.Name
		}
	}
	return ""
}

// The unknown-format message lists Formats by hand (bad's message is a
// literal): it must stay the same list.
func TestUnknownFormatListsFormats(t *testing.T) {
	_, err := Decode("zip", nil, KDBXKey{}, nil)
	if want := "use one of " + strings.Join(Formats, ", "); err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("got %v, want it to end %q", err, want)
	}
}
