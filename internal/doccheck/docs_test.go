package doccheck

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// root is the repository's root, seen from this package's directory.
const root = "../.."

// Every Go identifier of this repository that README.md and docs/ name,
// in Go blocks and in inline code, exists.
func TestDocsNameExistingIdentifiers(t *testing.T) {
	api := loadAPI(t, root)
	for _, p := range pages(t, root) {
		for _, b := range p.blocks {
			if b.lang != "go" {
				continue
			}
			for _, pr := range api.checkGo(b.text) {
				t.Errorf("%s:%d: %s", p.name, b.line+pr.line, pr.msg)
			}
		}
		for _, s := range p.spans() {
			for _, pr := range api.checkText(s.text, scope{api: api}, false) {
				t.Errorf("%s:%d: %s", p.name, s.n+pr.line, pr.msg)
			}
		}
	}
}

// command matches "bearer COMMAND" at the start of a command line, after
// a prompt, a pipe or a ;, && or $(.
var command = regexp.MustCompile(`(?:^\s*(?:\$\s+)?|[|;&(]\s*)bearer\s+([a-z][\w-]*)`)

// Every "bearer COMMAND" of README.md and docs/ is a command of the bearer
// program built from cmd/bearer: it answers -h as a command does, not as
// it answers a name it does not know.
func TestDocsNameExistingCommands(t *testing.T) {
	named := map[string][]string{} // command → where
	for _, p := range pages(t, root) {
		for _, l := range p.shellLines() {
			for _, m := range command.FindAllStringSubmatch(l.text, -1) {
				named[m[1]] = append(named[m[1]], p.name+":"+strconv.Itoa(l.n))
			}
		}
	}
	if len(named) == 0 {
		t.Fatal("no bearer command found in the docs: is the pattern stale?")
	}

	bin := filepath.Join(t.TempDir(), "bearer")
	if out, err := exec.Command("go", "build", "-o", bin, module+"/cmd/bearer").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/bearer: %v\n%s", err, out)
	}
	help := func(cmd string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var out bytes.Buffer
		c := exec.CommandContext(ctx, bin, cmd, "-h")
		c.Stdout, c.Stderr = &out, &out
		err := c.Run()
		if err != nil && c.ProcessState == nil {
			t.Fatal(err)
		}
		return c.ProcessState.ExitCode(), strings.ReplaceAll(out.String(), cmd, "COMMAND")
	}
	unknownCode, unknownOut := help("no-such-command")

	cmds := make([]string, 0, len(named))
	for c := range named {
		cmds = append(cmds, c)
	}
	slices.Sort(cmds)
	for _, c := range cmds {
		if code, out := help(c); code == unknownCode && out == unknownOut {
			t.Errorf("%s: bearer %s is not a command of cmd/bearer", strings.Join(named[c], ", "), c)
		}
	}
}

// goCommand matches the arguments of go run, test, build, install and vet.
var goCommand = regexp.MustCompile(`\bgo\s+(?:run|test|build|install|vet)\s+([^|;&#\n]*)`)

// Every package a "go run ./…" (test, build, install, vet) line of
// README.md and docs/ names, by directory or by import path, is a
// directory of the repository.
func TestDocsNameExistingPrograms(t *testing.T) {
	for _, p := range pages(t, root) {
		for _, l := range p.shellLines() {
			for _, m := range goCommand.FindAllStringSubmatchIndex(l.text, -1) {
				base, ok := workDir(l.text[:m[0]])
				if !ok {
					continue
				}
				for _, arg := range strings.Fields(l.text[m[2]:m[3]]) {
					dir, ok := repoDir(arg)
					if !ok {
						continue
					}
					if strings.HasPrefix(dir, ".") {
						dir = filepath.Join(base, dir)
					}
					if fi, err := os.Stat(filepath.Join(root, dir)); err != nil || !fi.IsDir() {
						t.Errorf("%s:%d: %s is not a directory of the repository", p.name, l.n, arg)
					}
				}
			}
		}
	}
}

var cd = regexp.MustCompile(`\bcd\s+([^\s;&|)]+)`)

// workDir returns the directory, relative to the repository's root, that
// a command runs in after what precedes it on its line: the root, or
// where the last "cd DIR" went. It is false for a directory outside the
// repository (cd /tmp/base) or one the docs cannot know ($DIR).
func workDir(before string) (string, bool) {
	m := cd.FindAllStringSubmatch(before, -1)
	if len(m) == 0 {
		return ".", true
	}
	dir := m[len(m)-1][1]
	if filepath.IsAbs(dir) || strings.ContainsAny(dir, "$~`") {
		return "", false
	}
	return dir, true
}

// repoDir returns the directory a package argument of the go command
// names, if it is in this repository: ./examples/api, ./...,
// github.com/accesstoken/bearer/cmd/bearer@latest.
func repoDir(arg string) (string, bool) {
	arg, _, _ = strings.Cut(arg, "@")
	arg = strings.TrimSuffix(strings.TrimSuffix(arg, "..."), "/")
	switch {
	case strings.HasPrefix(arg, "./"), arg == ".":
		return arg, true
	case arg == module:
		return ".", true
	case strings.HasPrefix(arg, module+"/"):
		return strings.TrimPrefix(arg, module+"/"), true
	}
	return "", false
}

var link = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Every relative link of README.md and docs/ leads to a file or directory
// of the repository.
func TestDocsLinkExistingFiles(t *testing.T) {
	for _, p := range pages(t, root) {
		for _, l := range p.prose {
			for _, m := range link.FindAllStringSubmatch(l.text, -1) {
				target, _, _ := strings.Cut(m[1], "#")
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				if _, err := os.Stat(filepath.Join(p.dir, target)); err != nil {
					t.Errorf("%s:%d: the link to %s leads nowhere", p.name, l.n, m[1])
				}
			}
		}
	}
}

var mdName = regexp.MustCompile(`[\w-]+\.md\b`)

// The package documentation of bearer, what go doc and pkg.go.dev show
// first, lists every guide of docs/ and no page that is not there.
func TestPackageDocListsEveryGuide(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "bearer.go"), nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range guides {
		if !strings.Contains(doc, filepath.Base(g)) {
			t.Errorf("bearer.go's package documentation does not list docs/%s", filepath.Base(g))
		}
	}
	for _, name := range mdName.FindAllString(doc, -1) {
		if _, err := os.Stat(filepath.Join(root, "docs", name)); err != nil {
			t.Errorf("bearer.go's package documentation lists %s, which docs/ does not have", name)
		}
	}
}
