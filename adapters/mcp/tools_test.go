package mcpbearer_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/accesstoken/bearer"
	mcpbearer "github.com/accesstoken/bearer/adapters/mcp"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
)

// callRaw posts body in session id with token and returns the status, the
// challenge and the response body.
func callRaw(t *testing.T, endpoint, id, token, body string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
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
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
}

func toolCall(name string) string {
	return `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"` + name + `","arguments":{}}}`
}

// TestRequireTools: a tool's requirement is checked on its calls alone,
// and a refusal names that tool's needs, never another's or the server's
// met ones, with the resource metadata; a body that could be read two
// ways needs every tool's requirement.
func TestRequireTools(t *testing.T) {
	env := conformance.NewEnv(t)
	a := env.Authority
	s := newMCPServer()
	for _, name := range []string{"transfer", "audit"} {
		mcp.AddTool(s, &mcp.Tool{Name: name}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, struct{ Done bool }, error) {
			return nil, struct{ Done bool }{true}, nil
		})
	}
	endpoint := serve(t, env.OK, streamable(s), middleware.Require(bearer.AllOf("mcp:tools")), mcpbearer.RequireTools(map[string]bearer.Requirement{
		"transfer": bearer.AllOf(bearer.AllOf("payments:write"), bearer.ACR("urn:example:mfa"), bearer.MaxAge(5*time.Minute)),
		"audit":    bearer.AllOf("audit:read"),
	}))
	rm := `, resource_metadata="` + strings.Replace(endpoint, "/mcp", "/.well-known/oauth-protected-resource/mcp", 1) + `"`
	tok := func(scope, acr string) string {
		return a.Token(bearertest.Payload{"aud": "api", "sub": "alice", "scope": scope, "acr": acr, "auth_time": time.Now().Add(-time.Minute).Unix()})
	}
	plain := tok("mcp:tools", "urn:example:pwd")
	cs, _, err := connect(t, endpoint, plain)
	if err != nil {
		t.Fatal(err)
	}
	id := cs.ID()
	stepUp := func(scope string) string {
		if scope != "" {
			scope = `, scope="` + scope + `"`
		}
		return `Bearer realm="api", error="insufficient_user_authentication", error_description="a different authentication level is required"` + scope +
			`, acr_values="urn:example:mfa", max_age="300"` + rm
	}
	scope := func(s string) string {
		return `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="` + s + `"` + rm
	}

	for _, c := range []struct {
		name, token, body, challenge string
		status                       int
	}{
		{"a tool without a requirement", plain, toolCall("whoami"), "", 200},
		{"tools/list", plain, `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`, "", 200},
		{"step-up and scope unmet", plain, toolCall("transfer"), stepUp("payments:write"), 401},
		{"step-up met, scope unmet", tok("mcp:tools", "urn:example:mfa"), toolCall("transfer"), scope("payments:write"), 403},
		{"scope met, step-up unmet", tok("mcp:tools payments:write", "urn:example:pwd"), toolCall("transfer"), stepUp(""), 401},
		{"all met", tok("mcp:tools payments:write", "urn:example:mfa"), toolCall("transfer"), "", 200},
		{"another tool names its own scope", plain, toolCall("audit"), scope("audit:read"), 403},
		{"the server's scope unmet too", tok("audit:read", ""), toolCall("audit"), scope("mcp:tools"), 403},
		{"name given twice", plain, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"whoami","name":"transfer"}}`, stepUp("audit:read payments:write"), 401},
		{"name in capitals", plain, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"Name":"transfer","name":"whoami"}}`, stepUp("audit:read payments:write"), 401},
		{"method in capitals", plain, `{"jsonrpc":"2.0","id":5,"METHOD":"tools/call","method":"tools/list","params":{"name":"transfer"}}`, stepUp("audit:read payments:write"), 401},
		{"not JSON", plain, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"transfer"`, stepUp("audit:read payments:write"), 401},
		{"batch", plain, `[` + toolCall("whoami") + `,` + toolCall("transfer") + `]`, stepUp("payments:write"), 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, challenge, body := callRaw(t, endpoint, id, c.token, c.body)
			if status != c.status || challenge != c.challenge {
				t.Errorf("%d %s\nwant %d %s\n%s", status, challenge, c.status, c.challenge, body)
			}
			if status == 200 && strings.Contains(body, `"isError":true`) {
				t.Errorf("tool failed: %s", body)
			}
		})
	}

	// A response to the server's own request names no method: it is no
	// tool call, and needs nothing more.
	if status, challenge, _ := callRaw(t, endpoint, id, plain, `{"jsonrpc":"2.0","id":9,"result":{}}`); status == 401 || status == 403 {
		t.Errorf("a response: %d %s", status, challenge)
	}
}
