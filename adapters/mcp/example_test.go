package mcpbearer_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/accesstoken/bearer"
	mcpbearer "github.com/accesstoken/bearer/adapters/mcp"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
	"github.com/accesstoken/bearer/resource"
)

// withToken adds a bearer token to every request of the SDK's client.
type withToken string

func (t withToken) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+string(t))
	return http.DefaultTransport.RoundTrip(req)
}

// An MCP server whose tool knows who calls it.
func Example() {
	ctx := context.Background()
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()
	v, err := bearer.New(ctx, bearer.Config{Authority: authority.Issuer(), Audience: []string{"mcp"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	server := mcp.NewServer(&mcp.Implementation{Name: "hello", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "hello", Description: "greets the caller"},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			sub := req.Extra.TokenInfo.Extra["sub"]
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("hello %s", sub)}}}, nil, nil
		})

	mux := http.NewServeMux()
	api := httptest.NewServer(mux)
	defer api.Close()
	m, err := resource.New(api.URL+"/mcp", v)
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle(m.Path(), m)
	protect := mcpbearer.New(v, middleware.ResourceMetadata(m.URL()), middleware.Require(bearer.AllOf("mcp:tools")))
	mux.Handle("/mcp", protect(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)))

	token := authority.Token(bearertest.Payload{"aud": "mcp", "scope": "mcp:tools", "sub": "alice"})
	client := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             api.URL + "/mcp",
		HTTPClient:           &http.Client{Transport: withToken(token)},
		DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "hello", Arguments: map[string]any{}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	// Output:
	// hello alice
}
