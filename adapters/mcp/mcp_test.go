package mcpbearer_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/accesstoken/bearer"
	mcpbearer "github.com/accesstoken/bearer/adapters/mcp"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
	"github.com/accesstoken/bearer/resource"
)

// caller is what the whoami tool reports of the TokenInfo it was given.
type caller struct {
	UserID  string   `json:"user_id"`
	Subject string   `json:"subject"`
	Scopes  []string `json:"scopes"`
	Expires bool     `json:"expires"`
}

// newMCPServer is an MCP server with one tool that reports its caller.
func newMCPServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "the caller, as the token says"},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, caller, error) {
			ti := req.Extra.TokenInfo
			if ti == nil {
				return nil, caller{UserID: "anonymous"}, nil
			}
			sub, _ := ti.Extra["sub"].(string)
			return nil, caller{UserID: ti.UserID, Subject: sub, Scopes: ti.Scopes, Expires: !ti.Expiration.IsZero()}, nil
		})
	return s
}

// streamable is the SDK's streamable HTTP handler for s.
func streamable(s *mcp.Server) http.Handler {
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Logger: quiet})
}

var quiet = slog.New(slog.DiscardHandler)

// serve mounts h behind New(v, opts...) at /mcp, with the metadata beside
// it and named in every challenge; it returns the endpoint's URL.
func serve(t *testing.T, v *bearer.Validator, h http.Handler, opts ...middleware.Option) string {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	m, err := resource.New(srv.URL+"/mcp", v)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(m.Path(), m)
	opts = append([]middleware.Option{middleware.Logger(quiet), middleware.ResourceMetadata(m.URL())}, opts...)
	mux.Handle("/mcp", mcpbearer.New(v, opts...)(h))
	return srv.URL + "/mcp"
}

// recorder is an http.RoundTripper for the SDK's client: it sends token,
// if any, and keeps the first response for the test to look at.
type recorder struct {
	token string
	mu    sync.Mutex
	first *http.Response
	body  string
}

func (rt *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if rt.token != "" {
		req.Header.Set("Authorization", "Bearer "+rt.token)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.first == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		rt.first, rt.body = resp, string(b)
	}
	return resp, nil
}

// connect connects the SDK's client to endpoint with token.
func connect(t *testing.T, endpoint, token string) (*mcp.ClientSession, *recorder, error) {
	t.Helper()
	rt := &recorder{token: token}
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             endpoint,
		HTTPClient:           &http.Client{Transport: rt},
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, rt, err
}

