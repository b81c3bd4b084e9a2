package wire

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// constsOf reads the typed string constants declared in the non-test Go
// files of dir: values by type name. Reading the source, not a list kept
// by hand, is what makes a new app value without a wire code fail.
func constsOf(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, f := range parseDir(t, dir) {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				typ, ok := vs.Type.(*ast.Ident)
				if !ok {
					continue
				}
				for _, v := range vs.Values {
					if s, ok := stringLit(v); ok {
						out[typ.Name] = append(out[typ.Name], s)
					}
				}
			}
		}
	}
	return out
}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func stringLit(e ast.Expr) (string, bool) {
	l, ok := e.(*ast.BasicLit)
	if !ok || l.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(l.Value)
	return s, err == nil
}

// appErrorCodes are the codes the app gives an op result or an error: the
// values app.Code returns, the codes app.RejectReason explains, and any
// literal Code of an OpResult or assigned to a .Code.
func appErrorCodes(t *testing.T, dir string) []string {
	var out []string
	add := func(e ast.Expr) {
		if s, ok := stringLit(e); ok && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, f := range parseDir(t, dir) {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Recv == nil && (n.Name.Name == "Code" || n.Name.Name == "RejectReason") {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						switch m := m.(type) {
						case *ast.ReturnStmt:
							if n.Name.Name == "Code" {
								for _, r := range m.Results {
									add(r)
								}
							}
						case *ast.CaseClause:
							if n.Name.Name == "RejectReason" {
								for _, c := range m.List {
									add(c)
								}
							}
						}
						return true
					})
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "OpResult" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" {
								add(kv.Value)
							}
						}
					}
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if sel, ok := l.(*ast.SelectorExpr); ok && sel.Sel.Name == "Code" && len(n.Rhs) == len(n.Lhs) {
						add(n.Rhs[i])
					}
				}
			}
			return true
		})
	}
	return out
}

// TestCodesMatchApp: every value of an app code type that crosses the
// wire has a wire constant with the same value, and every wire constant
// an app value. A new app value fails here until the wire names it (a
// protocol addition); a wire code the app lost fails too.
func TestCodesMatchApp(t *testing.T) {
	appConsts := constsOf(t, "../../app")
	wireConsts := constsOf(t, ".")
	appConsts["Code"] = appErrorCodes(t, "../../app")
	for _, c := range []struct{ app, wire string }{
		{"OpKind", "OpKind"},
		{"OpOutcome", "Outcome"},
		{"Code", "Code"},
		{"BlockReason", "BlockReason"},
		{"Status", "Status"},
		{"AuthorKind", "AuthorKind"},
		{"Role", "Role"},
		{"CaseKind", "CaseKind"},
		{"StartedBy", "StartedBy"},
		{"Channel", "Channel"},
		{"NotificationState", "NotificationState"},
		{"AccessAction", "AccessAction"},
	} {
		a, w := appConsts[c.app], wireConsts[c.wire]
		if len(a) == 0 || len(w) == 0 {
			t.Errorf("app.%s or wire.%s: no constants found", c.app, c.wire)
		}
		for _, v := range a {
			if !slices.Contains(w, v) {
				t.Errorf("app.%s %q has no wire.%s", c.app, v, c.wire)
			}
		}
		for _, v := range w {
			if !slices.Contains(a, v) {
				t.Errorf("wire.%s %q is no app.%s", c.wire, v, c.app)
			}
		}
	}
}
