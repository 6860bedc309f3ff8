package bearer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

func TestCacheServesRepeatedTokens(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	tok := a.Token(claims(nil))
	first := mustValid(t, v, tok)
	for range 10 {
		// A copy of the cached claims: never the same (issue 18, finding 9).
		if c := mustValid(t, v, tok); c == first || c.ID != first.ID || c.Subject != first.Subject {
			t.Fatalf("repeat: %p %+v, first %p %+v", c, c, first, first)
		}
	}
	if s := v.Status(); s.CacheHits != 10 || s.CacheMisses != 1 || s.CacheEntries != 1 {
		t.Errorf("Status = %+v, want 10 hits, 1 miss, 1 entry", s)
	}
}

func TestCacheRechecksExpiry(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Leeway: -1})
	tok := a.Token(claims(bearertest.Payload{"exp": time.Now().Add(1500 * time.Millisecond)}))
	mustValid(t, v, tok)
	mustValid(t, v, tok)
	time.Sleep(2 * time.Second)
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrExpired)
}

func TestCacheRechecksRequiredScopes(t *testing.T) {
	a := bearertest.New(t)
	read := newValidator(t, a, bearer.Config{RequiredScopes: bearer.AnyOf("read")})
	tok := a.Token(claims(bearertest.Payload{"scope": "write"}))
	for range 2 {
		mustFail(t, read, tok, bearer.ErrInsufficientScope, nil)
	}
}

func TestCacheDropsTokensOfRetiredKeys(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	oldKid := a.KeyID("ES256")
	old := a.TokenWith("ES256", nil, claims(nil))
	other := a.Token(claims(nil)) // RS256: its key stays published
	mustValid(t, v, old)
	mustValid(t, v, other)

	a.RotateKey("ES256")
	a.Unpublish(oldKid)
	mustValid(t, v, a.TokenWith("ES256", nil, claims(nil))) // unknown kid: fetches the new set

	mustFail(t, v, old, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	hits := v.Status().CacheHits
	mustValid(t, v, other)
	if v.Status().CacheHits != hits+1 {
		t.Error("a token of a key still published lost its cache entry")
	}
}

func TestCacheDurationBoundsReuse(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{CacheDuration: 50 * time.Millisecond})
	tok := a.Token(claims(nil))
	mustValid(t, v, tok)
	time.Sleep(100 * time.Millisecond)
	mustValid(t, v, tok)
	if s := v.Status(); s.CacheHits != 0 || s.CacheMisses != 2 {
		t.Errorf("Status = %+v, want the entry expired after CacheDuration", s)
	}
}

func TestCacheIsBounded(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{CacheSize: 10})
	for range 25 {
		useToken(t, v, esToken(a), 2)
	}
	if s := v.Status(); s.CacheEntries != 10 || s.CacheHits != 25 {
		t.Errorf("Status = %+v, want 10 entries and 25 hits", s)
	}
}

// Tokens used once each would fill the cache with entries never asked for
// again. The cache notices and lets go of them, yet keeps a token that
// comes back, and keeps every token again once hits are back.
func TestCacheLetsGoOfOneUseTokens(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{CacheSize: 10}) // judged every 16 hits or misses
	for range 40 {
		useToken(t, v, esToken(a), 1)
	}
	if s := v.Status(); s.CacheEntries != 0 || s.CacheMisses != 40 {
		t.Fatalf("after 40 one-use tokens: Status = %+v, want 40 misses and no entry left", s)
	}

	again := esToken(a)
	useToken(t, v, again, 3)
	if s := v.Status(); s.CacheEntries != 1 || s.CacheHits != 1 || s.CacheMisses != 42 {
		t.Fatalf("a token used 3 times: Status = %+v, want it kept on its second sight and hit on its third", s)
	}

	useToken(t, v, again, 15) // the round's 16th hit: the cache pays again
	useToken(t, v, esToken(a), 2)
	if s := v.Status(); s.CacheEntries != 2 || s.CacheHits != 17 {
		t.Errorf("with hits back: Status = %+v, want a new token kept on first sight", s)
	}
}

