package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

// newMulti returns a ready Validator for several authorities, closed at the
// end of the test.
func newMulti(t *testing.T, cfg bearer.MultiConfig) *bearer.Validator {
	t.Helper()
	v, err := bearer.NewMulti(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewMulti: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	return v
}

// twoAuthorities is a Validator for a (audience "a", scope "read"
// required) and b (audience "b"), and both authorities.
func twoAuthorities(t *testing.T) (*bearer.Validator, *bearertest.Authority, *bearertest.Authority) {
	a, b := bearertest.New(t), bearertest.New(t)
	v := newMulti(t, bearer.MultiConfig{Authorities: []bearer.Config{
		{Authority: a.Issuer(), Audience: []string{"a"}, RequiredScopes: bearer.AnyOf("read"), Logger: quiet},
		{Authority: b.Issuer(), Audience: []string{"b"}, Logger: quiet},
	}})
	return v, a, b
}

func TestMultiEachAuthorityWithItsOwnRules(t *testing.T) {
	v, a, b := twoAuthorities(t)
	for range 2 { // validated, then from the shared cache
		c := mustValid(t, v, a.Token(bearertest.Payload{"aud": "a", "scope": "read"}))
		if c.Authority() != a.Issuer() || c.Issuer != a.Issuer() {
			t.Errorf("authority %q, iss %q, want %q", c.Authority(), c.Issuer, a.Issuer())
		}
		if c := mustValid(t, v, b.Token(bearertest.Payload{"aud": "b"})); c.Authority() != b.Issuer() {
			t.Errorf("authority %q, want %q", c.Authority(), b.Issuer())
		}
	}
	// Each authority's audience and scopes, also on a cache hit.
	mustFail(t, v, a.Token(bearertest.Payload{"aud": "b", "scope": "read"}), bearer.ErrInvalidToken, bearer.ErrAudience)
	noScope := a.Token(bearertest.Payload{"aud": "a", "scope": "write"})
	for range 2 {
		mustFail(t, v, noScope, bearer.ErrInsufficientScope, nil)
	}
	if s := v.Status(); s.CacheHits == 0 {
		t.Errorf("no cache hits: %+v", s)
	}
}

// TestMultiIssuerTrustedOnlyAfterItsSignature: a token that claims a's
// issuer but is signed with b's key is refused.
func TestMultiIssuerTrustedOnlyAfterItsSignature(t *testing.T) {
	v, a, b := twoAuthorities(t)
	forged := b.Token(bearertest.Payload{"iss": a.Issuer(), "aud": "a", "scope": "read"})
	_, err := v.Validate(context.Background(), forged)
	if !errors.Is(err, bearer.ErrInvalidToken) || !(errors.Is(err, bearer.ErrUnknownKey) || errors.Is(err, bearer.ErrSignature)) {
		t.Errorf("a's issuer, b's key: %v", err)
	}
	// b's kid, a's issuer: the same key id at a does not exist either.
	withKid := b.TokenWith("RS256", map[string]any{"kid": a.KeyID("RS256")}, bearertest.Payload{"iss": a.Issuer(), "aud": "a", "scope": "read"})
	mustFail(t, v, withKid, bearer.ErrInvalidToken, bearer.ErrSignature)
}

// TestMultiUnknownIssuerCostsNoTraffic: an iss outside the allowed set is
// refused without a request to any authority.
func TestMultiUnknownIssuerCostsNoTraffic(t *testing.T) {
	v, a, b := twoAuthorities(t)
	a.ResetHits()
	b.ResetHits()
	for _, iss := range []string{"https://evil.example", "", a.Issuer() + "/other", strings.ToUpper(a.Issuer())} {
		tok := a.Token(bearertest.Payload{"iss": iss, "aud": "a", "scope": "read"})
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrIssuer)
	}
	for _, au := range []*bearertest.Authority{a, b} {
		for _, e := range []bearertest.Endpoint{bearertest.Discovery, bearertest.JWKS, bearertest.Introspection} {
			if n := au.Hits(e); n != 0 {
				t.Errorf("%s: %d requests for unknown issuers", e, n)
			}
		}
	}
}

