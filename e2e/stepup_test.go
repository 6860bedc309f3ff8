//go:build unix

package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

var acrValuesParam = regexp.MustCompile(`acr_values="([^"]*)"`)

// TestStepUp: node-oidc-provider (examples/authority, acrValues) puts
// acr, amr and auth_time in the tokens of a sign-in. A route that needs a
// second factor refuses a password sign-in with RFC 9470's challenge; the
// client signs in again with the challenge's acr_values and max_age (§4),
// and the new token passes. A JWT and an opaque token, introspected, alike.
func TestStepUp(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	v := a.validator(func(c *bearer.Config) { c.ClientID, c.ClientSecret = "api", apiSecret })
	need := bearer.AllOf(bearer.ACR("urn:accesstoken:mfa"), bearer.MaxAge(10*time.Minute))
	srv := httptest.NewServer(middleware.New(v, middleware.Require(need))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := bearer.ClaimsFromContext(r.Context())
		io.WriteString(w, c.ACR+" "+strings.Join(c.AMR(), ","))
	})))
	defer srv.Close()
	get := func(token string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}

	for _, resource := range []string{apiResource, referenceResource} {
		t.Run(resource, func(t *testing.T) {
			_, token := a.signIn(t, "alice", resource)
			if resource == apiResource {
				if c := jwtClaims(t, token); c["acr"] != "urn:accesstoken:pwd" || c["auth_time"] == nil {
					t.Fatalf("the authority's token has acr %v, auth_time %v", c["acr"], c["auth_time"])
				}
			}
			status, challenge, body := get(token)
			want := `Bearer realm="api", error="insufficient_user_authentication", error_description="a different authentication level is required", acr_values="urn:accesstoken:mfa", max_age="600"`
			if status != http.StatusUnauthorized || challenge != want {
				t.Fatalf("password sign-in: %d %s\nwant 401 %s\n%s", status, challenge, want, body)
			}

			// The client does as the challenge says.
			acr := acrValuesParam.FindStringSubmatch(challenge)[1]
			_, token = a.signInWith(t, "alice", resource, url.Values{"acr_values": {acr}, "max_age": {"600"}, "prompt": {"login"}})
			if status, challenge, body = get(token); status != http.StatusOK || body != "urn:accesstoken:mfa pwd,otp" {
				t.Errorf("after the step-up: %d %s %s", status, challenge, body)
			}
		})
	}
}
