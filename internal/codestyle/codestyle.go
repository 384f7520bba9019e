// Package codestyle checks the module's Go code for two rules that review
// alone does not keep: no package exports a package-level slice or map
// variable (any importer could change it), and no function is longer than
// MaxFuncLines. Its test runs the check over the whole module.
package codestyle

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxFuncLines is the longest a function may be, from its func keyword to
// its closing brace. Longer ones are split at their phases; help texts
// become constants.
const MaxFuncLines = 100

// Finding is one breach of the rules.
type Finding struct {
	// File is relative to the checked root, with forward slashes.
	File string
	Line int
	Msg  string
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Msg) }

// skipDir reports the directories Check leaves out: tools/ (modules of
// their own), .cache/ and other hidden directories, testdata (fixtures, not
// code of the module) and vendor.
func skipDir(rel, name string) bool {
	return rel == "tools" || name == "testdata" || name == "vendor" || (strings.HasPrefix(name, ".") && name != ".")
}

// Check parses every non-test, non-generated .go file under root and
// returns the findings in file and line order.
func Check(root string) ([]Finding, error) {
	byDir := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(filepath.ToSlash(rel), d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".go") && !strings.HasSuffix(d.Name(), "_test.go") {
			byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", root, err)
	}
	var findings []Finding
	for _, files := range byDir {
		f, err := checkDir(root, files)
		if err != nil {
			return nil, err
		}
		findings = append(findings, f...)
	}
	slices.SortStableFunc(findings, func(a, b Finding) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return findings, nil
}

// checkDir checks the files of one directory together, so that a variable
// of a slice or map type declared in another file of its package is
// recognised.
func checkDir(root string, paths []string) ([]Finding, error) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		if !ast.IsGenerated(f) {
			files = append(files, f)
		}
	}
	c := checker{root: root, fset: fset, types: collectionTypes(files)}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				if d.Tok == token.VAR {
					c.vars(d)
				}
			case *ast.FuncDecl:
				c.funcLength(d)
			}
		}
	}
	return c.findings, nil
}

type checker struct {
	root     string
	fset     *token.FileSet
	types    map[string]string // package-level type name -> "slice" or "map"
	findings []Finding
}

func (c *checker) add(pos token.Pos, format string, args ...any) {
	p := c.fset.Position(pos)
	rel, err := filepath.Rel(c.root, p.Filename)
	if err != nil {
		rel = p.Filename
	}
	c.findings = append(c.findings, Finding{File: filepath.ToSlash(rel), Line: p.Line, Msg: fmt.Sprintf(format, args...)})
}

// vars reports the exported package-level variables of a slice or map
// type, given or inferred from the value.
func (c *checker) vars(d *ast.GenDecl) {
	for _, spec := range d.Specs {
		vs := spec.(*ast.ValueSpec)
		for i, name := range vs.Names {
			if !name.IsExported() {
				continue
			}
			kind := c.kind(vs.Type)
			if vs.Type == nil && i < len(vs.Values) {
				kind = c.valueKind(vs.Values[i])
			}
			if kind != "" {
				c.add(name.Pos(), "exported package-level variable %s is a %s that any importer can change: make it a function, or unexported with an accessor", name.Name, kind)
			}
		}
	}
}

func (c *checker) funcLength(d *ast.FuncDecl) {
	start, end := c.fset.Position(d.Pos()).Line, c.fset.Position(d.End()).Line
	if n := end - start + 1; n > MaxFuncLines {
		name := d.Name.Name
		if d.Recv != nil && len(d.Recv.List) == 1 {
			name = recvName(d.Recv.List[0].Type) + "." + name
		}
		c.add(d.Pos(), "function %s is %d lines, over %d: split it at its phases (help texts become constants)", name, n, MaxFuncLines)
	}
}

// kind is "slice" or "map" if the type expression is one, or names a
// type of this package that is one; "" otherwise (including unknown
// types of other packages).
func (c *checker) kind(t ast.Expr) string {
	switch t := ast.Unparen(t).(type) {
	case *ast.ArrayType:
		if t.Len == nil {
			return "slice"
		}
	case *ast.MapType:
		return "map"
	case *ast.Ident:
		return c.types[t.Name]
	case *ast.IndexExpr: // a generic type of this package, instantiated
		return c.kind(t.X)
	case *ast.IndexListExpr:
		return c.kind(t.X)
	}
	return ""
}

// valueKind infers the kind of a variable from its value: a composite
// literal, make, append, or a conversion to a slice or map type.
func (c *checker) valueKind(v ast.Expr) string {
	switch v := ast.Unparen(v).(type) {
	case *ast.CompositeLit:
		return c.kind(v.Type)
	case *ast.CallExpr:
		if id, ok := ast.Unparen(v.Fun).(*ast.Ident); ok && len(v.Args) > 0 {
			switch id.Name {
			case "make":
				return c.kind(v.Args[0])
			case "append":
				return "slice"
			}
		}
		// A conversion, []string(x) or Names(x); a call of a function
		// is of a type the parser cannot tell.
		return c.kind(v.Fun)
	}
	return ""
}

// collectionTypes maps the package-level type names of the files whose
// type is a slice or a map, following names declared as other such names.
func collectionTypes(files []*ast.File) map[string]string {
	decls := map[string]ast.Expr{}
	for _, f := range files {
		for _, decl := range f.Decls {
			if d, ok := decl.(*ast.GenDecl); ok && d.Tok == token.TYPE {
				for _, spec := range d.Specs {
					ts := spec.(*ast.TypeSpec)
					decls[ts.Name.Name] = ts.Type
				}
			}
		}
	}
	kinds := map[string]string{}
	c := checker{types: kinds}
	// Each round resolves one more step of a chain of names.
	for changed := true; changed; {
		changed = false
		for name, t := range decls {
			if k := c.kind(t); k != "" && kinds[name] == "" {
				kinds[name], changed = k, true
			}
		}
	}
	return kinds
}

func recvName(t ast.Expr) string {
	switch t := t.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return "?"
}
