package bearer_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
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

func TestReferenceTokenValidated(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{RequiredScopes: bearer.AnyOf("api")}))
	c := mustValid(t, v, a.ReferenceToken(bearertest.Payload{"scope": "api", "sub": "bob"}))
	if c.Subject != "bob" || !c.HasScope("api") || c.Map()["active"] != true {
		t.Errorf("claims %+v", c)
	}
	// A JWT is still validated locally in ModeAuto.
	mustValid(t, v, a.Token(claims(nil)))
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d introspection calls, want 1", n)
	}
}

// TestReferenceTokenNamesItsAuthority: Claims.Authority names the
// authority that vouched for a reference token, as it does for a JWT and
// as NewMulti's did already; it said "" for New's.
func TestReferenceTokenNamesItsAuthority(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{}))
	if got := mustValid(t, v, a.ReferenceToken(claims(nil))).Authority(); got != a.Issuer() {
		t.Errorf("Authority() = %q, want %q", got, a.Issuer())
	}
}

func TestInactiveIs401(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{}))
	revoked := a.ReferenceToken(claims(nil))
	a.Revoke(revoked)
	for name, tok := range map[string]string{
		"unknown": "no-such-token",
		"revoked": revoked,
		"expired": a.ReferenceToken(claims(bearertest.Payload{"exp": time.Now().Add(-time.Minute)})),
	} {
		t.Run(name, func(t *testing.T) {
			e := mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrInactive)
			if e.Status != http.StatusUnauthorized || e.Code != "invalid_token" {
				t.Errorf("status %d code %q", e.Status, e.Code)
			}
		})
	}
}

func TestIntrospectionDownIs503(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{}))
	a.SetStatus(bearertest.Introspection, http.StatusBadGateway)
	e := mustFail(t, v, a.ReferenceToken(claims(nil)), bearer.ErrUnavailable, nil)
	if e.Status != http.StatusServiceUnavailable || e.RetryAfter <= 0 || e.Code != "" {
		t.Errorf("status %d code %q Retry-After %v", e.Status, e.Code, e.RetryAfter)
	}
	// Over HTTP, the middleware answers 503 with Retry-After.
	srv := httptest.NewServer(middleware.New(v)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler reached")
	})))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Authorization", "Bearer "+a.ReferenceToken(claims(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("%d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestFiftyConcurrentRequestsOneCall(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{}))
	srv := httptest.NewServer(middleware.New(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := bearer.ClaimsFromContext(r.Context())
		fmt.Fprint(w, c.Subject)
	})))
	defer srv.Close()
	// The call is slow enough for all 50 to be waiting on it.
	a.SetDelay(bearertest.Introspection, 200*time.Millisecond)
	tok := a.ReferenceToken(claims(nil))
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d introspection calls for 50 concurrent requests, want 1", n)
	}
	// Ten more within the TTL cost nothing.
	a.ResetHits()
	for range 10 {
		mustValid(t, v, tok)
	}
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d introspection calls for 10 repeats, want 0", n)
	}
}

func TestModeIntrospectionIntrospectsJWTs(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{Mode: bearer.ModeIntrospection}))
	tok := a.Token(claims(nil))
	mustValid(t, v, tok)
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d introspection calls, want 1", n)
	}
	if n := a.Hits(bearertest.JWKS); n != 0 {
		t.Errorf("%d JWKS requests: keys are not needed", n)
	}
	// A JWT that verifies locally is refused once the authority revokes it.
	revoked := a.Token(claims(nil))
	a.Revoke(revoked)
	mustFail(t, v, revoked, bearer.ErrInvalidToken, bearer.ErrInactive)
}

func TestModeIntrospectionWithSignedResponses(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{Mode: bearer.ModeIntrospection, IntrospectionJWT: true}))
	mustValid(t, v, a.ReferenceToken(claims(nil)))
	mustValid(t, v, a.Token(claims(nil)))
}

