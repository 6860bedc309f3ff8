package bearer

import (
	"context"
	"time"

	"github.com/accesstoken/bearer/internal/alphabet"
)

// verify is the authority and verify stages: it returns what token says
// and the authority that says it. A token cached as a validated JWT is
// answered from the cache with the authority that validated it; any
// other is routed to its authority (route.go), which verifies it itself
// (jwt.go) or asks its introspection endpoint (validator_introspect.go).
// It also says where the answer came from, for an Observer. syntax asks
// for the b64token check of a token from an Authorization field
// (presented), which a cached token passed: a hit skips it. now is the
// time a cached answer is judged at, and a new entry's life counts from.
func (v *Validator) verify(ctx context.Context, token string, syntax bool, now time.Time) (*Claims, *authority, string, error) {
	if token == "" {
		return nil, nil, sourceNone, errNoToken()
	}
	// A cached token passed validation as a JWT, so a hit needs no other
	// look at it: the lookup comes first, before the syntax, size and
	// shape checks. A token too large to be cached is not looked up.
	if v.cache != nil && len(token) <= v.maxSize {
		if c, ok := v.cache.get(token, now); ok {
			if a := c.by; a.lease == nil || v.renew(a.lease) {
				// A copy: a handler that changed the cached claims would
				// change what later requests with this token may do.
				return c.clone(), a, sourceCache, nil
			}
			// Its authority was closed: the issuer's current one judges
			// the token again, with the keys and rules it has now.
			v.cache.forget(token)
		}
	}
	// A token of the JWS shape is a b64token, so only another one needs
	// the syntax check.
	jws := looksLikeJWS(token)
	if syntax && !jws && !alphabet.IsB64Token(token) {
		return nil, nil, sourceNone, errInvalidToken(ErrMalformed)
	}
	if len(token) > v.maxSize {
		return nil, nil, sourceNone, errInvalidToken(ErrTooLarge)
	}
	a, source, err := v.route(token, jws)
	if err != nil {
		return nil, nil, source, err
	}
	var c *Claims
	switch {
	case a.s.Mode == ModeIntrospection || (a.s.Mode == ModeAuto && !jws):
		c, source, err = a.introspected(ctx, token)
	case !jws:
		// Shape is checked before the authority is consulted: garbage is
		// a 401 even while the authority is down.
		return nil, nil, sourceLocal, errInvalidToken(ErrMalformed)
	default:
		c, err = v.verifyJWT(ctx, a, token, now)
		source = sourceLocal
	}
	if err != nil {
		return nil, nil, source, err
	}
	if a.lease != nil && !a.lease.proven.Load() {
		v.proven(a)
	}
	return c, a, source, nil
}

// renew notes that a resolved authority's cached answer is used, and
// reports false if the authority was closed since.
func (v *Validator) renew(l *lease) bool {
	if l.evicted.Load() {
		return false
	}
	// A load first: a store on every hit would make the cores fight over
	// the authority's cache line.
	if t := v.tick.Load(); l.used.Load() != t {
		l.used.Store(t)
	}
	return true
}

// verifyJWT verifies a JWS-shaped token with a's keys and rules, and
// caches the claims if a allows. The cache entry's life counts from now,
// the time of the cache lookup: a little before the validation ended, so
// never longer than CacheDuration, and one clock reading fewer.
func (v *Validator) verifyJWT(ctx context.Context, a *authority, token string, now time.Time) (*Claims, error) {
	if v.cache != nil {
		v.cache.miss() // counted here: not every token looked up is a JWT
	}
	c, key, err := a.validateLocal(ctx, token)
	if err != nil {
		return nil, err
	}
	if v.cache != nil && a.s.CacheDuration >= 0 && a.s.CacheSize >= 0 && v.cache.put(token, c, key, now) {
		return c.clone(), nil // the cached one stays the cache's own
	}
	return c, nil
}

// validateLocal validates a JWS-shaped token with a's keys, once a is
// discovered.
func (a *authority) validateLocal(ctx context.Context, token string) (*Claims, *publicKey, error) {
	// Once the authority is discovered, the one wait left (a key refresh)
	// is bounded by keySet.wait, so the usual validation sets up no timer.
	r := a.p.current.Load()
	if r == nil {
		// One deadline for all the waiting a cold start may do (discovery,
		// then a key refresh), so a request never waits longer than Timeout.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.s.Timeout)
		defer cancel()
		var err error
		if r, err = a.p.get(ctx); err != nil {
			return nil, nil, err
		}
	}
	return a.validateJWT(ctx, r, token)
}

// introspected asks a's introspection endpoint about token, within one
// deadline for discovery and the call together.
func (a *authority) introspected(ctx context.Context, token string) (*Claims, string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.s.Timeout)
	defer cancel()
	c, source, err := a.introspect(ctx, token)
	if err != nil {
		return nil, source, err
	}
	c.by = a
	return c, source, nil
}
