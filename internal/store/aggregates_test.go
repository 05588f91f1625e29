package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxMethods is the most exported methods one exported type of the store
// may carry: a type that needs more holds more than one aggregate.
const maxMethods = 30

// TestAggregatesStaySmall counts the exported methods of every exported
// type declared in this package's source and fails above maxMethods.
func TestAggregatesStaySmall(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	methods := map[string]int{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || !fd.Name.IsExported() {
				continue
			}
			typ := fd.Recv.List[0].Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			if id, ok := typ.(*ast.Ident); ok && id.IsExported() {
				methods[id.Name]++
			}
		}
	}
	if methods["Store"] == 0 || methods["CardStore"] == 0 {
		t.Fatalf("counted %v: the walk found neither Store nor CardStore", methods)
	}
	for typ, n := range methods {
		t.Logf("%-16s %d exported methods", typ, n)
		if n > maxMethods {
			t.Errorf("%s has %d exported methods, more than %d: split it by aggregate", typ, n, maxMethods)
		}
	}
}
