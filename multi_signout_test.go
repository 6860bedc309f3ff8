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
)

// The findings of issue 26 §1 and §2: with several authorities, nothing a
// client sends erases a tenant's sign-outs, and one authority's sign-out
// never reaches another's tokens.

// realAndMadeUp is a resolver that admits the real tenants, each for an
// API registered at it as bearertest.DefaultClientID, and every issuer
// under madeUp, whose discovery fails.
func realAndMadeUp(madeUp string, real ...*bearertest.Authority) func(string) (bearer.Config, bool) {
	return func(iss string) (bearer.Config, bool) {
		for _, a := range real {
			if iss == a.Issuer() {
				return logoutConfig(bearer.Config{Audience: []string{"api"}, Logger: quiet}), true
			}
		}
		return bearer.Config{Audience: []string{"api"}, Timeout: 2 * time.Second, Logger: quiet}, strings.HasPrefix(iss, madeUp+"/tenant-")
	}
}

// floodTenants validates tokens signed by a naming n made-up issuers under
// madeUp, from first on, and checks that none is accepted.
func floodTenants(t *testing.T, v *bearer.Validator, a *bearertest.Authority, madeUp string, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		tok := a.Token(claims(bearertest.Payload{"iss": fmt.Sprintf("%s/tenant-%d", madeUp, i)}))
		if _, err := v.Validate(context.Background(), tok); !errors.Is(err, bearer.ErrUnavailable) {
			t.Fatalf("made-up tenant %d: %v, want 503", i, err)
		}
	}
}

// validOnceAllowed validates tok, again for as long as it gets 503 for
// the pace of new authorities (as a client honouring Retry-After would).
func validOnceAllowed(t *testing.T, v *bearer.Validator, tok string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := v.Validate(context.Background(), tok)
		var e *bearer.Error
		if err == nil || !errors.As(err, &e) || !errors.Is(err, bearer.ErrUnavailable) || time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			return
		}
		time.Sleep(e.RetryAfter)
	}
}

// madeUpServer is where made-up tenants live: it refuses connections.
func madeUpServer() string {
	gone := bearertest.NewAuthority()
	gone.Close()
	return gone.Issuer()
}

// TestIssue26_1_FloodKeepsSignOuts: tokens with made-up signatures naming
// more made-up tenants than MaxResolved do not make a signed-out session's
// tokens valid again, nor a replayed logout token acceptable.
func TestIssue26_1_FloodKeepsSignOuts(t *testing.T) {
	real := bearertest.New(t, bearertest.WithPath("/tenant-real"))
	madeUp := madeUpServer()
	v := newMulti(t, bearer.MultiConfig{Resolve: realAndMadeUp(madeUp, real), MaxResolved: 2, Logger: quiet})
	url := logoutURL(t, v)
	mustValid(t, v, real.Token(claims(bearertest.Payload{"sid": "s-1"})))
	logout := real.LogoutToken(bearertest.Payload{"sid": "s-1"})
	mustLogout(t, real, url, logout)

	floodTenants(t, v, real, madeUp, 0, 10)

	mustFail(t, v, real.Token(claims(bearertest.Payload{"sid": "s-1", "jti": "after-the-flood"})), bearer.ErrInvalidToken, bearer.ErrRevoked)
	if status, body := postLogout(t, real, url, logout); status != http.StatusBadRequest || !strings.Contains(body, "replayed") {
		t.Errorf("the logout token replayed after the flood: %d %s", status, body)
	}
	mustValid(t, v, real.Token(claims(bearertest.Payload{"sid": "s-2"})))
}

// TestIssue26_1_MadeUpTenantsNeverDelayARealOne: during a flood of made-up
// tenants, a real tenant's new tokens are judged (never 503), and a real
// tenant closed to make room for another real one comes back within its
// own budget, which the flood does not spend.
func TestIssue26_1_MadeUpTenantsNeverDelayARealOne(t *testing.T) {
	one := bearertest.New(t, bearertest.WithPath("/tenant-one"))
	two := bearertest.New(t, bearertest.WithPath("/tenant-two"))
	madeUp := madeUpServer()
	v := newMulti(t, bearer.MultiConfig{Resolve: realAndMadeUp(madeUp, one, two), MaxResolved: 1, Logger: quiet})
	mustValid(t, v, one.Token(claims(nil)))
	for round := range 8 {
		// More than the burst of new authorities: the rest get 503 at once.
		floodTenants(t, v, one, madeUp, 100*round, 2*bearer.DefaultResolveBurst)
		mustValid(t, v, one.Token(claims(bearertest.Payload{"jti": fmt.Sprint(round)})))
	}
	// two, new, waits for the flood's budget to allow it, then takes
	// one's place (MaxResolved 1); one comes back at once, though a flood
	// spent the budget of new authorities again.
	validOnceAllowed(t, v, two.Token(claims(nil)))
	floodTenants(t, v, one, madeUp, 1000, 2*bearer.DefaultResolveBurst)
	mustValid(t, v, one.Token(claims(bearertest.Payload{"jti": "back"})))
}

