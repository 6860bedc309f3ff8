package bearer_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// jwksOnly returns an authority that publishes no discovery document, as
// Kubernetes service-account issuers and some identity providers do, and
// the Config that trusts it by its JWK Set URL.
func jwksOnly(t *testing.T) (*bearertest.Authority, bearer.Config) {
	a := bearertest.New(t)
	a.SetStatus(bearertest.Discovery, http.StatusNotFound)
	a.SetStatus(bearertest.Metadata, http.StatusNotFound)
	return a, bearer.Config{Authority: a.Issuer(), JWKSURL: a.JWKSURL()}
}

// TestJWKSURLWithoutDiscovery: with Config.JWKSURL the keys come from that
// URL and nothing asks for a discovery document; iss must be Authority.
func TestJWKSURLWithoutDiscovery(t *testing.T) {
	a, cfg := jwksOnly(t)
	v := newValidator(t, a, cfg)
	for _, alg := range bearer.DefaultAlgorithms {
		mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
	}
	mustFail(t, v, a.Token(claims(bearertest.Payload{"iss": a.Issuer() + "/"})), bearer.ErrInvalidToken, bearer.ErrIssuer)
	if n := a.Hits(bearertest.Discovery) + a.Hits(bearertest.Metadata); n != 0 {
		t.Errorf("%d requests for a discovery document", n)
	}
}

// TestJWKSURLKeysOverTime: the guarantees of discovered keys hold for a
// JWKS URL: a key published after start is accepted on its first
// request, an unpublished one refused once a fetch shows it gone, the last
// good keys serve while the URL fails, and an unknown kid then is a 503,
// never a 401.
func TestJWKSURLKeysOverTime(t *testing.T) {
	a, cfg := jwksOnly(t)
	cfg.KeyRefreshWindow = time.Millisecond
	v := newValidator(t, a, cfg)
	oldKid := a.KeyID("ES256")
	old := a.TokenWith("ES256", nil, claims(nil))
	mustValid(t, v, old)

	a.RotateKey("ES256")
	mustValid(t, v, a.TokenWith("ES256", nil, claims(nil))) // the very first request with the new kid
	a.Unpublish(oldKid)
	a.RotateKey("ES384")
	mustValid(t, v, a.TokenWith("ES384", nil, claims(nil))) // fetches the set without oldKid
	mustFail(t, v, a.TokenWith("ES256", map[string]any{"kid": oldKid}, claims(nil)), bearer.ErrInvalidToken, bearer.ErrUnknownKey)

	a.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	mustValid(t, v, a.TokenWith("RS256", nil, claims(nil)))
	a.RotateKey("EdDSA")
	mustFail(t, v, a.TokenWith("EdDSA", nil, claims(nil)), bearer.ErrUnavailable, nil)
	a.SetStatus(bearertest.JWKS, 0)
	mustValid(t, v, a.TokenWith("EdDSA", nil, claims(nil)))
	if n := a.Hits(bearertest.Discovery) + a.Hits(bearertest.Metadata); n != 0 {
		t.Errorf("%d requests for a discovery document", n)
	}
}

// TestJWKSURLRefreshedInTheBackground: the key set is fetched again every
// KeyRefreshInterval without any request asking, and a key unpublished
// meanwhile stops verifying without a token having to reveal it.
func TestJWKSURLRefreshedInTheBackground(t *testing.T) {
	a, cfg := jwksOnly(t)
	cfg.KeyRefreshInterval = 20 * time.Millisecond
	v := newValidator(t, a, cfg)
	oldKid := a.KeyID("RS256")
	tok := a.Token(claims(nil))
	mustValid(t, v, tok) // and cached: from now on only a refresh can undo it
	a.RotateKey("RS256")
	a.Unpublish(oldKid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		// The cached token is dropped once a refresh retires its key.
		if _, err := v.Validate(context.Background(), tok); errors.Is(err, bearer.ErrUnknownKey) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a key unpublished 10 s ago still verifies")
		}
	}
}

// TestJWKSURLColdStartDown: a JWKS URL that fails at start is a 503 with
// Retry-After until it answers; then the same Validator recovers.
func TestJWKSURLColdStartDown(t *testing.T) {
	addr := refusedAddr(t)
	v, err := bearer.New(context.Background(), bearer.Config{
		Authority: "http://" + addr, JWKSURL: "http://" + addr + "/jwks", Audience: []string{"api"}, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatalf("New must not fail while the JWKS URL is down: %v", err)
	}
	defer v.Close()
	e := mustFail(t, v, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", bearer.ErrUnavailable, nil)
	if e.Status != http.StatusServiceUnavailable || e.RetryAfter < time.Second {
		t.Errorf("error %+v", e)
	}
	a := bearertest.New(t, bearertest.WithAddr(addr))
	a.SetStatus(bearertest.Discovery, http.StatusNotFound)
	a.SetStatus(bearertest.Metadata, http.StatusNotFound)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready after the JWKS URL came up: %v", err)
	}
	mustValid(t, v, a.Token(claims(nil)))
}

// TestJWKSURLConfig: what a JWKS URL cannot be combined with, or be.
func TestJWKSURLConfig(t *testing.T) {
	base := bearer.Config{Authority: "https://login.example", Audience: []string{"api"}, JWKSURL: "https://login.example/keys"}
	for name, edit := range map[string]func(*bearer.Config){
		"relative":                   func(c *bearer.Config) { c.JWKSURL = "/keys" },
		"http under https":           func(c *bearer.Config) { c.JWKSURL = "http://login.example/keys" },
		"with static keys":           func(c *bearer.Config) { c.StaticKeys = staticKeyPEM(t) },
		"introspection, no endpoint": func(c *bearer.Config) { c.ClientID, c.ClientSecret = "api", "s" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			edit(&cfg)
			if v, err := bearer.New(context.Background(), cfg); err == nil {
				v.Close()
				t.Error("New accepted it")
			}
		})
	}
}
