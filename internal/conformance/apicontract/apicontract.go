// Package apicontract tests that an example API program keeps the contract
// of examples/api, which other programs (the SPA, the end-to-end tests)
// rely on: the flags, GET /values, GET /identity and GET /healthz, the
// curl and bearer command lines printed when it embeds a test authority,
// the CORS policy, and the back-channel logout endpoint,
// POST /backchannel-logout.
// examples/chi, examples/echo and examples/gin run it against their own
// run function, so the same program in four frameworks behaves as one.
package apicontract

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/testlog"
)

// RunFunc is an example's main without the process: it serves until ctx
// ends, printing to stdout what a user reads.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

var curlLine = regexp.MustCompile(`curl -i -H "Authorization: Bearer ([^"]+)" (http://\S+)/values`)

// Run checks run against the contract.
func Run(t *testing.T, run RunFunc) {
	t.Run("printed curl line works", func(t *testing.T) { testCurlLine(t, run) })
	t.Run("printed bearer command lines work", func(t *testing.T) { testCLILines(t, run) })
	t.Run("CORS", func(t *testing.T) { testCORS(t, run) })
	t.Run("back-channel logout", func(t *testing.T) { testLogout(t, run) })
	t.Run("bad flags", func(t *testing.T) {
		for _, args := range [][]string{{"-mode", "magic"}, {"-nope"}, {"extra"}} {
			if err := run(t.Context(), args, io.Discard, io.Discard); err == nil {
				t.Errorf("run(%q) succeeded", args)
			}
		}
	})
	t.Run("-h is no failure", func(t *testing.T) {
		var usage bytes.Buffer
		if err := run(t.Context(), []string{"-h"}, io.Discard, &usage); err != nil || !strings.Contains(usage.String(), "-authority") {
			t.Errorf("run(-h): %v, printed %q; want nil and the flags", err, usage.String())
		}
	})
}

// Start runs the program with args on a free loopback port and waits
// until it listens. output returns what it has printed; stop ends it and
// waits for it, as the test's end does if stop was not called. An
// example's tests of its own features start it so.
func Start(t *testing.T, run RunFunc, args ...string) (base string, output func() string, stop func()) {
	t.Helper()
	base, out, stop := startStoppable(t, run, args...)
	return base, out.String, stop
}

// start runs the program on a free loopback port until the test ends and
// waits until it prints "listening"; it returns what it printed so far.
func start(t *testing.T, run RunFunc, args ...string) (base string, out *testlog.Buffer) {
	t.Helper()
	base, out, _ = startStoppable(t, run, args...)
	return base, out
}

func startStoppable(t *testing.T, run RunFunc, args ...string) (base string, out *testlog.Buffer, stop func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out = &testlog.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", addr}, args...), out, io.Discard) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "listening"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not listening:\n%s", out.String())
		}
	}
	// "listening" is printed just before the server listens.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	return "http://" + addr, out, stop
}