// TestMultiOneAuthorityDown: the other keeps working; the one down is a
// 503 for its tokens, not a 401; a rotation at the other costs no 401.
func TestMultiOneAuthorityDown(t *testing.T) {
	v, a, b := twoAuthorities(t)
	b.SetDown(true)
	b.RotateKey("ES256")
	mustFail(t, v, b.TokenWith("ES256", nil, bearertest.Payload{"aud": "b"}), bearer.ErrUnavailable, nil)
	a.RotateKey("ES256")
	mustValid(t, v, a.TokenWith("ES256", nil, bearertest.Payload{"aud": "a", "scope": "read"}))
	b.SetDown(false)
	mustValid(t, v, b.TokenWith("ES256", nil, bearertest.Payload{"aud": "b"}))
}

// TestMultiReferenceTokens: the first authority with a ClientID
// introspects tokens that are not JWTs; its answers are its own.
func TestMultiReferenceTokens(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	v := newMulti(t, bearer.MultiConfig{Authorities: []bearer.Config{
		{Authority: a.Issuer(), Audience: []string{"a"}, Logger: quiet},
		{Authority: b.Issuer(), Audience: []string{"b"}, ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret, Logger: quiet},
	}})
	c := mustValid(t, v, b.ReferenceToken(bearertest.Payload{"aud": "b"}))
	if c.Subject != "alice" {
		t.Errorf("claims %+v", c)
	}
	mustFail(t, v, a.ReferenceToken(bearertest.Payload{"aud": "a"}), bearer.ErrInvalidToken, bearer.ErrInactive)
	none := newMulti(t, bearer.MultiConfig{Authorities: []bearer.Config{{Authority: a.Issuer(), Audience: []string{"a"}, Logger: quiet}}})
	mustFail(t, none, a.ReferenceToken(bearertest.Payload{"aud": "a"}), bearer.ErrInvalidToken, nil)
}

// tenants starts n authorities under their own paths and a resolver
// that accepts exactly their issuers, counting its calls.
func tenants(t *testing.T, n int) ([]*bearertest.Authority, func(string) (bearer.Config, bool)) {
	var as []*bearertest.Authority
	allowed := map[string]bool{}
	for i := range n {
		a := bearertest.New(t, bearertest.WithPath(fmt.Sprintf("/tenant-%d", i)))
		as = append(as, a)
		allowed[a.Issuer()] = true
	}
	return as, func(iss string) (bearer.Config, bool) {
		if !allowed[iss] {
			return bearer.Config{}, false
		}
		return bearer.Config{Audience: []string{"api"}, Logger: quiet}, true // Authority: iss
	}
}

func TestMultiResolvedTenantsAreBounded(t *testing.T) {
	as, resolve := tenants(t, 3)
	v := newMulti(t, bearer.MultiConfig{Resolve: resolve, MaxResolved: 2})
	for _, a := range as {
		c := mustValid(t, v, a.Token(claims(nil)))
		if c.Authority() != a.Issuer() {
			t.Errorf("authority %q, want %q", c.Authority(), a.Issuer())
		}
	}
	// The first tenant was closed to make room; its next new token makes
	// it anew, rediscovered.
	as[0].ResetHits()
	mustValid(t, v, as[0].Token(claims(bearertest.Payload{"jti": "new"})))
	if n := as[0].Hits(bearertest.Discovery); n != 1 {
		t.Errorf("the evicted tenant was discovered %d times, want once", n)
	}
	// A resolver's no is a 401 without traffic.
	other := bearertest.New(t, bearertest.WithPath("/tenant-x"))
	mustFail(t, v, other.Token(claims(nil)), bearer.ErrInvalidToken, bearer.ErrIssuer)
	if n := other.Hits(bearertest.Discovery); n != 0 {
		t.Errorf("a refused tenant was discovered %d times", n)
	}
}

