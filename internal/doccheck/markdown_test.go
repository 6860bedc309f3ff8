package doccheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// page is a Markdown file cut into fenced blocks and the prose between.
type page struct {
	name   string  // relative to the repository's root, such as docs/testing.md
	dir    string  // the directory its relative links start from
	blocks []block // fenced code blocks
	prose  []line  // every line outside them
}

// block is a fenced code block.
type block struct {
	lang string // the info string's first word: go, sh, or empty
	text string
	line int // of the block's first line in the page
}

type line struct {
	n    int
	text string
}

// pages reads README.md, every page of docs/, and the other documents a
// user or a maintainer follows.
func pages(t *testing.T, root string) []page {
	t.Helper()
	names := []string{"README.md", "SECURITY.md", "BENCHMARKS.md", "RELEASING.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		names = append(names, filepath.ToSlash(must(filepath.Rel(root, d))))
	}
	var ps []page
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, parsePage(name, filepath.Join(root, filepath.Dir(name)), string(b)))
	}
	return ps
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// parsePage splits md at its fences (``` or ~~~, indented or not).
func parsePage(name, dir, md string) page {
	p := page{name: name, dir: dir}
	var (
		open  *block
		fence string
		body  []string
	)
	for i, text := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(text)
		if open != nil {
			if trimmed == fence {
				open.text = strings.Join(body, "\n")
				p.blocks = append(p.blocks, *open)
				open, body = nil, nil
				continue
			}
			body = append(body, text)
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			lang, _, _ := strings.Cut(strings.TrimSpace(trimmed[3:]), " ")
			open = &block{lang: lang, line: i + 2}
			continue
		}
		p.prose = append(p.prose, line{i + 1, text})
	}
	return p
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// spans returns the inline code of the page's prose.
func (p page) spans() []line {
	var out []line
	for _, l := range p.prose {
		for _, m := range codeSpan.FindAllStringSubmatch(l.text, -1) {
			out = append(out, line{l.n, m[1]})
		}
	}
	return out
}

// shellLines returns the lines of the page's shell blocks (sh, bash,
// console, or untagged) and its inline code, where commands are named.
func (p page) shellLines() []line {
	var out []line
	for _, b := range p.blocks {
		switch b.lang {
		case "", "sh", "bash", "shell", "console":
			for i, text := range strings.Split(b.text, "\n") {
				out = append(out, line{b.line + i, text})
			}
		}
	}
	return append(out, p.spans()...)
}