// TestIssue26_1_MadeUpTenantCostsOnePlaceOnce: an issuer whose discovery
// failed is not discovered again for a while after its authority was
// closed to make room: 503 at once.
func TestIssue26_1_MadeUpTenantCostsOnePlaceOnce(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]]++
		mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	a := bearertest.New(t)
	v := newMulti(t, bearer.MultiConfig{Resolve: realAndMadeUp(srv.URL), MaxResolved: 1, Logger: quiet})
	count := func(tenant string) int {
		mu.Lock()
		defer mu.Unlock()
		return hits[tenant]
	}
	floodTenants(t, v, a, srv.URL, 0, 2) // tenant-0, then tenant-1 in its place
	before := count("tenant-0")
	if before == 0 {
		t.Fatal("tenant-0 was never discovered")
	}
	floodTenants(t, v, a, srv.URL, 0, 1)
	if n := count("tenant-0"); n != before {
		t.Errorf("tenant-0, whose discovery failed, was discovered again: %d requests, then %d", before, n)
	}
}

// TestIssue26_1_CacheHitJudgedByCurrentAuthority: a token cached by an
// authority since closed to make room is judged by the issuer's current
// authority: a logout answered 200 reaches it at once, with or without a
// RevocationStore.
func TestIssue26_1_CacheHitJudgedByCurrentAuthority(t *testing.T) {
	for name, store := range map[string]bearer.RevocationStore{"memory": nil, "store": newSharedStore()} {
		t.Run(name, func(t *testing.T) {
			one := bearertest.New(t, bearertest.WithPath("/tenant-one"))
			two := bearertest.New(t, bearertest.WithPath("/tenant-two"))
			v := newMulti(t, bearer.MultiConfig{Resolve: realAndMadeUp("https://nowhere.example", one, two), MaxResolved: 1, RevocationStore: store, Logger: quiet})
			url := logoutURL(t, v)
			cached := one.Token(claims(bearertest.Payload{"sid": "s-1"}))
			mustValid(t, v, cached)
			mustValid(t, v, two.Token(claims(nil)))                                    // one's authority is closed
			mustValid(t, v, one.Token(claims(bearertest.Payload{"sid": "s-2"})))       // and made again
			mustLogout(t, one, url, one.LogoutToken(bearertest.Payload{"sid": "s-1"})) // judged by the new one
			mustFail(t, v, cached, bearer.ErrInvalidToken, bearer.ErrRevoked)
		})
	}
}

// TestIssue26_1_DPoPProofsOutliveTheirAuthority: a DPoP proof seen by a
// resolved authority is refused as a replay after that authority was
// closed and made again.
func TestIssue26_1_DPoPProofsOutliveTheirAuthority(t *testing.T) {
	one := bearertest.New(t, bearertest.WithPath("/tenant-one"))
	two := bearertest.New(t, bearertest.WithPath("/tenant-two"))
	v := newMulti(t, bearer.MultiConfig{Resolve: realAndMadeUp("https://nowhere.example", one, two), MaxResolved: 1, Logger: quiet})
	key := bearertest.NewDPoPKey("ES256")
	tok := one.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	req := dpopRequest(key, tok, nil)
	if _, err := v.ValidatePresentation(context.Background(), req); err != nil {
		t.Fatalf("DPoP: %v", err)
	}
	mustValid(t, v, two.Token(claims(nil))) // one's authority is closed
	v.Forget(tok)                           // and the cache let the token go
	if _, err := v.ValidatePresentation(context.Background(), req); !errors.Is(err, bearer.ErrDPoPProof) {
		t.Errorf("the proof replayed to one's new authority: %v", err)
	}
}