// TestMultiResolverMistakes: a Config that Resolve gets wrong refuses the
// token, says why in the log, and costs no traffic: one for another
// authority is a 401 issuer mismatch (the token must not be judged by
// authority B's rules because it named A), one that New refuses is a 503,
// since the token was never judged.
func TestMultiResolverMistakes(t *testing.T) {
	a := bearertest.New(t, bearertest.WithPath("/tenant-a"))
	other := bearertest.New(t, bearertest.WithPath("/tenant-b"))
	var logs logBuffer
	v := newMulti(t, bearer.MultiConfig{
		Resolve: func(iss string) (bearer.Config, bool) {
			if strings.HasSuffix(iss, "/wrong") {
				return bearer.Config{Authority: other.Issuer(), Audience: []string{"api"}}, true
			}
			return bearer.Config{Logger: quiet}, true // neither Audience nor RequiredScopes
		},
		Logger: logs.logger(),
	})
	mustFail(t, v, a.Token(claims(bearertest.Payload{"iss": a.Issuer() + "/wrong"})), bearer.ErrInvalidToken, bearer.ErrIssuer)
	mustFail(t, v, a.Token(claims(nil)), bearer.ErrUnavailable, nil)
	if n := a.Hits(bearertest.Discovery) + other.Hits(bearertest.Discovery); n != 0 {
		t.Errorf("%d discovery requests, want none", n)
	}
	got := logs.String()
	for _, want := range []string{"Resolve returned a Config for another authority", "Resolve returned an unusable Config"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
}

// TestMultiTenantFlood: a flood of tenant names the resolver allows, none
// of which answers, is 503 (never 401, never 200), creates new
// authorities at a bounded pace and keeps at most MaxResolved.
func TestMultiTenantFlood(t *testing.T) {
	a := bearertest.New(t)
	gone := bearertest.NewAuthority()
	gone.Close() // refuses connections at once
	v := newMulti(t, bearer.MultiConfig{
		Authorities: []bearer.Config{{Authority: a.Issuer(), Audience: []string{"api"}, Logger: quiet}},
		Resolve: func(iss string) (bearer.Config, bool) {
			return bearer.Config{Audience: []string{"api"}, Timeout: 200 * time.Millisecond, Logger: quiet}, strings.HasPrefix(iss, gone.Issuer()+"/tenant-")
		},
		MaxResolved: 10,
		Logger:      quiet,
	})
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := a.Token(claims(bearertest.Payload{"iss": fmt.Sprintf("%s/tenant-%d", gone.Issuer(), i)}))
			if _, err := v.Validate(context.Background(), tok); !errors.Is(err, bearer.ErrUnavailable) {
				t.Errorf("tenant %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	mustValid(t, v, a.Token(claims(nil))) // the fixed authority still serves
}

// TestMultiThroughTheMiddleware: nothing changes for the middleware.
func TestMultiThroughTheMiddleware(t *testing.T) {
	v, a, b := twoAuthorities(t)
	srv := httptest.NewServer(middleware.New(v, middleware.Logger(quiet))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := bearer.ClaimsFromContext(r.Context())
		fmt.Fprint(w, c.Authority())
	})))
	t.Cleanup(srv.Close)
	for tok, want := range map[string]int{
		a.Token(bearertest.Payload{"aud": "a", "scope": "read"}):  200,
		b.Token(bearertest.Payload{"aud": "b"}):                   200,
		a.Token(bearertest.Payload{"aud": "a", "scope": "write"}): 403,
		"": 401,
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("status %d, want %d", resp.StatusCode, want)
		}
	}
}

