//go:build unix

package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
	"github.com/accesstoken/bearer/signals"
)

// TestAssuranceLevelChange: alice signs in with a second factor at
// node-oidc-provider (examples/authority), and her token passes the API's
// step-up route. The transmitter pushes a CAEP assurance-level-change
// (CAEP 1.0 §3.4.1) saying her assurance fell to a password to the API's
// receiver, over HTTP on a stream made at the transmitter: the same token
// is then refused on the step-up route with RFC 9470's challenge and still
// taken by the route of scopes alone. She signs in again as the challenge
// asks, and the new token passes.
func TestAssuranceLevelChange(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	v := a.validator(nil)
	tr := bearertest.StartTransmitter(t)
	rc, err := signals.New(context.Background(), signals.Config{
		Transmitter: tr.Issuer(), Audience: tr.Audience(), Validator: v, Issuer: a.Issuer,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	acr := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := bearer.ClaimsFromContext(r.Context())
		io.WriteString(w, c.ACR)
	})
	mux := http.NewServeMux()
	mux.Handle("POST /ssf/events", rc)
	mux.Handle("GET /transfer", middleware.New(v, middleware.Require(bearer.ACR("urn:accesstoken:mfa")))(acr))
	mux.Handle("GET /values", middleware.New(v)(acr))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	createStream(t, tr, "urn:ietf:rfc:8935", srv.URL+"/ssf/events")
	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
	}
	mfa := url.Values{"acr_values": {"urn:accesstoken:mfa"}, "prompt": {"login"}}

	_, token := a.signInWith(t, "alice", apiResource, mfa)
	c := jwtClaims(t, token)
	sub, _ := c["sub"].(string)
	if c["acr"] != "urn:accesstoken:mfa" || sub == "" {
		t.Fatalf("the authority's token has acr %v, sub %v", c["acr"], c["sub"])
	}
	if status, challenge := get("/transfer", token); status != http.StatusOK {
		t.Fatalf("a second factor on the step-up route: %d %s", status, challenge)
	}

	changed := time.Now()
	set := tr.Event(bearertest.AssuranceChange, map[string]any{"format": "iss_sub", "iss": a.Issuer, "sub": sub}, bearertest.Payload{
		"event_timestamp": changed.Unix(), "namespace": "x-accesstoken",
		"current_level": "urn:accesstoken:pwd", "previous_level": "urn:accesstoken:mfa", "change_direction": "decrease",
	})
	if err := tr.Send(set); err != nil { // 202 from the receiver
		t.Fatal(err)
	}
	status, challenge := get("/transfer", token)
	if status != http.StatusUnauthorized || !strings.Contains(challenge, `error="insufficient_user_authentication"`) ||
		!strings.Contains(challenge, `acr_values="urn:accesstoken:mfa"`) {
		t.Fatalf("the token after the level fell: %d %s, want 401 insufficient_user_authentication", status, challenge)
	}
	if status, challenge := get("/values", token); status != http.StatusOK {
		t.Errorf("the token on the route of scopes alone: %d %s", status, challenge)
	}

	// A token's iat is in whole seconds, and one issued in the second of
	// the change counts as before it: sign in again after that second.
	for time.Now().Unix() <= changed.Unix() {
		time.Sleep(10 * time.Millisecond)
	}
	_, again := a.signInWith(t, "alice", apiResource, mfa)
	if status, challenge := get("/transfer", again); status != http.StatusOK {
		t.Errorf("a token of a new sign-in with the second factor: %d %s", status, challenge)
	}
}
