//go:build unix

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReplicasWalkthrough runs the commands of docs/replicas.md's "Try
// it" section, read from the page, as a reader copies them: Redis, the
// test authority alone, three replicas of examples/api, and the curl lines,
// each of which must answer the status its comment promises. Only the
// ports change (to free ones), and "go run ./examples/api" is the binary
// built once. A command the test does not know fails it, so the page
// cannot grow a step nobody runs.
func TestReplicasWalkthrough(t *testing.T) {
	lines := walkthroughCommands(t, filepath.Join(repoRoot(t), "docs", "replicas.md"), "## Try it: three replicas on one machine")
	ports := map[string]string{}
	lines = freePorts(t, lines, ports)
	if len(ports) != 5 {
		t.Errorf("the walkthrough uses %d ports, want 5 (Redis, the authority, three replicas): %v", len(ports), ports)
	}

	bin := buildAPI(t, repoRoot(t))
	env := map[string]string{}
	var replicas, authorities int
	for i, line := range lines {
		words, comment := shellWords(t, line, env)
		switch {
		case len(words) > 0 && words[0] == "redis-server":
			port, err := strconv.Atoi(flagValue(words, "--port"))
			if err != nil {
				t.Fatalf("%s: no --port", line)
			}
			redisServer(t, port, words[1:]...)
		case len(words) > 3 && strings.Join(words[:3], " ") == "go run ./examples/api":
			args := words[3:]
			addr := flagValue(args, "-addr")
			p := start(t, "api "+addr, ".", nil, append([]string{bin}, args...)...)
			if slices.Contains(args, "-authority-only") {
				authorities++
				env["TOKEN"] = printedToken(t, p)
				continue
			}
			replicas++
			// Ready: the authority's keys are at hand (and, with -redis,
			// the revocations are read).
			waitHTTP(t, p, "http://"+addr+"/readyz", 30*time.Second)
		case len(words) > 0 && words[0] == "curl":
			walkthroughCurl(t, i+1, words[1:], comment)
		default:
			t.Fatalf("docs/replicas.md: a command this test does not run: %s", line)
		}
	}
	if authorities != 1 || replicas != 3 {
		t.Errorf("the walkthrough starts %d authorities and %d replicas, want 1 and 3", authorities, replicas)
	}
}

// walkthroughCommands returns the lines of the ```sh blocks in the section
// of the Markdown file that begins with heading, up to the next heading of
// its level.
func walkthroughCommands(t *testing.T, file, heading string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s has no %q", file, heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var lines []string
	in := false
	for line := range strings.SplitSeq(section, "\n") {
		switch {
		case line == "```sh":
			in = true
		case line == "```":
			in = false
		case in && strings.TrimSpace(line) != "":
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("%s: no commands under %q", file, heading)
	}
	return lines
}

var loopbackPort = regexp.MustCompile(`(127\.0\.0\.1:|--port )(\d+)\b`)

// freePorts gives every port the lines name a free one, the same for
// each mention; ports maps the page's ports to the test's.
func freePorts(t *testing.T, lines []string, ports map[string]string) []string {
	t.Helper()
	out := make([]string, len(lines))
	for i, line := range lines {
		out[i] = loopbackPort.ReplaceAllStringFunc(line, func(m string) string {
			sub := loopbackPort.FindStringSubmatch(m)
			if ports[sub[2]] == "" {
				ports[sub[2]] = itoa(freePort(t))
			}
			return sub[1] + ports[sub[2]]
		})
	}
	return out
}

// shellWords splits a command line as sh does, for the little the page
// uses: blanks, '…', "…", $NAME (from env, and set there), and a comment
// from a # that begins a word, which it returns.
func shellWords(t *testing.T, line string, env map[string]string) (words []string, comment string) {
	t.Helper()
	var word strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == '\'' && c != '\'':
			word.WriteByte(c)
		case c == '\'' || c == '"':
			if quote == c {
				quote = 0
			} else if quote == 0 {
				quote, inWord = c, true
			} else {
				word.WriteByte(c)
			}
		case c == '$':
			j := i + 1
			for j < len(line) && (line[j] == '_' || line[j] >= 'A' && line[j] <= 'Z') {
				j++
			}
			v, ok := env[line[i+1:j]]
			if !ok {
				t.Fatalf("%s: $%s is not set by an earlier step", line, line[i+1:j])
			}
			word.WriteString(v)
			inWord, i = true, j-1
		case quote == 0 && (c == ' ' || c == '\t'):
			if inWord {
				words, inWord = append(words, word.String()), false
				word.Reset()
			}
		case quote == 0 && c == '#' && !inWord:
			return words, strings.TrimSpace(line[i+1:])
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("%s: unterminated quote", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, ""
}

// flagValue returns the word after name in args, or "".
func flagValue(args []string, name string) string {
	if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

var exportToken = regexp.MustCompile(`(?m)^export TOKEN=(\S+)\n`)

// printedToken waits for the "export TOKEN=…" line that examples/api
// -authority-only prints, and returns the token.
func printedToken(t *testing.T, p *process) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := exportToken.FindStringSubmatch(p.out.String()); m != nil {
			return m[1]
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("%s printed no export TOKEN= line (exited: %v):\n%s", p.name, p.exited(), p.out)
		}
	}
}

var statusComment = regexp.MustCompile(`^(\d{3})\b`)

// walkthroughCurl sends the request of a curl line (-i, -X METHOD,
// -H "Name: value", URL) and checks the status its comment promises. A GET
// promised 401 that still answers 200 is asked again for a while: a
// revocation reaches the other replicas within milliseconds, not at once.
func walkthroughCurl(t *testing.T, n int, args []string, comment string) {
	t.Helper()
	m := statusComment.FindStringSubmatch(comment)
	if m == nil {
		t.Fatalf("curl line %d: its comment %q names no status", n, comment)
	}
	want, _ := strconv.Atoi(m[1])
	method, url, header := http.MethodGet, "", http.Header{}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-i":
		case a == "-X" && i+1 < len(args):
			method, i = args[i+1], i+1
		case a == "-H" && i+1 < len(args):
			name, value, _ := strings.Cut(args[i+1], ":")
			header.Add(name, strings.TrimSpace(value))
			i++
		case strings.HasPrefix(a, "http://") && url == "":
			url = a
		default:
			t.Fatalf("curl line %d: an argument this test does not know: %q", n, a)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("curl line %d: %v", n, err)
		}
		resp.Body.Close()
		if resp.StatusCode == want {
			return
		}
		propagating := method == http.MethodGet && want == http.StatusUnauthorized && resp.StatusCode == http.StatusOK
		if !propagating || time.Now().After(deadline) {
			t.Fatalf("curl line %d (%s %s): %d, the page says %d", n, method, url, resp.StatusCode, want)
		}
	}
}