func TestNewMultiRefusesBadConfigs(t *testing.T) {
	a := bearertest.New(t)
	for name, cfg := range map[string]bearer.MultiConfig{
		"nothing":        {},
		"listed twice":   {Authorities: []bearer.Config{{Authority: a.Issuer(), Audience: []string{"a"}}, {Authority: a.Issuer() + "/", Audience: []string{"b"}}}},
		"invalid config": {Authorities: []bearer.Config{{Authority: a.Issuer()}}},
	} {
		if v, err := bearer.NewMulti(context.Background(), cfg); err == nil {
			v.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestMultiSignOutIsPerAuthority: Revoke without an issuer refuses
// cleanly on a Validator of several, rather than guessing one; a
// malformed logout token is a 400. See also TestIssue26_2_RevokeNamesItsIssuer.
func TestMultiSignOutIsPerAuthority(t *testing.T) {
	v, a, _ := twoAuthorities(t)
	if err := v.Revoke(context.Background(), bearer.Revocation{Subject: "alice"}); err == nil {
		t.Error("Revoke without Issuer accepted")
	}
	srv := httptest.NewServer(v.LogoutHandler())
	t.Cleanup(srv.Close)
	resp, err := http.PostForm(srv.URL, map[string][]string{"logout_token": {"x.y.z"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if got := v.Authorities(); len(got) != 2 || got[0] != a.Issuer() {
		t.Errorf("Authorities %v", got)
	}
}

// TestMultiKeySet: go-oidc verifies with the keys of the authority the
// token names, and only with those.
func TestMultiKeySet(t *testing.T) {
	v, a, b := twoAuthorities(t)
	keys := v.KeySet()
	ctx := context.Background()
	for _, au := range []*bearertest.Authority{a, b} {
		if _, err := keys.VerifySignature(ctx, au.Token(claims(nil))); err != nil {
			t.Errorf("%s: %v", au.Issuer(), err)
		}
	}
	forged := b.Token(claims(bearertest.Payload{"iss": a.Issuer()})) // names a, signed by b
	if _, err := keys.VerifySignature(ctx, forged); !errors.Is(err, bearer.ErrInvalidToken) {
		t.Errorf("a token naming a signed by b: %v", err)
	}
	other := bearertest.New(t)
	if _, err := keys.VerifySignature(ctx, other.Token(claims(nil))); !errors.Is(err, bearer.ErrIssuer) {
		t.Errorf("an unknown issuer: %v", err)
	}
}

// TestMultiLogoutByIssuer: a logout token is judged by the authority its
// iss names, with that authority's keys, and revokes only that
// authority's tokens, even where another authority uses the same sid.
func TestMultiLogoutByIssuer(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	v := newMulti(t, bearer.MultiConfig{Authorities: []bearer.Config{
		logoutConfig(bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Logger: quiet}),
		logoutConfig(bearer.Config{Authority: b.Issuer(), Audience: []string{"api"}, Logger: quiet}),
	}, Logger: quiet})
	fromA := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	fromB := b.Token(claims(bearertest.Payload{"sid": "s-1"}))
	mustValid(t, v, fromA)
	mustValid(t, v, fromB)
	url := logoutURL(t, v)

	forged := b.LogoutToken(bearertest.Payload{"sid": "s-1", "iss": a.Issuer()}) // names a, signed by b
	if status, body := postLogout(t, a, url, forged); status != http.StatusBadRequest {
		t.Errorf("a logout token naming a, signed by b: %d %s", status, body)
	}
	stranger := bearertest.New(t).LogoutToken(bearertest.Payload{"sid": "s-1"})
	if status, body := postLogout(t, a, url, stranger); status != http.StatusBadRequest {
		t.Errorf("a logout token of an unknown issuer: %d %s", status, body)
	}
	mustValid(t, v, fromA)

	mustLogout(t, a, url, a.LogoutToken(bearertest.Payload{"sid": "s-1"}))
	mustFail(t, v, fromA, bearer.ErrInvalidToken, bearer.ErrRevoked)
	mustValid(t, v, fromB)
}

// TestMultiKeySetRefusesUnreadableTokens: before any authority is chosen,
// a token too large or not shaped like a JWS is refused, as by Validate.
func TestMultiKeySetRefusesUnreadableTokens(t *testing.T) {
	v, _, _ := twoAuthorities(t)
	keys := v.KeySet()
	ctx := context.Background()
	if _, err := keys.VerifySignature(ctx, strings.Repeat("a", bearer.DefaultMaxTokenSize+1)); !errors.Is(err, bearer.ErrTooLarge) {
		t.Errorf("a token over MaxTokenSize: %v", err)
	}
	for _, tok := range []string{"opaque-reference-token", "a.!!!.c"} {
		if _, err := keys.VerifySignature(ctx, tok); !errors.Is(err, bearer.ErrMalformed) {
			t.Errorf("%q: %v", tok, err)
		}
	}
}
