package audit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestActionsListedAndDocumented: every Action constant in action.go is in
// Actions, and every one is named in SECURITY.md's "Actions" section, so a
// new action cannot be added without being listed where auditors look.
func TestActionsListedAndDocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "action.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Action" {
				continue
			}
			for _, v := range vs.Values {
				name, err := strconv.Unquote(v.(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				consts = append(consts, name)
			}
		}
	}
	listed := map[string]bool{}
	for _, a := range Actions {
		listed[string(a)] = true
	}
	doc, err := os.ReadFile("../SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc)
	if i := strings.Index(section, "### Actions"); i >= 0 {
		section = section[i:]
		if j := strings.Index(section[4:], "\n### "); j >= 0 {
			section = section[:j+4]
		}
	}
	if len(consts) != len(Actions) {
		t.Errorf("%d Action constants, %d in Actions", len(consts), len(Actions))
	}
	for _, a := range consts {
		if !listed[a] {
			t.Errorf("%s is not in Actions", a)
		}
		if !strings.Contains(section, "`"+a+"`") {
			t.Errorf("%s is not named in SECURITY.md's Actions section", a)
		}
	}
}
