//go:build unix

package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
)

// TestJWTAlgorithms: client_credentials JWTs signed with each algorithm the
// authority offers are accepted by the middleware. The authority signs
// with the algorithm chosen for the client (see accessTokenAlg in
// examples/authority/authority.js).
func TestJWTAlgorithms(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	api := apiServer(t, a.validator(nil))
	for client, alg := range map[string]string{
		"svc":       "RS256",
		"svc-ps256": "PS256",
		"svc-es256": "ES256",
		"svc-eddsa": "EdDSA",
	} {
		t.Run(alg, func(t *testing.T) {
			token := a.token(client, "api", apiResource)
			if got, _ := jwsHeader(t, token); got != alg {
				t.Fatalf("authority signed with %s, want %s", got, alg)
			}
			wantStatus(t, alg+" token", call(t, api, token), http.StatusOK, "")
		})
	}
}

// TestJWTRefusals: no token, a token for another API and a token without
// the required scope are refused, each with its own status and code.
func TestJWTRefusals(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	api := apiServer(t, a.validator(nil))

	r := call(t, api, "")
	wantStatus(t, "no token", r, http.StatusUnauthorized, "")
	if r.Challenge == "" {
		t.Error("no token: no WWW-Authenticate challenge")
	}

	// Signed by the same authority, valid in every other way, but its aud
	// is "other".
	other := a.token("svc", "other", otherResource)
	wantStatus(t, "token for another resource", call(t, api, other), http.StatusUnauthorized, "invalid_token")

	// For this API, but granted only api.read while "api" is required.
	readOnly := a.token("svc", "api.read", apiResource)
	r = call(t, api, readOnly)
	wantStatus(t, "token without the required scope", r, http.StatusForbidden, "insufficient_scope")
	if !strings.Contains(r.Challenge, `scope="api"`) {
		t.Errorf("insufficient scope challenge %q does not name scope api", r.Challenge)
	}

	// A route that requires api.read admits it: the scope is what decides.
	v := a.validator(func(c *bearer.Config) { c.RequiredScopes = bearer.AnyOf("api.read") })
	wantStatus(t, "api.read token where api.read is required", call(t, apiServer(t, v), readOnly), http.StatusOK, "")
}

// TestKeyRotation rotates the authority's signing keys the way
// node-oidc-provider allows: it reads its keys once, at start, so the
// rotation is a restart with a JWKS holding the new keys first (they sign)
// and the old ones after them (still published, still verifying).
func TestKeyRotation(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	v := a.validator(nil)
	api := apiServer(t, v)

	oldRSA := a.token("svc", "api", apiResource)
	oldEC := a.token("svc-es256", "api", apiResource)
	_, oldKID := jwsHeader(t, oldRSA)
	wantStatus(t, "token before rotation", call(t, api, oldRSA), http.StatusOK, "")

	a.rotateKeys()
	a.restart()
	newRSA := a.token("svc", "api", apiResource)
	_, newKID := jwsHeader(t, newRSA)
	if newKID == oldKID {
		t.Fatalf("after rotation the authority still signs with %s", oldKID)
	}
	if kids := a.publishedKIDs(); !slices.Contains(kids, oldKID) || !slices.Contains(kids, newKID) || kids[0] != newKID {
		t.Fatalf("published keys %v: want new %s first, old %s kept", kids, newKID, oldKID)
	}

	// The validator has never seen the new kid: the unknown kid makes it
	// fetch the JWKS while the request waits, so the first request passes.
	wantStatus(t, "new key's token, first request", call(t, api, newRSA), http.StatusOK, "")
	wantStatus(t, "old RSA key's token after rotation", call(t, api, oldRSA), http.StatusOK, "")
	wantStatus(t, "old EC key's token after rotation", call(t, api, oldEC), http.StatusOK, "")

	// A validator that starts now knows only what is published: the old
	// tokens pass because the old keys are still in the JWKS.
	fresh := apiServer(t, a.validator(nil))
	wantStatus(t, "old token, validator started after rotation", call(t, fresh, oldRSA), http.StatusOK, "")

	// Once the old keys are withdrawn, their tokens are refused by a
	// validator that no longer has them.
	a.withdrawOldKeys()
	a.restart()
	if kids := a.publishedKIDs(); slices.Contains(kids, oldKID) {
		t.Fatalf("old key %s still published: %v", oldKID, kids)
	}
	fresh = apiServer(t, a.validator(nil))
	wantStatus(t, "new token after the old keys are withdrawn", call(t, fresh, newRSA), http.StatusOK, "")
	wantStatus(t, "old token after its key was withdrawn", call(t, fresh, oldRSA), http.StatusUnauthorized, "invalid_token")
}