func TestModeIntrospectionNeedsClientID(t *testing.T) {
	_, err := bearer.New(context.Background(), bearer.Config{Authority: "https://login.example", Audience: []string{"api"}, Mode: bearer.ModeIntrospection})
	if err == nil {
		t.Fatal("New accepted ModeIntrospection without ClientID")
	}
}

func TestModeJWTRefusesReferenceTokens(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{Mode: bearer.ModeJWT}))
	mustFail(t, v, a.ReferenceToken(claims(nil)), bearer.ErrInvalidToken, bearer.ErrMalformed)
	mustValid(t, v, a.Token(claims(nil)))
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d introspection calls", n)
	}
}

// TestModeBothWithoutClientIDRefusesReferenceTokens: without introspection
// credentials a token that is not a JWT is just malformed, as in ModeJWT:
// the client is not told how the API is configured, and the operator's
// logs get one hint at debug, not a warning.
func TestModeBothWithoutClientIDRefusesReferenceTokens(t *testing.T) {
	a := bearertest.New(t)
	var logs bytes.Buffer
	v := newValidator(t, a, bearer.Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	first, second := a.ReferenceToken(claims(nil)), a.ReferenceToken(claims(nil))
	e := mustFail(t, v, first, bearer.ErrInvalidToken, bearer.ErrMalformed)
	if e.Status != http.StatusUnauthorized || e.Description != "malformed token" {
		t.Errorf("error %+v", e)
	}
	mustFail(t, v, second, bearer.ErrInvalidToken, bearer.ErrMalformed)
	mustFail(t, v, "has space", bearer.ErrInvalidToken, bearer.ErrMalformed)
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d introspection calls", n)
	}
	out := logs.String()
	if strings.Count(out, "introspection is not configured") != 1 || strings.Contains(out, "level=WARN") ||
		!strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "token="+bearer.Fingerprint(first)) {
		t.Errorf("want one debug line naming the first token, no warning:\n%s", out)
	}
}

func TestGarbageIsRefusedWithoutACall(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{}))
	a.SetDown(true) // garbage is a 401 even while the authority is down
	for _, tok := range []string{"has space", "quote\"", "ünïcode", "=", "a=b", "semi;colon", "line\nbreak"} {
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrMalformed)
	}
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d introspection calls", n)
	}
}

func TestChecksOnActiveResult(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{
		Audience: []string{"api"}, RequiredScopes: bearer.AnyOf("api"), Leeway: 30 * time.Second,
	}))
	now := time.Now()
	ok := map[string]bearertest.Payload{
		"all good":          {"aud": "api", "scope": "api"},
		"aud among others":  {"aud": []string{"web", "api"}, "scope": "api"},
		"iss absent":        {"aud": "api", "iss": nil, "scope": "api"},
		"exp absent":        {"aud": "api", "exp": nil, "scope": "api"},
		"exp within leeway": {"aud": "api", "exp": now.Add(-10 * time.Second), "scope": "api"},
	}
	for name, c := range ok {
		t.Run(name, func(t *testing.T) {
			// The endpoint answers whatever it is told to: only the Validator checks.
			a.SetBody(bearertest.Introspection, introspectionBody(t, a, c))
			defer a.SetBody(bearertest.Introspection, nil)
			mustValid(t, v, "ok-"+strings.ReplaceAll(name, " ", "-"))
		})
	}
	bad := map[string]struct {
		c      bearertest.Payload
		kind   error
		reason error
	}{
		"expired":       {bearertest.Payload{"aud": "api", "exp": now.Add(-time.Minute), "scope": "api"}, bearer.ErrInvalidToken, bearer.ErrExpired},
		"other issuer":  {bearertest.Payload{"aud": "api", "iss": "https://evil.example", "scope": "api"}, bearer.ErrInvalidToken, bearer.ErrIssuer},
		"issuer slash":  {bearertest.Payload{"aud": "api", "iss": a.Issuer() + "/", "scope": "api"}, bearer.ErrInvalidToken, bearer.ErrIssuer},
		"other aud":     {bearertest.Payload{"aud": "web", "scope": "api"}, bearer.ErrInvalidToken, bearer.ErrAudience},
		"aud absent":    {bearertest.Payload{"scope": "api"}, bearer.ErrInvalidToken, bearer.ErrAudience},
		"missing scope": {bearertest.Payload{"aud": "api", "scope": "web"}, bearer.ErrInsufficientScope, nil},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			a.SetBody(bearertest.Introspection, introspectionBody(t, a, tc.c))
			defer a.SetBody(bearertest.Introspection, nil)
			mustFail(t, v, "bad-"+strings.ReplaceAll(name, " ", "-"), tc.kind, tc.reason)
		})
	}
}