// TestIssue26_2_LogoutRevokesOnlyItsIssuer: with one store shared by the
// authorities of an API, authority a's logout for sid s-1 or sub bob
// revokes a's s-1 and bob, never b's, at every replica.
func TestIssue26_2_LogoutRevokesOnlyItsIssuer(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	t.Run("one authority each", func(t *testing.T) {
		store := newSharedStore()
		va := newValidator(t, a, logoutConfig(bearer.Config{RevocationStore: store}))
		vb := newValidator(t, b, logoutConfig(bearer.Config{RevocationStore: store}))
		waitSubscribed(t, store, 2)
		mustLogout(t, a, logoutURL(t, va), a.LogoutToken(bearertest.Payload{"sid": "s-1", "sub": "bob"}))
		mustFail(t, va, a.Token(claims(bearertest.Payload{"sid": "s-1"})), bearer.ErrInvalidToken, bearer.ErrRevoked)
		mustValid(t, vb, b.Token(claims(bearertest.Payload{"sid": "s-1"})))
		mustValid(t, vb, b.Token(claims(bearertest.Payload{"sub": "bob"})))
	})
	t.Run("several authorities, two replicas", func(t *testing.T) {
		store := newSharedStore()
		cfg := bearer.MultiConfig{Authorities: []bearer.Config{
			logoutConfig(bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Logger: quiet}),
			logoutConfig(bearer.Config{Authority: b.Issuer(), Audience: []string{"api"}, Logger: quiet}),
		}, RevocationStore: store, Logger: quiet}
		one, two := newMulti(t, cfg), newMulti(t, cfg)
		waitSubscribed(t, store, 2)
		mustLogout(t, a, logoutURL(t, one), a.LogoutToken(bearertest.Payload{"sid": "s-1", "sub": "bob"}))
		for _, v := range []*bearer.Validator{one, two} {
			mustFail(t, v, a.Token(claims(bearertest.Payload{"sid": "s-1"})), bearer.ErrInvalidToken, bearer.ErrRevoked)
			mustFail(t, v, a.Token(claims(bearertest.Payload{"sub": "bob", "iat": time.Now().Add(-time.Minute)})), bearer.ErrInvalidToken, bearer.ErrRevoked)
			mustValid(t, v, b.Token(claims(bearertest.Payload{"sid": "s-1"})))
			mustValid(t, v, b.Token(claims(bearertest.Payload{"sub": "bob"})))
		}
		if n := two.Status().Revocations; n != 2 {
			t.Errorf("%d revocations kept at the other replica, want 2 (a's sid and sub)", n)
		}
	})
}

// TestIssue26_2_RevokeNamesItsIssuer: on a Validator of several
// authorities, Revoke takes the issuer whose tokens it refuses, and
// RevokeToken the issuer the token names; on a single authority, Revoke
// fills in its own and refuses another's.
func TestIssue26_2_RevokeNamesItsIssuer(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	v := newMulti(t, bearer.MultiConfig{Authorities: []bearer.Config{
		{Authority: a.Issuer(), Audience: []string{"api"}, Logger: quiet},
		{Authority: b.Issuer(), Audience: []string{"api"}, Logger: quiet},
	}, Logger: quiet})
	ctx := context.Background()
	if err := v.Revoke(ctx, bearer.Revocation{Subject: "alice"}); err == nil {
		t.Error("Revoke without Issuer accepted")
	}
	if err := v.Revoke(ctx, bearer.Revocation{Issuer: "https://other.example", Subject: "alice"}); err == nil {
		t.Error("Revoke for an issuer of no authority accepted")
	}
	if err := v.Revoke(ctx, bearer.Revocation{Issuer: a.Issuer() + "/", Subject: "alice"}); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	mustFail(t, v, a.Token(claims(bearertest.Payload{"iat": time.Now().Add(-time.Minute)})), bearer.ErrInvalidToken, bearer.ErrRevoked)
	mustValid(t, v, b.Token(claims(nil)))

	tok := b.Token(claims(bearertest.Payload{"sub": "carol"}))
	mustValid(t, v, tok)
	if err := v.RevokeToken(ctx, tok); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrRevoked)
	mustValid(t, v, b.Token(claims(bearertest.Payload{"sub": "carol"})))
	if err := v.RevokeToken(ctx, "opaque-reference-token"); err == nil {
		t.Error("RevokeToken of a reference token that no authority introspects accepted")
	}

	single := newValidator(t, a, bearer.Config{})
	if err := single.Revoke(ctx, bearer.Revocation{Issuer: b.Issuer(), Subject: "alice"}); err == nil {
		t.Error("a single authority's Revoke for another issuer accepted")
	}
}

// TestIssue26_6_ResolveMismatchLoggedOncePerPeriod: a Resolve answer for
// another authority is logged once, with the unverified iss cut short and
// quoted, however many tokens cause it.
func TestIssue26_6_ResolveMismatchLoggedOncePerPeriod(t *testing.T) {
	a := bearertest.New(t)
	var logs logBuffer
	v := newMulti(t, bearer.MultiConfig{
		Resolve: func(string) (bearer.Config, bool) {
			return bearer.Config{Authority: "https://elsewhere.example", Audience: []string{"api"}}, true
		},
		Logger: logs.logger(),
	})
	long := a.Issuer() + "/" + strings.Repeat("x", 4000) + "\n"
	for range 5 {
		mustFail(t, v, a.Token(claims(bearertest.Payload{"iss": long})), bearer.ErrInvalidToken, bearer.ErrIssuer)
	}
	out := logs.String()
	if n := strings.Count(out, "Resolve returned a Config for another authority"); n != 1 {
		t.Errorf("%d log lines for 5 mismatches, want 1:\n%s", n, out)
	}
	if len(out) > 1000 || strings.Contains(out, "xxxxxxxxxx\n") {
		t.Errorf("the unverified iss is not cut short:\n%s", out)
	}
}