// Goroutines sharing the cache, some with one-use tokens and some with a
// token of their own, turn it choosy and back again round after round;
// every token still passes and the cache stays in bounds.
func TestCacheAdmissionUnderConcurrency(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{CacheSize: 4})
	var wg sync.WaitGroup
	for g := range 8 {
		own := esToken(a)
		wg.Go(func() {
			for range 50 {
				tok := own
				if g%2 == 0 {
					tok = esToken(a)
				}
				if _, err := v.Validate(context.Background(), tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if s := v.Status(); s.CacheHits+s.CacheMisses != 400 || s.CacheEntries > 4 {
		t.Errorf("Status = %+v, want 400 lookups and at most 4 entries", s)
	}
}

func TestCacheOff(t *testing.T) {
	a := bearertest.New(t)
	for name, cfg := range map[string]bearer.Config{
		"size":     {CacheSize: -1},
		"duration": {CacheDuration: -1},
	} {
		t.Run(name, func(t *testing.T) {
			v := newValidator(t, a, cfg)
			tok := a.Token(claims(nil))
			mustValid(t, v, tok)
			mustValid(t, v, tok)
			if c := cachesOf(v); c != (caches{}) {
				t.Errorf("caches = %+v with caching off", c)
			}
			// Reference tokens too: every request asks the authority.
			ref := newValidator(t, a, bearer.Config{CacheSize: cfg.CacheSize, CacheDuration: cfg.CacheDuration, ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
			rt := a.ReferenceToken(claims(nil))
			hits := a.Hits(bearertest.Introspection)
			for range 3 {
				if _, err := ref.Validate(context.Background(), rt); err != nil {
					t.Fatal(err)
				}
			}
			if n := a.Hits(bearertest.Introspection) - hits; n != 3 {
				t.Errorf("%d introspection calls for 3 requests with caching off", n)
			}
			if c := cachesOf(ref); c != (caches{}) {
				t.Errorf("caches = %+v with caching off", c)
			}
		})
	}
}

// The cache is looked up before a token's shape is checked, but only JWTs
// count as misses: reference tokens and garbage are not the JWT cache's.
// Reference tokens' answers are counted apart, in IntrospectionEntries.
func TestCacheCountsOnlyJWTMisses(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{})) // ModeAuto
	ref := a.ReferenceToken(claims(nil))
	for range 2 {
		mustValid(t, v, ref)
	}
	if c := cachesOf(v); c != (caches{introspected: 1}) {
		t.Errorf("after a reference token twice: caches = %+v, want one introspection answer and nothing else", c)
	}
	v.Forget(ref)
	if s := v.Status(); s.IntrospectionEntries != 0 {
		t.Errorf("after Forget: %d introspection answers held", s.IntrospectionEntries)
	}
	jwt := a.Token(claims(nil))
	mustValid(t, v, jwt)
	mustValid(t, v, jwt)
	if s := v.Status(); s.CacheHits != 1 || s.CacheMisses != 1 || s.CacheEntries != 1 {
		t.Errorf("after a JWT twice: Status = %+v, want 1 hit, 1 miss, 1 entry", s)
	}

	jwtOnly := newValidator(t, a, bearer.Config{})
	mustFail(t, jwtOnly, "not.a.jws!", bearer.ErrInvalidToken, bearer.ErrMalformed)
	if c := cachesOf(jwtOnly); c != (caches{}) {
		t.Errorf("after garbage: caches = %+v, want zero", c)
	}
}

// caches is what a Status says of the caches.
type caches struct {
	hits, misses          uint64
	entries, introspected int
}

func cachesOf(v *bearer.Validator) caches {
	s := v.Status()
	return caches{s.CacheHits, s.CacheMisses, s.CacheEntries, s.IntrospectionEntries}
}

// esToken is a new valid token from a, ES256 because it signs fastest.
func esToken(a *bearertest.Authority) string { return a.TokenWith("ES256", nil, claims(nil)) }

// useToken validates tok n times, each of which must pass.
func useToken(t *testing.T, v *bearer.Validator, tok string, n int) {
	t.Helper()
	for range n {
		mustValid(t, v, tok)
	}
}

// TestCacheDropsExpiredEntries: tokens that expired are let go as new ones
// come, not kept until CacheSize pushes them out (issue 32: the soak's
// replicas grew by 10 MB of dead entries over five minutes).
func TestCacheDropsExpiredEntries(t *testing.T) {
	const n = 50
	a := bearertest.New(t)
	life := 100 * time.Millisecond
	v := newValidator(t, a, bearer.Config{CacheDuration: life})
	for range n {
		useToken(t, v, esToken(a), 2) // hit too: the cache stays open to all
	}
	if s := v.Status(); s.CacheEntries != n {
		t.Fatalf("Status = %+v, want %d entries", s, n)
	}
	time.Sleep(life) // the n entries expire
	for range n {
		useToken(t, v, esToken(a), 2)
	}
	if s := v.Status(); s.CacheEntries > n {
		t.Errorf("Status = %+v: %d entries, want the %d expired ones gone", s, s.CacheEntries, n)
	}
}
