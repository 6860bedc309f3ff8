package resource_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/resource"
)

func validator(t *testing.T, a *bearertest.Authority) *bearer.Validator {
	t.Helper()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// TestNew: the defaults come from the Validator and the middleware's
// defaults, the resource is kept verbatim.
func TestNew(t *testing.T) {
	a := bearertest.New(t)
	m, err := resource.New("https://API.example.com:8443/mcp/", validator(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if m.Resource != "https://API.example.com:8443/mcp/" {
		t.Errorf("Resource %q", m.Resource)
	}
	if !slices.Equal(m.AuthorizationServers, []string{a.Issuer()}) {
		t.Errorf("AuthorizationServers %q, want %q", m.AuthorizationServers, a.Issuer())
	}
	if !slices.Equal(m.BearerMethodsSupported, []string{"header"}) {
		t.Errorf("BearerMethodsSupported %q", m.BearerMethodsSupported)
	}
	if m.ScopesSupported != nil || m.ResourceSigningAlgValuesSupported != nil {
		t.Errorf("scopes %q, signing algs %q: the library knows neither", m.ScopesSupported, m.ResourceSigningAlgValuesSupported)
	}
}

// TestNewResourceIdentifier: an https URL without fragment (RFC 9728
// §1.2), http only on loopback.
func TestNewResourceIdentifier(t *testing.T) {
	v := validator(t, bearertest.New(t))
	for _, r := range []string{
		"https://api.example.com",
		"https://api.example.com/mcp?tenant=a", // discouraged, allowed (RFC 8707 §2)
		"http://127.0.0.1:8080/mcp",
		"http://127.9.9.9/mcp",
		"http://localhost:8080/mcp",
		"http://[::1]:8080/mcp",
	} {
		if _, err := resource.New(r, v); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	for _, r := range []string{
		"",
		"/mcp",
		"api.example.com/mcp",
		"http://api.example.com/mcp",
		"http://10.0.0.1/mcp",
		"http://localhost.example.com/mcp",
		"https://api.example.com/mcp#x",
		"https://api.example.com/mcp#",
		"https://user@api.example.com/mcp",
		"ftp://api.example.com/mcp",
		"https:///mcp",
		"https://api.example.com/%zz",
	} {
		if _, err := resource.New(r, v); err == nil {
			t.Errorf("%q accepted", r)
		}
	}
}

// TestURL: the well-known path goes between the host and the resource's
// path and query (RFC 9728 §3.1).
func TestURL(t *testing.T) {
	for _, c := range []struct{ resource, url, path string }{
		{"https://api.example.com", "https://api.example.com/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource"},
		{"https://api.example.com/", "https://api.example.com/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource"},
		{"https://api.example.com/mcp", "https://api.example.com/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource/mcp"},
		{"https://api.example.com/mcp/", "https://api.example.com/.well-known/oauth-protected-resource/mcp/", "/.well-known/oauth-protected-resource/mcp/"},
		{"https://api.example.com:8443/a/b?x=1", "https://api.example.com:8443/.well-known/oauth-protected-resource/a/b?x=1", "/.well-known/oauth-protected-resource/a/b"},
		{"https://api.example.com/?x=1", "https://api.example.com/.well-known/oauth-protected-resource?x=1", "/.well-known/oauth-protected-resource"},
		{"https://api.example.com/a%2Fb", "https://api.example.com/.well-known/oauth-protected-resource/a%2Fb", "/.well-known/oauth-protected-resource/a%2Fb"},
		{"http://[::1]:8080/mcp", "http://[::1]:8080/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource/mcp"},
		{"https://api.example.com/%zz", "", ""},
	} {
		m := &resource.Metadata{Resource: c.resource}
		if got := m.URL(); got != c.url {
			t.Errorf("URL of %s: %s, want %s", c.resource, got, c.url)
		}
		if got := m.Path(); got != c.path {
			t.Errorf("Path of %s: %s, want %s", c.resource, got, c.path)
		}
	}
}

// TestServe: a client on loopback reads the document at the URL the
// challenge names, and reads exactly what the application set.
func TestServe(t *testing.T) {
	a := bearertest.New(t)
	v := validator(t, a)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	m, err := resource.New(srv.URL+"/mcp?tenant=a&x=<b>", v)
	if err != nil {
		t.Fatal(err)
	}
	m.ScopesSupported = []string{"mcp:tools"}
	m.ResourceSigningAlgValuesSupported = []string{"ES256"}
	m.ResourceName = "Example MCP server"
	m.ResourceDocumentation = "https://docs.example.com/mcp"
	mux.Handle(m.Path(), m)

	resp, err := http.Get(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if !strings.Contains(string(body), `"resource":"`+srv.URL+`/mcp?tenant=a&x=<b>"`) {
		t.Errorf("resource not as written: %s", body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"resource":                              srv.URL + "/mcp?tenant=a&x=<b>",
		"authorization_servers":                 []any{a.Issuer()},
		"scopes_supported":                      []any{"mcp:tools"},
		"bearer_methods_supported":              []any{"header"},
		"resource_signing_alg_values_supported": []any{"ES256"},
		"resource_name":                         "Example MCP server",
		"resource_documentation":                "https://docs.example.com/mcp",
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("document\n got %s\nwant %s", gotJSON, wantJSON)
	}
}
