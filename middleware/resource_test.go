package middleware_test

import (
	"net/http"
	"testing"

	"github.com/accesstoken/bearer/middleware"
)

// TestResourceMetadataRefusesBadURLs: a URL clients could not follow, or
// that the challenge could not carry as given, is a programming error
// caught at start-up.
func TestResourceMetadataRefusesBadURLs(t *testing.T) {
	for _, u := range []string{
		"",
		"/.well-known/oauth-protected-resource",
		"api.example/.well-known/oauth-protected-resource",
		"ftp://api.example/.well-known/oauth-protected-resource",
		"https://api.example/.well-known/oauth-protected-resource#x",
		`https://api.example/.well-known/oauth-protected-resource/"x"`,
		`https://api.example/.well-known/oauth-protected-resource/a\b`,
		"https://api.example/.well-known/oauth-protected-resource/é",
		"https://api.example/.well-known/oauth-protected-resource/a b",
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ResourceMetadata(%q) did not panic", u)
				}
			}()
			middleware.ResourceMetadata(u)
		}()
	}
}

// TestResourceMetadataLastWins: a challenge names one metadata URL, the
// last one given.
func TestResourceMetadataLastWins(t *testing.T) {
	f := newFixture(t)
	srv := f.serve(t,
		middleware.ResourceMetadata("https://old.example/.well-known/oauth-protected-resource"),
		middleware.ResourceMetadata("http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp?x=1"))
	status, challenge, _ := do(t, newRequest(t, http.MethodGet, srv.URL, "", ""))
	if want := `Bearer realm="api", resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp?x=1"`; status != 401 || challenge != want {
		t.Errorf("%d %s, want 401 %s", status, challenge, want)
	}
}
