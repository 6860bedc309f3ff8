package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// module is the path every package of the repository begins with; each
// module's path is module followed by its directory, so a package's
// import path is module followed by its directory too.
const module = "github.com/accesstoken/bearer"

// pkgAPI is what one package declares at top level, exported or not.
type pkgAPI struct {
	path    string
	names   map[string]bool            // functions, types, variables, constants
	members map[string]map[string]bool // type → its fields and methods
	embeds  map[string][]string        // type → the types it embeds, whose members it has too
}

// has reports whether typ has member, its own or through an embedded type.
func (p *pkgAPI) has(typ, member string) bool {
	return p.hasSeen(typ, member, map[string]bool{})
}

func (p *pkgAPI) hasSeen(typ, member string, seen map[string]bool) bool {
	if seen[typ] {
		return false
	}
	seen[typ] = true
	if p.members[typ][member] {
		return true
	}
	for _, e := range p.embeds[typ] {
		if p.hasSeen(e, member, seen) {
			return true
		}
	}
	return false
}

// repoAPI is the API of every package of the repository outside examples,
// e2e and bench (programs, not libraries), by package name and by import
// path.
type repoAPI struct {
	byName map[string][]*pkgAPI
	byPath map[string]*pkgAPI
}

// loadAPI parses the non-test Go files of every library package under
// root. It needs no module loading: names are all it reads.
func loadAPI(t *testing.T, root string) *repoAPI {
	t.Helper()
	r := &repoAPI{byName: map[string][]*pkgAPI{}, byPath: map[string]*pkgAPI{}}
	err := filepath.WalkDir(root, func(dir string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, dir)
		rel = filepath.ToSlash(rel)
		switch base := d.Name(); {
		case rel == "examples", rel == "e2e", rel == "bench",
			base == "node_modules", base == "testdata",
			rel != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")):
			return filepath.SkipDir
		}
		p, name := parsePackage(t, dir)
		if p == nil || name == "main" {
			return nil
		}
		p.path = module
		if rel != "." {
			p.path += "/" + rel
		}
		r.byName[name] = append(r.byName[name], p)
		r.byPath[p.path] = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// parsePackage reads the declarations of dir's non-test Go files; it
// returns nil if there are none.
func parsePackage(t *testing.T, dir string) (*pkgAPI, string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	p := &pkgAPI{names: map[string]bool{}, members: map[string]map[string]bool{}, embeds: map[string][]string{}}
	name := ""
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		name = file.Name.Name
		for _, decl := range file.Decls {
			p.addDecl(decl)
		}
	}
	if name == "" {
		return nil, ""
	}
	return p, name
}

func (p *pkgAPI) addDecl(decl ast.Decl) {
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			p.names[d.Name.Name] = true
			return
		}
		p.member(typeName(d.Recv.List[0].Type), d.Name.Name)
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.ValueSpec:
				for _, n := range s.Names {
					p.names[n.Name] = true
				}
			case *ast.TypeSpec:
				p.names[s.Name.Name] = true
				p.addType(s.Name.Name, s.Type)
			}
		}
	}
}

func (p *pkgAPI) addType(name string, typ ast.Expr) {
	var fields []*ast.Field
	switch t := typ.(type) {
	case *ast.StructType:
		fields = t.Fields.List
	case *ast.InterfaceType:
		fields = t.Methods.List
	}
	for _, f := range fields {
		if len(f.Names) == 0 { // embedded
			e := typeName(f.Type)
			p.member(name, e)
			p.embeds[name] = append(p.embeds[name], e)
			continue
		}
		for _, n := range f.Names {
			p.member(name, n.Name)
		}
	}
}

func (p *pkgAPI) member(typ, name string) {
	if p.members[typ] == nil {
		p.members[typ] = map[string]bool{}
	}
	p.members[typ][name] = true
}

// typeName is the name of a receiver or embedded type: T of *T, T[K],
// pkg.T.
func typeName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.SelectorExpr:
			return t.Sel.Name
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}
