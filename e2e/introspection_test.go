//go:build unix

package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
)

// withIntrospection gives the validator the API's credentials at the
// introspection endpoint (client "api" of examples/authority), as the
// walkthrough's API has them.
func withIntrospection(cacheDuration time.Duration) func(*bearer.Config) {
	return func(c *bearer.Config) {
		c.ClientID = "api"
		c.ClientSecret = apiSecret
		c.CacheDuration = cacheDuration
	}
}

// TestOpaqueTokens: reference tokens, which the API cannot read, are
// accepted or refused on the introspection endpoint's word.
func TestOpaqueTokens(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	api := apiServer(t, a.validator(withIntrospection(0)))

	opaque := a.token("svc", "api", referenceResource)
	if strings.Count(opaque, ".") == 2 {
		t.Fatal("the reference resource issued a JWT")
	}
	r := call(t, api, opaque)
	wantStatus(t, "opaque token", r, http.StatusOK, "")
	if !strings.Contains(r.Body, `"client_id":"svc"`) {
		t.Errorf("handler did not see the introspected claims: %s", r.Body)
	}
	// JWTs keep being validated locally next to them.
	wantStatus(t, "JWT next to opaque tokens", call(t, api, a.token("svc", "api", apiResource)), http.StatusOK, "")

	readOnly := a.token("svc", "api.read", referenceResource)
	wantStatus(t, "opaque token without the required scope", call(t, api, readOnly), http.StatusForbidden, "insufficient_scope")

	wantStatus(t, "made-up opaque token", call(t, api, "made-up-reference-token"), http.StatusUnauthorized, "invalid_token")

	// The authority refusing the API's own credentials says nothing about
	// the caller's token: 503, not 401.
	wrong := apiServer(t, a.validator(func(c *bearer.Config) {
		c.ClientID = "api"
		c.ClientSecret = "not-the-secret"
	}))
	wantStatus(t, "opaque token, API's credentials refused", call(t, wrong, opaque), http.StatusServiceUnavailable, "")
}

// TestRevokedOpaqueToken measures how long a revoked reference token is
// still accepted: at most Config.CacheDuration after the answer was
// cached. The worst case is measured: the token is revoked right after the
// request that cached it.
func TestRevokedOpaqueToken(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	for _, tc := range []struct {
		name  string
		cache time.Duration
	}{
		{"caching off", -1},
		{"cached 3s", 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := apiServer(t, a.validator(withIntrospection(tc.cache)))
			token := a.token("svc", "api", referenceResource)
			wantStatus(t, "before revocation", call(t, api, token), http.StatusOK, "")
			a.revoke("svc", token)
			revoked := time.Now()

			bound := max(tc.cache, 0) + time.Second // the second is slack for a loaded machine
			accepted := 0
			for {
				r := call(t, api, token)
				if r.Status == http.StatusUnauthorized {
					wantStatus(t, "revoked token", r, http.StatusUnauthorized, "invalid_token")
					break
				}
				if r.Status != http.StatusOK {
					t.Fatalf("revoked token: status %d (%s)", r.Status, r.Challenge)
				}
				accepted++
				if time.Since(revoked) > bound {
					t.Fatalf("revoked token still accepted %v after revocation (CacheDuration %v)", time.Since(revoked), tc.cache)
				}
				time.Sleep(50 * time.Millisecond)
			}
			latency := time.Since(revoked)
			t.Logf("CacheDuration %v: revoked token refused %v after revocation, accepted %d more time(s) before that",
				tc.cache, latency.Round(time.Millisecond), accepted)
			if tc.cache < 0 && accepted > 0 {
				t.Errorf("without caching the first request after revocation must be refused; %d were accepted", accepted)
			}
			if tc.cache > 0 && accepted == 0 {
				t.Errorf("with CacheDuration %v the cached answer was not used", tc.cache)
			}
		})
	}
}
