package bearer

import (
	"context"
	"strings"
	"time"

	"github.com/accesstoken/bearer/internal/alphabet"
)

// startIntrospection gives a an Introspector if its Mode and Config call
// for one. Its calls end with the Validator's background work.
func (a *authority) startIntrospection() {
	if a.s.Mode == ModeJWT || a.s.ClientID == "" {
		return
	}
	a.in = newIntrospector(a.s, a.p, a.p.ctx)
}

// introspect validates a token at the introspection endpoint, then checks
// the answer as it would a JWT's claims: the endpoint vouches for the
// token, not for its being meant for this API now.
func (a *authority) introspect(ctx context.Context, token string) (*Claims, string, error) {
	if !alphabet.IsB64Token(token) {
		return nil, sourceIntrospection, errInvalidToken(ErrMalformed)
	}
	// Without credentials there is no one to ask: a token that is not a
	// JWT is then as malformed as in ModeJWT, and a client is told no more
	// (how this API is configured is not its business). One line at debug
	// says why, for an operator who expected reference tokens to work.
	if a.in == nil {
		a.noIntrospection.Do(func() {
			a.s.Logger.DebugContext(ctx, "bearer: a token that is not a JWT was refused as malformed: introspection is not configured; "+
				"set Config.ClientID and ClientSecret to accept reference tokens", "token", Fingerprint(token))
		})
		return nil, sourceLocal, errInvalidToken(ErrMalformed)
	}
	res, cached, err := a.in.lookup(ctx, token)
	source := sourceIntrospection
	if cached {
		source = sourceCache
	}
	if err != nil {
		return nil, source, err
	}
	if !res.Active {
		return nil, source, errInvalidToken(ErrInactive)
	}
	c := res.Claims
	// The same rules as for a JWT's claims, but that exp may be absent: a
	// cached answer may outlive the token, and an authority may vouch for
	// a token that is not valid yet.
	now := time.Now()
	if res.hasExp && !now.Before(c.ExpiresAt.Add(a.s.leeway)) {
		return nil, source, errInvalidToken(ErrExpired)
	}
	if err := a.checkNotBefore(c, now); err != nil {
		return nil, source, err
	}
	if !res.accessToken() {
		return nil, source, errInvalidToken(ErrTokenType)
	}
	if c.Issuer != "" && !a.isIssuer(c.Issuer) {
		return nil, source, errInvalidToken(ErrIssuer)
	}
	// With Audience configured, aud must name this API, as in a JWT: an
	// answer without aud is refused, since nothing then says the token
	// was meant for this API rather than another client of the same
	// authority. For an authority whose answers carry no aud, configure
	// RequiredScopes instead of Audience.
	if err := a.checkAudience(c.Audience); err != nil {
		return nil, source, err
	}
	// res is shared with the cache and other callers.
	c = c.clone()
	c.dpopType = strings.EqualFold(res.TokenType, "DPoP")
	return c, source, nil
}

// isIssuer reports whether iss names the authority: exactly the discovered
// issuer once known, or else the configured Authority give or take a
// trailing slash, as discovery itself allows.
func (a *authority) isIssuer(iss string) bool {
	if r := a.p.current.Load(); r != nil {
		return iss == r.issuer
	}
	return strings.TrimSuffix(iss, "/") == strings.TrimSuffix(a.s.Authority, "/")
}

// Forget drops what is cached about token, its introspection result
// or its validation as a JWT, so that the next request carrying it is
// checked in full again (with the authority, for a reference token). Call
// it when the API learns that a token was revoked; RevokeToken refuses a
// token outright.
func (v *Validator) Forget(token string) {
	if v.cache != nil {
		v.cache.forget(token)
	}
	if v.reference != nil && v.reference.in != nil {
		v.reference.in.Forget(token)
	}
}

// stopIntrospection ends introspection calls under way.
func (a *authority) stopIntrospection() {
	if a.in != nil {
		_ = a.in.Close()
	}
}
