package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"regexp"
	"strings"
)

// A problem is a name a page uses that does not exist.
type problem struct {
	line int
	msg  string
}

// scope says which package a name in a piece of Go refers to: an import
// of the block, else the repository's package of that name, unless the
// block declares a variable of that name.
type scope struct {
	api     *repoAPI
	imports map[string]string // local name → import path
	locals  map[string]bool
}

// resolve returns the repository's packages name may refer to, none for
// another module's package or a variable.
func (s scope) resolve(name string) []*pkgAPI {
	if s.locals[name] {
		return nil
	}
	if p, ok := s.imports[name]; ok {
		if pkg := s.api.byPath[p]; pkg != nil {
			return []*pkgAPI{pkg}
		}
		return nil
	}
	return s.api.byName[name]
}

// exists reports whether one of pkgs declares name.
func exists(pkgs []*pkgAPI, name string) bool {
	for _, p := range pkgs {
		if p.names[name] {
			return true
		}
	}
	return false
}

// hasMember reports whether typ of one of pkgs has member; also true when
// none of them declares typ as a type with members (a map, a func type).
func hasMember(pkgs []*pkgAPI, typ, member string) bool {
	known := false
	for _, p := range pkgs {
		if _, ok := p.members[typ]; ok {
			known = true
			if p.has(typ, member) {
				return true
			}
		}
	}
	return !known
}

var importLine = regexp.MustCompile(`(?m)^\s*(?:import\s+)?(?:([\w.]+)\s+)?"([^"\s]+)"\s*$`)

// importsOf returns the imports a Go block names, by local name. An
// import of the repository without a name is known by its package's name.
func (a *repoAPI) importsOf(src string) map[string]string {
	m := map[string]string{}
	for _, sub := range importLine.FindAllStringSubmatch(src, -1) {
		name, p := sub[1], sub[2]
		if name == "" {
			if pkg := a.byPath[p]; pkg != nil {
				for n, ps := range a.byName {
					for _, q := range ps {
						if q == pkg {
							name = n
						}
					}
				}
			} else {
				name = path.Base(p)
				if len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
					name = path.Base(path.Dir(p)) // github.com/go-chi/chi/v5 is chi
				}
				name = strings.TrimPrefix(strings.TrimPrefix(name, "go-"), "go.")
			}
		}
		m[name] = p
	}
	return m
}

// checkGo returns the repository's names a Go block uses that do not
// exist: pkg.Name, pkg.Type.Member and the field names of a pkg.Type{…}
// literal. Blocks that do not parse, even as a function body, are read
// for pkg.Name alone.
func (a *repoAPI) checkGo(src string) []problem {
	s := scope{api: a, imports: a.importsOf(src)}
	f, offset := parseFragment(src)
	if f == nil {
		return a.checkText(src, s, true)
	}
	s.locals = declared(f)
	var out []problem
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, problem{fset.Position(n.Pos()).Line - offset, fmt.Sprintf(format, args...)})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ImportSpec:
			return false
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok {
				if pkgs := s.resolve(x.Name); len(pkgs) > 0 && !exists(pkgs, n.Sel.Name) {
					report(n, "%s.%s does not exist", x.Name, n.Sel.Name)
				}
			}
			if inner, ok := n.X.(*ast.SelectorExpr); ok {
				if x, ok := inner.X.(*ast.Ident); ok {
					if pkgs := s.resolve(x.Name); len(pkgs) > 0 && !hasMember(pkgs, inner.Sel.Name, n.Sel.Name) {
						report(n, "%s.%s has no %s", x.Name, inner.Sel.Name, n.Sel.Name)
					}
				}
			}
		case *ast.CompositeLit:
			sel, ok := n.Type.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			pkgs := s.resolve(x.Name)
			for _, e := range n.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if k, ok := kv.Key.(*ast.Ident); ok && len(pkgs) > 0 && !hasMember(pkgs, sel.Sel.Name, k.Name) {
					report(k, "%s.%s has no field %s", x.Name, sel.Sel.Name, k.Name)
				}
			}
		}
		return true
	})
	return out
}

var fset = token.NewFileSet()

// parseFragment parses a Go block as a file, as the body of a function,
// or as declarations, whichever works, with "…" (what the docs write
// for code left out) read as a blank; offset is the number of lines put
// in front of the block.
func parseFragment(src string) (f *ast.File, offset int) {
	src = strings.ReplaceAll(src, "…", "_")
	for _, try := range []struct {
		prefix, suffix string
		offset         int
	}{
		{"", "", 0},
		{"package p\nfunc _() {\n", "\n}", 2},
		{"package p\n", "", 1},
	} {
		f, err := parser.ParseFile(fset, "", try.prefix+src+try.suffix, parser.SkipObjectResolution)
		if err == nil {
			return f, try.offset
		}
	}
	return nil, 0
}

// declared returns the names a fragment declares as variables,
// parameters or results, which hide packages of the same name.
func declared(f *ast.File) map[string]bool {
	m := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, e := range n.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						m[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				m[id.Name] = true
			}
		case *ast.Field:
			for _, id := range n.Names {
				m[id.Name] = true
			}
		case *ast.RangeStmt:
			for _, e := range []ast.Expr{n.Key, n.Value} {
				if id, ok := e.(*ast.Ident); ok && n.Tok == token.DEFINE {
					m[id.Name] = true
				}
			}
		}
		return true
	})
	return m
}

// qualified matches pkg.Name and pkg.Name.Member not inside a longer
// dotted or slashed word (stores/redis.sock, go.opentelemetry.io).
var qualified = regexp.MustCompile(`(?:^|[^\w./-])([a-z]\w*)\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?`)

// typeMember matches Type.Member, such as Config.DPoP.
var typeMember = regexp.MustCompile(`(?:^|[^\w./-])([A-Z]\w*)\.([A-Z]\w*)`)

// checkText reads text (inline code, or a Go block that does not parse)
// for exported names of the repository's packages: pkg.Name,
// pkg.Type.Member and Type.Member. Lower-case names after a package's
// (bearer.validation.duration, a metric) are not Go and are left alone.
// Line numbers are relative to text's first line.
func (a *repoAPI) checkText(text string, s scope, goCode bool) []problem {
	var out []problem
	for i, l := range strings.Split(text, "\n") {
		if goCode {
			l, _, _ = strings.Cut(l, "//")
		}
		for _, m := range qualified.FindAllStringSubmatch(l, -1) {
			pkgName, name, member := m[1], m[2], m[3]
			pkgs := s.resolve(pkgName)
			if len(pkgs) == 0 || !token.IsExported(name) {
				continue
			}
			switch {
			case !exists(pkgs, name):
				out = append(out, problem{i, pkgName + "." + name + " does not exist"})
			case member != "" && token.IsExported(member) && !hasMember(pkgs, name, member):
				out = append(out, problem{i, pkgName + "." + name + " has no " + member})
			}
		}
		if goCode {
			continue
		}
		for _, m := range typeMember.FindAllStringSubmatch(l, -1) {
			typ, member := m[1], m[2]
			var pkgs []*pkgAPI
			for _, ps := range a.byName {
				for _, p := range ps {
					if _, ok := p.members[typ]; ok {
						pkgs = append(pkgs, p)
					}
				}
			}
			if len(pkgs) > 0 && !hasMember(pkgs, typ, member) {
				out = append(out, problem{i, typ + "." + member + " does not exist"})
			}
		}
	}
	return out
}
