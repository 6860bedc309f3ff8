package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/loopback"
)

// runAsMain makes the test binary the program itself, so that the test
// runs main exactly as `go run` would, without compiling it again.
const runAsMain = "QUICKSTART_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// The program, run against a test authority, serves /values to a token
// with the scope "api" and refuses the rest with its realm.
func TestQuickstart(t *testing.T) {
	a := bearertest.New(t)
	base := start(t, a.Issuer())

	get := func(token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/values", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	resp := get(a.Token(bearertest.Payload{"aud": "api", "scope": "api", "sub": "alice"}))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "hello alice, your scopes: [api]\n" {
		t.Errorf("valid token: %d %q", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		name, token string
		status      int
		challenge   string
	}{
		{"no token", "", 401, `Bearer realm="values"`},
		{"wrong audience", a.Token(bearertest.Payload{"aud": "other", "scope": "api"}), 401, `Bearer realm="values", error="invalid_token"`},
		{"missing scope", a.Token(bearertest.Payload{"aud": "api", "scope": "read"}), 403, `Bearer realm="values", error="insufficient_scope"`},
	} {
		resp := get(tc.token)
		if got := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != tc.status || !strings.HasPrefix(got, tc.challenge) {
			t.Errorf("%s: %d %s, want %d %s…", tc.name, resp.StatusCode, got, tc.status, tc.challenge)
		}
	}
}

// Without ADDR the program listens on loopback only: a quickstart run on
// a laptop is not an API for the whole network. Whether port 8080 is free
// does not matter: the address is logged before it listens.
func TestListensOnLoopbackByDefault(t *testing.T) {
	a := bearertest.New(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ADDR=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(env, runAsMain+"=1", "AUTHORITY="+a.Issuer())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	listening := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			if _, addr, ok := strings.Cut(s.Text(), "listening on "); ok {
				listening <- addr
				break
			}
		}
		close(listening)
		io.Copy(io.Discard, stderr)
	}()
	select {
	case addr := <-listening:
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Errorf("listens on %q by default, want a loopback address", addr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no \"listening on\" line after 30 s")
	}
}

// start runs the program as a process with AUTHORITY set to authority and
// returns its base URL once it accepts connections.
func start(t *testing.T, authority string) string {
	t.Helper()
	addr, err := loopback.Addr()
	if err != nil {
		t.Fatal(err)
	}

	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), runAsMain+"=1", "AUTHORITY="+authority, "ADDR="+addr)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	// Wait until it listens, or exits (log.Fatal), or a generous deadline
	// on a busy machine passes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		select {
		case err := <-exited:
			t.Fatalf("quickstart exited (%v): %s", err, stderr.Bytes())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("quickstart does not listen on %s after 30 s: %s", addr, stderr.Bytes())
		}
	}
}

// The README's first Go block is this program, byte for byte: what a
// reader copies is what this test runs.
func TestREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	block, ok := firstGoBlock(string(readme))
	if !ok {
		t.Fatal("README.md has no ```go block")
	}
	if block != string(file) {
		t.Errorf("README.md's first ```go block differs from examples/quickstart/main.go at line %d; copy the one onto the other", firstDifference(block, string(file)))
	}
}

// firstGoBlock returns the body of the first fenced block tagged go.
func firstGoBlock(md string) (string, bool) {
	_, rest, ok := strings.Cut(md, "\n```go\n")
	if !ok {
		return "", false
	}
	body, _, ok := strings.Cut(rest, "\n```\n")
	return body + "\n", ok
}

// firstDifference returns the 1-based number of the first line where a and
// b differ.
func firstDifference(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}