func whoami(t *testing.T, cs *mcp.ClientSession) caller {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var c caller
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNew: the SDK's own client meets the library's answers, and a tool
// sees the TokenInfo of the token the guard accepted.
func TestNew(t *testing.T) {
	env := conformance.NewEnv(t)
	a := env.Authority
	h := streamable(newMCPServer())
	endpoint := serve(t, env.OK, h, middleware.Require(bearer.AllOf("mcp:tools")))
	metadata := strings.Replace(endpoint, "/mcp", "/.well-known/oauth-protected-resource/mcp", 1)
	rm := `, resource_metadata="` + metadata + `"`

	for _, c := range []struct {
		name, token, challenge, retryAfter string
		status                             int
	}{
		{"no token", "", `Bearer realm="api"` + rm, "", 401},
		{"expired", a.Token(bearertest.Payload{"aud": "api", "scope": "mcp:tools", "iat": time.Now().Add(-3 * time.Hour), "exp": time.Now().Add(-2 * time.Hour)}),
			`Bearer realm="api", error="invalid_token", error_description="token expired"` + rm, "", 401},
		{"another API's token", a.Token(bearertest.Payload{"aud": "other", "scope": "mcp:tools"}),
			`Bearer realm="api", error="invalid_token", error_description="audience mismatch"` + rm, "", 401},
		{"scope missing", a.Token(bearertest.Payload{"aud": "api", "scope": "read"}),
			`Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="mcp:tools"` + rm, "", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, rt, err := connect(t, endpoint, c.token)
			if err == nil {
				t.Fatal("connected")
			}
			if rt.first.StatusCode != c.status || rt.first.Header.Get("WWW-Authenticate") != c.challenge {
				t.Errorf("%d %s\nwant %d %s", rt.first.StatusCode, rt.first.Header.Get("WWW-Authenticate"), c.status, c.challenge)
			}
		})
	}

	t.Run("authority down", func(t *testing.T) {
		down := serve(t, env.Down, h)
		_, rt, err := connect(t, down, a.Token(bearertest.Payload{"aud": "api", "scope": "mcp:tools"}))
		if err == nil {
			t.Fatal("connected")
		}
		if rt.first.StatusCode != 503 || rt.first.Header.Get("Retry-After") != "1" || rt.first.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%d Retry-After %q, challenge %q; want 503, 1, none", rt.first.StatusCode, rt.first.Header.Get("Retry-After"), rt.first.Header.Get("WWW-Authenticate"))
		}
	})

	t.Run("good token", func(t *testing.T) {
		cs, _, err := connect(t, endpoint, a.Token(bearertest.Payload{"aud": "api", "scope": "mcp:tools other", "sub": "bob"}))
		if err != nil {
			t.Fatal(err)
		}
		got := whoami(t, cs)
		want := caller{UserID: a.Issuer() + "#bob", Subject: "bob", Scopes: []string{"mcp:tools", "other"}, Expires: true}
		if got.UserID != want.UserID || got.Subject != want.Subject || strings.Join(got.Scopes, " ") != "mcp:tools other" || !got.Expires {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

// TestOptional: an anonymous request reaches the server without a
// TokenInfo; a bad token is still refused.
func TestOptional(t *testing.T) {
	env := conformance.NewEnv(t)
	endpoint := serve(t, env.OK, streamable(newMCPServer()), middleware.Optional())
	cs, _, err := connect(t, endpoint, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := whoami(t, cs); got.UserID != "anonymous" {
		t.Errorf("anonymous caller seen as %+v", got)
	}
	if _, rt, err := connect(t, endpoint, "a.b.c"); err == nil || rt.first.StatusCode != 401 {
		t.Errorf("bad token: %v", err)
	}
}

// post sends a tools/list in session id with token, as a client that
// learned another's session ID would.
func post(t *testing.T, endpoint, id, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", id)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSessionBinding: the SDK binds a session to the UserID of the token
// that opened it. Another user cannot use it, nor the same subject at
// another authority: UserIDs of two issuers never collide.
func TestSessionBinding(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	h := streamable(newMCPServer()) // one set of sessions behind both guards
	endpointA := serve(t, newValidator(t, a), h)
	endpointB := serve(t, newValidator(t, b), h)
	alice := func(x *bearertest.Authority) string { return x.Token(bearertest.Payload{"aud": "mcp", "sub": "alice"}) }

	cs, _, err := connect(t, endpointA, alice(a))
	if err != nil {
		t.Fatal(err)
	}
	id := cs.ID()
	if status, body := post(t, endpointA, id, alice(a)); status != 200 {
		t.Fatalf("alice again, new token: %d %s", status, body)
	}
	if status, body := post(t, endpointA, id, a.Token(bearertest.Payload{"aud": "mcp", "sub": "mallory"})); status != 403 || !strings.Contains(body, "session user mismatch") {
		t.Errorf("another user: %d %s", status, body)
	}
	if status, body := post(t, endpointB, id, alice(b)); status != 403 || !strings.Contains(body, "session user mismatch") {
		t.Errorf("alice of another authority: %d %s", status, body)
	}
}

func newValidator(t *testing.T, a *bearertest.Authority) *bearer.Validator {
	t.Helper()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// TestVerifier: on its own behind the SDK's RequireBearerToken, the
// verifier gives the SDK what it can express: 401 for a bad token, 500
// (not 401) while the authority is down.
func TestVerifier(t *testing.T) {
	env := conformance.NewEnv(t)
	a := env.Authority
	handler := func(v *bearer.Validator) *httptest.Server {
		h := auth.RequireBearerToken(mcpbearer.Verifier(v), &auth.RequireBearerTokenOptions{ResourceMetadataURL: "https://api.example/.well-known/oauth-protected-resource"})
		srv := httptest.NewServer(h(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ti := auth.TokenInfoFromContext(r.Context())
			io.WriteString(w, ti.UserID+" "+strings.Join(ti.Scopes, ","))
		})))
		t.Cleanup(srv.Close)
		return srv
	}
	ok, down := handler(env.OK), handler(env.Down)
	good := a.Token(bearertest.Payload{"aud": "api", "scope": "x y"})
	for _, c := range []struct {
		name   string
		srv    *httptest.Server
		token  string
		status int
		body   string
	}{
		{"good", ok, good, 200, a.Issuer() + "#alice x,y"},
		{"expired", ok, a.Token(bearertest.Payload{"aud": "api", "iat": time.Now().Add(-3 * time.Hour), "exp": time.Now().Add(-2 * time.Hour)}), 401, "token expired\n"},
		{"malformed", ok, "a.b.c", 401, "malformed token\n"},
		{"authority down", down, good, 500, "authority unavailable\n"},
	} {
		req, _ := http.NewRequest(http.MethodGet, c.srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || string(b) != c.body {
			t.Errorf("%s: %d %q, want %d %q", c.name, resp.StatusCode, b, c.status, c.body)
		}
	}
}
