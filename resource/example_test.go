package resource_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
	"github.com/accesstoken/bearer/resource"
)

// An API publishes its metadata beside the guarded routes, and names it in
// every challenge so that a refused client can find its authority.
func Example() {
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"mcp"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	m, err := resource.New("https://api.example.com/mcp", v)
	if err != nil {
		log.Fatal(err)
	}
	m.ScopesSupported = []string{"mcp:tools"}
	fmt.Println(m.URL())

	mux := http.NewServeMux()
	mux.Handle(m.Path(), m) // public
	protect := middleware.New(v, middleware.ResourceMetadata(m.URL()))
	mux.Handle("/mcp", protect(http.NotFoundHandler()))
	api := httptest.NewServer(mux)
	defer api.Close()

	resp, err := http.Get(api.URL + "/mcp")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))

	resp, err = http.Get(api.URL + m.Path())
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// The test authority's address changes from run to run.
	fmt.Print(resp.StatusCode, " ", strings.ReplaceAll(string(body), authority.Issuer(), "https://login.example.com"))
	// Output:
	// https://api.example.com/.well-known/oauth-protected-resource/mcp
	// 401 Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"
	// 200 {"resource":"https://api.example.com/mcp","authorization_servers":["https://login.example.com"],"scopes_supported":["mcp:tools"],"bearer_methods_supported":["header"]}
}
