package main

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/loopback"
	"github.com/accesstoken/bearer/internal/testlog"
)

// start runs the program on a free loopback port until the test ends and
// returns its MCP endpoint and what it printed once it listens.
func start(t *testing.T, args ...string) (endpoint, printed string) {
	t.Helper()
	addr, err := loopback.Addr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &testlog.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", addr}, args...), out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	// "listening" is printed just before the server listens.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if strings.Contains(out.String(), "listening") {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not listening:\n%s", out.String())
		}
	}
	return "http://" + addr + "/mcp", out.String()
}

// transport is the SDK client's HTTP transport: it sends the token, if
// any, and keeps the first response, the one to initialize.
type transport struct {
	token string
	mu    sync.Mutex
	first *http.Response
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if tr.token != "" {
		req.Header.Set("Authorization", "Bearer "+tr.token)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		tr.mu.Lock()
		if tr.first == nil {
			tr.first = resp
		}
		tr.mu.Unlock()
	}
	return resp, err
}

// connect connects the MCP SDK's own client to endpoint with token.
func connect(t *testing.T, endpoint, token string) (*mcp.ClientSession, *http.Response, error) {
	t.Helper()
	tr := &transport{token: token}
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             endpoint,
		HTTPClient:           &http.Client{Transport: tr},
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, tr.first, err
}