func send(t *testing.T, method, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func testCurlLine(t *testing.T, run RunFunc) {
	base, out := start(t, run)
	// Two lines: a JWT, validated locally, then a reference token,
	// introspected at the embedded authority; both must work.
	lines := curlLine.FindAllStringSubmatch(out.String(), -1)
	if len(lines) != 2 {
		t.Fatalf("want two curl lines, got:\n%s", out.String())
	}
	for _, m := range lines {
		if m[2] != base {
			t.Errorf("curl line names %s, the program listens on %s", m[2], base)
		}
		if resp, body := send(t, http.MethodGet, base+"/values", bearer(m[1])); resp.StatusCode != http.StatusOK {
			t.Errorf("the printed curl line answers %d %s", resp.StatusCode, body)
		}
	}
	token := lines[0][1]

	resp, body := send(t, http.MethodGet, base+"/values", bearer(token))
	var values []string
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &values) != nil || len(values) != 2 || len(values[0]) != 1 || len(values[1]) != 1 {
		t.Errorf("GET /values: %d %s", resp.StatusCode, body)
	}

	resp, body = send(t, http.MethodGet, base+"/values", nil)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="api"` {
		t.Errorf("GET /values without token: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, _ = send(t, http.MethodGet, base+"/values", bearer("not-a-valid-token"))
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("GET /values with a bad token: %d %v", resp.StatusCode, resp.Header)
	}

	resp, body = send(t, http.MethodGet, base+"/identity", bearer(token))
	var claims map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &claims) != nil || claims["sub"] != "alice" {
		t.Errorf("GET /identity: %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, http.MethodGet, base+"/identity", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /identity without token: %d", resp.StatusCode)
	}

	resp, body = send(t, http.MethodGet, base+"/healthz", nil)
	var health map[string]string
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &health) != nil || health["status"] != "ok" {
		t.Errorf("GET /healthz: %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, http.MethodGet, base+"/nowhere", bearer(token)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nowhere: %d, want 404", resp.StatusCode)
	}
}

var (
	cliLine   = regexp.MustCompile(`(?m)^  ((?:BEARER_CLIENT_SECRET=\S+ )?)\./bearer (.+)$`)
	buildLine = regexp.MustCompile(`(?m)^  go build -o bearer \./cmd/bearer( .*)?\n  \./bearer validate `)
)

// testCLILines runs the bearer command lines the program prints, with the
// command built from this checkout: each must accept its token, exit 0
// and say so in one line. The lines follow the command they need built
// once, not go run, whose exit status is 1 for every failure.
func testCLILines(t *testing.T, run RunFunc) {
	_, out := start(t, run)
	lines := cliLine.FindAllStringSubmatch(out.String(), -1)
	if len(lines) != 2 || !buildLine.MatchString(out.String()) {
		t.Fatalf("want go build -o bearer ./cmd/bearer, then a bearer validate and a bearer introspect line, got:\n%s", out.String())
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	bin := filepath.Join(t.TempDir(), "bearer")
	build := exec.Command("go", "build", "-o", bin, "./cmd/bearer")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/bearer: %v\n%s", err, b)
	}
	for _, m := range lines {
		cmd := exec.Command("sh", "-c", m[1]+bin+" "+m[2])
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		verdict := regexp.MustCompile(`^bearer (validate: valid|introspect: active)\n$`)
		if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), `"sub": "alice"`) || !verdict.MatchString(stderr.String()) {
			t.Errorf("%s: %v\nstdout:\n%s\nstderr:\n%s", m[0], err, &stdout, &stderr)
		}
	}
}

func testCORS(t *testing.T, run RunFunc) {
	base, _ := start(t, run, "-cors-origins", "http://app.example")
	app := http.Header{"Origin": {"http://app.example"}}

	pre := http.Header{"Origin": {"http://app.example"}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"authorization"}}
	resp, _ := send(t, http.MethodOptions, base+"/values", pre)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = send(t, http.MethodGet, base+"/values", http.Header{"Origin": {"http://evil.example"}})
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = send(t, http.MethodGet, base+"/values", app)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example" ||
		resp.Header.Get("Access-Control-Expose-Headers") != "WWW-Authenticate" {
		t.Errorf("401 to the allowed origin lacks CORS headers: %d %v", resp.StatusCode, resp.Header)
	}
}

// testLogout signs a user out through the program's logout endpoint, as
// an authority whose client -client-id the program is does.
func testLogout(t *testing.T, run RunFunc) {
	a := bearertest.New(t)
	base, _ := start(t, run, "-authority", a.Issuer(), "-audience", "api",
		"-client-id", bearertest.DefaultClientID, "-client-secret", bearertest.DefaultClientSecret)
	token := a.Token(bearertest.Payload{"aud": "api", "scope": "api", "sid": "s-1"})
	if resp, body := send(t, http.MethodGet, base+"/values", bearer(token)); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /values: %d %s", resp.StatusCode, body)
	}
	resp, err := a.PostLogout(base+"/backchannel-logout", a.LogoutToken(bearertest.Payload{"sid": "s-1"}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("logout: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = send(t, http.MethodGet, base+"/values", bearer(token))
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error_description="token revoked"`) {
		t.Errorf("GET /values after logout: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := send(t, http.MethodPost, base+"/backchannel-logout", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"error":"invalid_request"`) {
		t.Errorf("logout without a logout token: %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, http.MethodGet, base+"/backchannel-logout", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /backchannel-logout: %d, want 405", resp.StatusCode)
	}
}