// introspectionBody is an active response with the defaults of a
// reference token and c's changes.
func introspectionBody(t *testing.T, a *bearertest.Authority, c bearertest.Payload) []byte {
	t.Helper()
	m := map[string]any{"active": true, "iss": a.Issuer(), "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range c {
		if v == nil {
			delete(m, k)
		} else if tv, ok := v.(time.Time); ok {
			m[k] = tv.Unix()
		} else {
			m[k] = v
		}
	}
	return []byte(mustJSON(t, m))
}

func TestValidatorForget(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{}))
	tok := a.ReferenceToken(claims(nil))
	mustValid(t, v, tok)
	a.Revoke(tok)
	mustValid(t, v, tok) // cached
	v.Forget(tok)
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrInactive)

	// Harmless without introspection.
	newValidator(t, a, bearer.Config{}).Forget(tok)
}

func TestValidatorCloseEndsIntrospection(t *testing.T) {
	a := bearertest.New(t)
	v, err := bearer.New(context.Background(), introspectionConfig(bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.SetDelay(bearertest.Introspection, time.Minute)
	errc := make(chan error, 1)
	go func() {
		_, err := v.Validate(context.Background(), a.ReferenceToken(claims(nil)))
		errc <- err
	}()
	waitHits(t, a, 1)
	start := time.Now()
	v.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	mustUnavailable(t, <-errc)
}

func TestNewContextEndsIntrospection(t *testing.T) {
	a := bearertest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	v, err := bearer.New(ctx, introspectionConfig(bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, IntrospectionEndpoint: a.IntrospectionURL()}))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	a.SetDelay(bearertest.Introspection, time.Minute)
	errc := make(chan error, 1)
	go func() {
		_, err := v.Validate(context.Background(), a.ReferenceToken(claims(nil)))
		errc <- err
	}()
	waitHits(t, a, 1)
	cancel()
	select {
	case err := <-errc:
		mustUnavailable(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("the call outlived New's context")
	}
	// Later tokens get 503 at once: nothing is fetched any more.
	for range 3 {
		go func() {
			_, err := v.Validate(context.Background(), a.ReferenceToken(claims(nil)))
			errc <- err
		}()
		select {
		case err := <-errc:
			mustUnavailable(t, err)
		case <-time.After(2 * time.Second):
			t.Fatal("a token after New's context ended waited")
		}
	}
}

func TestIssuerCheckedBeforeDiscovery(t *testing.T) {
	// With the endpoint given, introspection does not wait for discovery:
	// iss is then compared with Authority, give or take a trailing slash.
	a := bearertest.New(t)
	a.SetStatus(bearertest.Discovery, 500)
	a.SetStatus(bearertest.Metadata, 500)
	v, err := bearer.New(context.Background(), introspectionConfig(bearer.Config{
		Authority: a.Issuer() + "/", Audience: []string{"api"}, Mode: bearer.ModeIntrospection, IntrospectionEndpoint: a.IntrospectionURL(),
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	mustValid(t, v, a.ReferenceToken(claims(nil)))
	mustFail(t, v, a.ReferenceToken(claims(bearertest.Payload{"iss": "https://evil.example"})), bearer.ErrInvalidToken, bearer.ErrIssuer)
}
