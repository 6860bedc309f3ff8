package bearer

import (
	"strings"
	"testing"
)

// Regression tests of the review in issue 18 that need the package's
// insides; the others are in review_test.go.

// TestReview3_HTTPSRuleIgnoresSchemeCase: an authority written
// "HTTPS://…" is https, so neither its discovery document nor
// Config.IntrospectionEndpoint may send the API to an http endpoint.
func TestReview3_HTTPSRuleIgnoresSchemeCase(t *testing.T) {
	for _, authority := range []string{"HTTPS://login.example.com/tenant", "Https://login.example.com/tenant", "https://login.example.com/tenant"} {
		for _, field := range []string{"jwks_uri", "introspection_endpoint"} {
			doc := `{"issuer":"` + authority + `","` + field + `":"http://login.example.com/tenant/x"}`
			if _, err := parseMetadata([]byte(doc), authority); err == nil || !strings.Contains(err.Error(), "not https") {
				t.Errorf("authority %s: %s over http accepted (%v)", authority, field, err)
			}
		}
		_, err := Config{
			Authority: authority, Audience: []string{"api"}, ClientID: "api", ClientSecret: "secret",
			IntrospectionEndpoint: "http://login.example.com/tenant/introspect",
		}.settings()
		if err == nil || !strings.Contains(err.Error(), "not https") {
			t.Errorf("authority %s: http IntrospectionEndpoint accepted (%v)", authority, err)
		}
		_, err = Config{
			Authority: authority, Audience: []string{"api"}, ClientID: "api", ClientSecret: "secret",
			IntrospectionEndpoint: "HTTPS://login.example.com/tenant/introspect",
		}.settings()
		if err != nil {
			t.Errorf("authority %s: https IntrospectionEndpoint in capitals refused: %v", authority, err)
		}
	}
	// An http authority may have http endpoints, in any case.
	if _, err := parseMetadata([]byte(`{"issuer":"HTTP://127.0.0.1:4000","jwks_uri":"http://127.0.0.1:4000/jwks"}`), "HTTP://127.0.0.1:4000"); err != nil {
		t.Errorf("http authority: %v", err)
	}
}
