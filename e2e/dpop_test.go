//go:build unix

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// dpopToken gets a client_credentials token bound to key (RFC 9449 §5):
// the token request carries a proof by key for the token endpoint, and
// node-oidc-provider, whose DPoP support is on by default, binds the
// token to it (cnf.jkt in a JWT, cnf in the introspection answer).
func (a *authority) dpopToken(key *bearertest.DPoPKey, scope, resource string) string {
	a.t.Helper()
	tok, typ := a.boundToken("svc-es256", scope, resource, "DPoP", key.Proof(http.MethodPost, a.Issuer+"/token", ""))
	if typ != "DPoP" {
		a.t.Fatalf("token_type %q, want DPoP", typ)
	}
	return tok
}

// boundToken gets a client_credentials token for client with the
// request field name set to value, which binds it; it returns the token
// and its token_type.
func (a *authority) boundToken(client, scope, resource, name, value string) (token, tokenType string) {
	a.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "resource": {resource}}
	req, _ := http.NewRequest(http.MethodPost, a.Issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(name, value)
	req.SetBasicAuth(client, svcSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.AccessToken == "" {
		a.t.Fatalf("%s token: %d %s", client, resp.StatusCode, body)
	}
	return out.AccessToken, out.TokenType
}

// dpopCall calls the API presenting token with the DPoP scheme and the
// given proofs.
func dpopCall(t testing.TB, api, scheme, token string, proofs ...string) (response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, api, nil)
	req.Header.Set("Authorization", scheme+" "+token)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, strings.Join(resp.Header.Values("WWW-Authenticate"), ", "), string(body)}, resp.Header.Get("DPoP-Nonce")
}

// TestDPoPBoundTokens: node-oidc-provider issues DPoP-bound JWT and
// opaque tokens to a client with a key; the API accepts them with proofs
// by that key, refuses them as Bearer tokens (RFC 9449 §7.2), without a
// proof, with a replayed proof, and with a proof by another key.
func TestDPoPBoundTokens(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	api := apiServer(t, a.validator(withIntrospection(0)))
	key := bearertest.NewDPoPKey("ES256")
	other := bearertest.NewDPoPKey("ES256")
	for kind, resource := range map[string]string{"JWT": apiResource, "opaque": referenceResource} {
		t.Run(kind, func(t *testing.T) {
			tok := a.dpopToken(key, "api", resource)
			if isJWT := strings.Count(tok, ".") == 2; isJWT != (kind == "JWT") {
				t.Fatalf("the authority issued %q for %s", tok[:8], kind)
			}
			proof := key.Proof(http.MethodGet, api, tok)
			r, _ := dpopCall(t, api, "DPoP", tok, proof)
			wantStatus(t, "with its proof", r, http.StatusOK, "")
			r, _ = dpopCall(t, api, "DPoP", tok, proof)
			wantStatus(t, "replayed proof", r, http.StatusUnauthorized, "invalid_dpop_proof")
			r, _ = dpopCall(t, api, "Bearer", tok)
			wantStatus(t, "as a Bearer token", r, http.StatusUnauthorized, "invalid_token")
			if !strings.Contains(r.Challenge, "DPoP algs=") {
				t.Errorf("as a Bearer token: challenge %q names no DPoP", r.Challenge)
			}
			r, _ = dpopCall(t, api, "DPoP", tok)
			wantStatus(t, "without a proof", r, http.StatusUnauthorized, "invalid_dpop_proof")
			r, _ = dpopCall(t, api, "DPoP", tok, other.Proof(http.MethodGet, api, tok))
			wantStatus(t, "proof by another key", r, http.StatusUnauthorized, "invalid_dpop_proof")
			r, _ = dpopCall(t, api, "DPoP", tok, key.Proof(http.MethodPost, api, tok))
			wantStatus(t, "proof for another method", r, http.StatusUnauthorized, "invalid_dpop_proof")
		})
	}
}

// TestDPoPNonceChallenge: an API that issues nonces (RFC 9449 §9) answers
// a proof without one with use_dpop_nonce and a nonce; the client retries
// with it and is accepted, and gets the next nonce.
func TestDPoPNonceChallenge(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	api := apiServer(t, a.validator(func(c *bearer.Config) {
		c.DPoP.NonceSecret = []byte("the e2e nonce secret, 32 bytes or more")
	}))
	key := bearertest.NewDPoPKey("EdDSA")
	tok := a.dpopToken(key, "api", apiResource)
	r, nonce := dpopCall(t, api, "DPoP", tok, key.Proof(http.MethodGet, api, tok))
	wantStatus(t, "no nonce", r, http.StatusUnauthorized, "use_dpop_nonce")
	if nonce == "" {
		t.Fatal("no DPoP-Nonce with use_dpop_nonce")
	}
	r, next := dpopCall(t, api, "DPoP", tok, key.ProofWith(http.MethodGet, api, tok, nil, bearertest.Payload{"nonce": nonce}))
	wantStatus(t, "with the nonce", r, http.StatusOK, "")
	if next == "" {
		t.Error("no next nonce on success")
	}
}