// whoami calls the tool and returns what it answered.
func whoami(t *testing.T, cs *mcp.ClientSession) identity {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var id identity
	if err := json.Unmarshal(b, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func metadataURL(endpoint string) string {
	return strings.Replace(endpoint, "/mcp", "/.well-known/oauth-protected-resource/mcp", 1)
}

var (
	printedToken     = regexp.MustCompile(`Bearer …\):\n  (\S+)\n`)
	printedAuthority = regexp.MustCompile(`embedded test authority at (\S+) `)
)

// TestEmbedded is the README's promise: go run ./examples/mcp prints a
// token that MCP clients can use, and the metadata that leads to the
// authority that issued it.
func TestEmbedded(t *testing.T) {
	endpoint, printed := start(t)
	token, authority := printedToken.FindStringSubmatch(printed), printedAuthority.FindStringSubmatch(printed)
	if token == nil || authority == nil || !strings.Contains(printed, "curl -i "+endpoint+"\n") {
		t.Fatalf("printed:\n%s", printed)
	}

	cs, _, err := connect(t, endpoint, token[1])
	if err != nil {
		t.Fatal(err)
	}
	if id := whoami(t, cs); id.Subject != "alice" || id.UserID != authority[1]+"#alice" || strings.Join(id.Scopes, " ") != "mcp:tools" {
		t.Errorf("whoami: %+v", id)
	}

	resp, err := http.Get(metadataURL(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Resource != endpoint || len(m.AuthorizationServers) != 1 || m.AuthorizationServers[0] != authority[1] || strings.Join(m.ScopesSupported, " ") != "mcp:tools" {
		t.Errorf("metadata %+v", m)
	}
}

// TestAuthorization drives the server with the SDK's client and tokens of
// a test authority: each refusal is the library's, with the challenge
// that leads an MCP client to the metadata; a good token reaches the tool.
func TestAuthorization(t *testing.T) {
	a := bearertest.New(t)
	endpoint, _ := start(t, "-authority", a.Issuer())
	rm := `, resource_metadata="` + metadataURL(endpoint) + `"`
	for _, c := range []struct {
		name, token, challenge string
		status                 int
	}{
		{"no token", "", `Bearer realm="api"` + rm, 401},
		{"scope missing", a.Token(bearertest.Payload{"aud": endpoint, "scope": "other"}),
			`Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="mcp:tools"` + rm, 403},
		{"token for another server", a.Token(bearertest.Payload{"aud": "https://other.example/mcp", "scope": "mcp:tools"}),
			`Bearer realm="api", error="invalid_token", error_description="audience mismatch"` + rm, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, resp, err := connect(t, endpoint, c.token)
			if err == nil {
				t.Fatal("connected")
			}
			if resp.StatusCode != c.status || resp.Header.Get("WWW-Authenticate") != c.challenge {
				t.Errorf("%d %s\nwant %d %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), c.status, c.challenge)
			}
		})
	}
	t.Run("good token", func(t *testing.T) {
		cs, _, err := connect(t, endpoint, a.Token(bearertest.Payload{"aud": endpoint, "scope": "mcp:tools", "sub": "bob"}))
		if err != nil {
			t.Fatal(err)
		}
		if id := whoami(t, cs); id.Subject != "bob" || id.UserID != a.Issuer()+"#bob" {
			t.Errorf("whoami: %+v", id)
		}
	})
}

// TestAuthorityDown: while the authority cannot be reached, a client gets
// 503 with Retry-After, never a 401 that would send it to sign in again.
func TestAuthorityDown(t *testing.T) {
	a := bearertest.NewAuthority()
	token := a.Token(bearertest.Payload{"aud": "mcp", "scope": "mcp:tools"}) // valid, but for the authority being down
	a.Close()
	endpoint, _ := start(t, "-authority", a.Issuer(), "-audience", "mcp")
	_, resp, err := connect(t, endpoint, token)
	if err == nil {
		t.Fatal("connected")
	}
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("%d, Retry-After %q, challenge %q", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("WWW-Authenticate"))
	}
}

var printedClient = regexp.MustCompile(`(?m)^  go run \./examples/mcp/client (.+)$`)

// TestPrintedClientCommand: the client command the program prints reaches
// the tool (initialize, tools/list, tools/call whoami), run as a user runs
// it, a process of its own; with a token for another server it prints the
// refusal and its challenge, and fails.
func TestPrintedClientCommand(t *testing.T) {
	endpoint, printed := start(t)
	m, authority := printedClient.FindStringSubmatch(printed), printedAuthority.FindStringSubmatch(printed)
	if m == nil || authority == nil {
		t.Fatalf("no client command in:\n%s", printed)
	}
	args := strings.Fields(m[1])
	if len(args) != 3 || args[0] != "-url" || args[1] != endpoint {
		t.Fatalf("client command %q, want -url %s TOKEN", m[1], endpoint)
	}
	bin := filepath.Join(t.TempDir(), "client")
	if out, err := exec.Command("go", "build", "-o", bin, "./client").CombinedOutput(); err != nil {
		t.Fatalf("go build ./client: %v\n%s", err, out)
	}
	client := func(args ...string) (stdout, stderr string, err error) {
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err = cmd.Run()
		return out.String(), errb.String(), err
	}

	stdout, stderr, err := client(args...)
	if err != nil {
		t.Fatalf("client: %v\n%s%s", err, stdout, stderr)
	}
	for _, want := range []string{
		"initialize: bearer-example 1.0.0, protocol ",
		"tools/list:\n  forget_me: Pretends to forget everything about the caller; needs a recent second factor.\n  whoami: Tells who the access token says the caller is.\n",
		`"subject": "alice"`,
		`"user_id": "` + authority[1] + `#alice"`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("client printed no %q:\n%s", want, stdout)
		}
	}

	a := bearertest.New(t)
	stdout, stderr, err = client("-url", endpoint, a.Token(bearertest.Payload{"aud": endpoint, "scope": "mcp:tools"}))
	refused := `client: initialize: the server answered 401 Unauthorized, WWW-Authenticate: Bearer realm="api", error="invalid_token", `
	if err == nil || stdout != "" || !strings.HasPrefix(stderr, refused) || strings.Count(stderr, "\n") != 1 ||
		!strings.HasSuffix(stderr, `resource_metadata="`+metadataURL(endpoint)+`"`+"\n") {
		t.Errorf("a token of another authority: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-resource", "http://api.example.com/mcp"}, {"-authority", "not a url"}} {
		if err := run(t.Context(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

// TestStepUpTool: forget_me needs a recent second factor. A token without
// it still reaches whoami, but its call of forget_me is refused with the
// RFC 9470 challenge naming the acr and max age, and the metadata; after
// the step-up, the call goes through.
func TestStepUpTool(t *testing.T) {
	a := bearertest.New(t)
	endpoint, _ := start(t, "-authority", a.Issuer())
	token := func(acr string, signedIn time.Time) string {
		return a.Token(bearertest.Payload{"aud": endpoint, "scope": "mcp:tools", "acr": acr, "auth_time": signedIn})
	}
	cs, _, err := connect(t, endpoint, token("urn:example:pwd", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	whoami(t, cs)
	call := func(token string) (int, string, string) {
		body := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"forget_me","arguments":{}}}`
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", cs.ID())
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}
	rm := `, resource_metadata="` + metadataURL(endpoint) + `"`
	for _, c := range []struct {
		name, token, challenge string
	}{
		{"password only", token("urn:example:pwd", time.Now()),
			`Bearer realm="api", error="insufficient_user_authentication", error_description="a different authentication level is required", acr_values="urn:example:mfa", max_age="600"` + rm},
		{"second factor an hour ago", token("urn:example:mfa", time.Now().Add(-time.Hour)),
			`Bearer realm="api", error="insufficient_user_authentication", error_description="more recent authentication is required", acr_values="urn:example:mfa", max_age="600"` + rm},
	} {
		if status, challenge, body := call(c.token); status != 401 || challenge != c.challenge {
			t.Errorf("%s: %d %s\nwant 401 %s\n%s", c.name, status, challenge, c.challenge, body)
		}
	}
	if status, _, body := call(token("urn:example:mfa", time.Now())); status != 200 || !strings.Contains(body, `\"forgotten\":\"alice\"`) && !strings.Contains(body, `"forgotten":"alice"`) {
		t.Errorf("after the step-up: %d %s", status, body)
	}
}
