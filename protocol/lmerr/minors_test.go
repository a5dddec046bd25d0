package lmerr

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// minorConst is one Minor constant of the table.
type minorConst struct {
	name    string
	value   int
	comment string
}

// parseMinors reads the Minor constants of this package's sources, with
// their line comments, the way a reader of minors.go sees them.
func parseMinors(t *testing.T) []minorConst {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "minors.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var out []minorConst
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Minor" {
				t.Errorf("%s: a constant of minors.go that is not a Minor", fset.Position(vs.Pos()))
				continue
			}
			for i, n := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					t.Errorf("%s: %s is not a plain number", fset.Position(n.Pos()), n.Name)
					continue
				}
				v, _ := strconv.Atoi(lit.Value)
				out = append(out, minorConst{n.Name, v, strings.TrimSpace(vs.Comment.Text())})
			}
		}
	}
	return out
}

// duplicates lists the numbers of minors that two constants share.
func duplicates(minors []minorConst) []string {
	var out []string
	byValue := map[int]string{}
	for _, m := range minors {
		if other, dup := byValue[m.value]; dup {
			out = append(out, fmt.Sprintf("%s = %d, and %s is %d too", m.name, m.value, other, m.value))
			continue
		}
		byValue[m.value] = m.name
	}
	return out
}

func TestDuplicates(t *testing.T) {
	for _, tt := range []struct {
		name   string
		minors []minorConst
		want   int
	}{
		{"none", []minorConst{{"MinorA", 1, "a"}, {"MinorB", 2, "b"}}, 0},
		{"two names, one number", []minorConst{{"MinorA", 1, "a"}, {"MinorB", 1, "b"}}, 1},
		{"three names, one number", []minorConst{{"MinorA", 7, "a"}, {"MinorB", 7, "b"}, {"MinorC", 7, "c"}}, 2},
		{"numbers one apart", []minorConst{{"MinorA", 359, "a"}, {"MinorB", 360, "b"}}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := duplicates(tt.minors); len(got) != tt.want {
				t.Errorf("duplicates = %q, want %d", got, tt.want)
			}
		})
	}
}

// TestMinorsUnique checks the table: every minor number means one error,
// and each says in a comment what it means.
func TestMinorsUnique(t *testing.T) {
	minors := parseMinors(t)
	if len(minors) < 100 {
		t.Fatalf("%d minors in minors.go, want the whole table", len(minors))
	}
	for _, d := range duplicates(minors) {
		t.Error(d)
	}
	for _, m := range minors {
		t.Run(m.name, func(t *testing.T) {
			if !strings.HasPrefix(m.name, "Minor") {
				t.Errorf("%s: name does not start with Minor", m.name)
			}
			if m.comment == "" {
				t.Errorf("%s: no comment saying where it is raised", m.name)
			}
			if m.value <= 0 {
				t.Errorf("%s = %d, want a positive number", m.name, m.value)
			}
		})
	}
}

// errorCalls are the calls that build a FlexLM error from a code and a
// minor, by the name they are called with: the index of the code and of
// the minor among the arguments, -1 for none.
var errorCalls = map[string][2]int{
	"lmerr.New":    {0, 1},
	"lmerr.FromOS": {0, 1},
	"newError":     {0, 1},
	"lmerrFromOS":  {0, 1},
	"netError":     {1, 2},
	"l.broken":     {2, 3},
	"sigError":     {-1, 1},
}

// TestNoLiteralMinors walks the module's non-test sources and fails on a
// FlexLM error built with a number for its minor (lmerr.New(-42, 1)),
// for its code (lmerr.New(-42, lmerr.MinorX), lmerr.Text(-99)), or on a
// composite literal with a numeric Minor: or Code: field, so that the
// constants stay the one place the numbers are written.
func TestNoLiteralMinors(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", root, err)
	}
	fset := token.NewFileSet()
	var bad []string
	report := func(n ast.Node, what string) {
		bad = append(bad, fset.Position(n.Pos()).String()+": "+what)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || (strings.HasPrefix(n, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := callName(n.Fun)
				if _, ok := errorCalls["lmerr."+name]; ok && f.Name.Name == "lmerr" {
					name = "lmerr." + name
				}
				at, ok := errorCalls[name]
				if !ok {
					return true
				}
				for i, what := range []string{"code", "minor"} {
					if at[i] >= 0 && at[i] < len(n.Args) && isNumber(n.Args[at[i]]) {
						report(n, name+" with a numeric "+what)
					}
				}
			case *ast.ValueSpec:
				// A minor table of its own beside minors.go.
				if rel == filepath.Join("protocol", "lmerr", "minors.go") {
					return true
				}
				for i, id := range n.Names {
					if strings.HasPrefix(strings.ToLower(id.Name), "minor") && i < len(n.Values) && isNumber(n.Values[i]) {
						report(n, "constant "+id.Name+" with a number")
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Minor" || k.Name == "Code") && isNumber(n.Value) {
					report(n, k.Name+": with a number")
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("%s: use the lmerr constants", b)
	}
}

func callName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	}
	return ""
}

// isNumber reports whether e is a number written out: 1, -42, (-15).
func isNumber(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.INT
	case *ast.UnaryExpr:
		return isNumber(e.X)
	case *ast.ParenExpr:
		return isNumber(e.X)
	}
	return false
}
