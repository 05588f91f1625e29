package store

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEveryQueryPrepares prepares every SQL constant of the package, and
// every query of both dialects, on every backend: a query that one
// database does not understand (a function, a type, a column a migration
// forgot) fails here, before any code path reaches it.
func TestEveryQueryPrepares(t *testing.T) {
	queries := packageQueries(t)
	if len(queries) < 50 {
		t.Fatalf("found only %d queries: is the parser missing them?", len(queries))
	}
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		all := maps.Clone(queries)
		d := s.dialect
		for name, q := range map[string]string{"lockCard": d.lockCard, "lockProgramCards": d.lockProgramCards,
			"markCardChanged": d.markCardChanged, "markProgramChanged": d.markProgramChanged,
			"markPushed": d.markPushed, "migrationLock": d.migrationLock, "updateLedgerCard": d.updateLedgerCard,
			"nextChangeSeq": d.nextChangeSeq, "tagHorizon": d.tagHorizon,
			"notifyWork": d.notifyWork} {
			if q != "" {
				all["dialect."+name] = q
			}
		}
		for _, q := range workTables {
			all["claim."+q.table] = q.claimSQL(d)
		}
		names := make([]string, 0, len(all))
		for name := range all {
			names = append(names, name)
		}
		slices.Sort(names)
		t.Logf("preparing %d queries", len(names))
		for _, name := range names {
			stmt, err := s.write.PrepareContext(ctx, all[name])
			if err != nil {
				t.Errorf("%s: %v\n%s", name, err, all[name])
				continue
			}
			stmt.Close()
		}
	})
}

// packageQueries reads the package's source and returns its string
// constants that are SQL statements, by name.
func packageQueries(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	exprs := map[string]ast.Expr{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						exprs[name.Name] = vs.Values[i]
					}
				}
			}
		}
	}
	var eval func(e ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.Ident:
			if x, ok := exprs[e.Name]; ok {
				return eval(x)
			}
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				a, ok1 := eval(e.X)
				b, ok2 := eval(e.Y)
				return a + b, ok1 && ok2
			}
		case *ast.ParenExpr:
			return eval(e.X)
		}
		return "", false
	}
	queries := map[string]string{}
	for name, e := range exprs {
		s, ok := eval(e)
		if !ok {
			continue
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(s), " ")
		switch strings.ToUpper(verb) {
		case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
			// Prefixes are completed at run time (an IN list, a filter).
			if !strings.HasSuffix(name, "Prefix") {
				queries[name] = s
			}
		}
	}
	return queries
}
