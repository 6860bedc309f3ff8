package bench

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// Each peer below is configured as its documentation suggests for an API
// receiving access tokens, with the checks of the package doc: an
// algorithm allow-list of t.Alg where the peer has one, iss, aud, exp,
// and the scope (checked here when the peer has no scope support). Keys
// come from the same JWKS, fetched once by New's first Validate.

// golangJWTClaims are golang-jwt's registered claims plus scope.
type golangJWTClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
}

// newGolangJWT is golang-jwt/v5's parser with keyfunc/v3 over the JWKS
// (keyfunc fetches the key set in the background and on unknown kids).
func newGolangJWT(ctx context.Context, t Target) (*Contender, error) {
	kctx, cancel := context.WithCancel(context.Background())
	k, err := keyfunc.NewDefaultCtx(kctx, []string{t.JWKSURL})
	if err != nil {
		cancel()
		return nil, err
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{t.Alg}),
		jwt.WithIssuer(t.Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
	)
	validate := func(_ context.Context, token string) error {
		var c golangJWTClaims
		if _, err := p.ParseWithClaims(token, &c, k.Keyfunc); err != nil {
			return err
		}
		if !hasScope(c.Scope, Scope) {
			return errScope
		}
		return nil
	}
	return &Contender{Validate: validate, close: cancel}, nil
}

// auth0Claims are the custom claims auth0's validator decodes and checks.
// auth0 checks exp only when present, so its presence is required here.
type auth0Claims struct {
	Scope string `json:"scope"`
	Exp   *int64 `json:"exp"`
}

var errNoExp = errors.New("no exp")

// Validate checks the scope and that exp is present; the validator calls
// it after its own checks of iss, aud and (a present) exp.
func (c *auth0Claims) Validate(context.Context) error {
	if c.Exp == nil {
		return errNoExp
	}
	if !hasScope(c.Scope, Scope) {
		return errScope
	}
	return nil
}

// NewAuth0Validator returns auth0/go-jwt-middleware/v2's validator for t:
// its caching JWKS provider (discovery, then the JWKS, kept an hour) and
// custom claims for the scope and a required exp. Auth0's middleware takes
// its ValidateToken (see cmd/httpbench).
func NewAuth0Validator(t Target) (*validator.Validator, error) {
	u, err := url.Parse(t.Issuer)
	if err != nil {
		return nil, err
	}
	provider := jwks.NewCachingProvider(u, time.Hour)
	return validator.New(provider.KeyFunc, validator.SignatureAlgorithm(t.Alg), t.Issuer, []string{Audience},
		validator.WithCustomClaims(func() validator.CustomClaims { return &auth0Claims{} }))
}

func newAuth0(_ context.Context, t Target) (*Contender, error) {
	v, err := NewAuth0Validator(t)
	if err != nil {
		return nil, err
	}
	validate := func(ctx context.Context, token string) error {
		_, err := v.ValidateToken(ctx, token)
		return err
	}
	return &Contender{Validate: validate}, nil
}

// oidcClaims is the one claim read from go-oidc's verified token.
type oidcClaims struct {
	Scope string `json:"scope"`
}

// newGoOIDC is go-oidc/v3's IDTokenVerifier. It is built for ID tokens:
// the audience is checked as the ClientID, and it knows nothing of typ
// at+jwt or scopes, so the scope is read with Claims (a second JSON
// decode of the payload, as a go-oidc user would do).
func newGoOIDC(ctx context.Context, t Target) (*Contender, error) {
	p, err := oidc.NewProvider(ctx, t.Issuer)
	if err != nil {
		return nil, err
	}
	v := p.VerifierContext(context.Background(), &oidc.Config{
		ClientID:             Audience,
		SupportedSigningAlgs: []string{t.Alg},
	})
	validate := func(ctx context.Context, token string) error {
		idt, err := v.Verify(ctx, token)
		if err != nil {
			return err
		}
		var c oidcClaims
		if err := idt.Claims(&c); err != nil {
			return err
		}
		if !hasScope(c.Scope, Scope) {
			return errScope
		}
		return nil
	}
	return &Contender{Validate: validate}, nil
}

// newJWX is lestrrat-go/jwx/v3's jwt.Parse with a jwk.Set fetched once
// (the key's alg from the JWKS decides the algorithm) and validation of
// iss, aud and a required exp.
func newJWX(ctx context.Context, t Target) (*Contender, error) {
	set, err := jwk.Fetch(ctx, t.JWKSURL)
	if err != nil {
		return nil, err
	}
	opts := []jwxjwt.ParseOption{
		jwxjwt.WithKeySet(set),
		jwxjwt.WithValidate(true),
		jwxjwt.WithIssuer(t.Issuer),
		jwxjwt.WithAudience(Audience),
		jwxjwt.WithRequiredClaim(jwxjwt.ExpirationKey),
	}
	validate := func(_ context.Context, token string) error {
		tok, err := jwxjwt.Parse([]byte(token), opts...)
		if err != nil {
			return err
		}
		var scope string
		if err := tok.Get("scope", &scope); err != nil {
			return err
		}
		if !hasScope(scope, Scope) {
			return errScope
		}
		return nil
	}
	return &Contender{Validate: validate}, nil
}
