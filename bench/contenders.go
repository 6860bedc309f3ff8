package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The checks every contender is configured with, besides the signature
// and exp: the token must be addressed to Audience, issued by the
// authority, and grant Scope.
const (
	Audience = "api"
	Scope    = "api"
)

// Algorithms are the JWS algorithms measured.
var Algorithms = []string{"RS256", "ES256"}

// Claims are the claims of the measured token, on top of bearertest's
// defaults (iss, iat, exp one hour ahead, a random jti, client_id).
func Claims() bearertest.Payload {
	return bearertest.Payload{"aud": Audience, "scope": "api read", "sub": "248289761001"}
}

// Target is what contenders are configured from: where the authority is
// and which of its keys signs the tokens. It holds no key material, so a
// process other than the authority's can use it (see cmd/httpbench).
type Target struct {
	Issuer  string // the authority; discovery is under Issuer+"/.well-known/"
	JWKSURL string
	Alg     string // RS256 or ES256
	KeyID   string // kid of the signing key, for the bare check
}

// TargetOf describes a's key for alg.
func TargetOf(a *bearertest.Authority, alg string) Target {
	return Target{Issuer: a.Issuer(), JWKSURL: a.JWKSURL(), Alg: alg, KeyID: a.KeyID(alg)}
}

// Names of the contenders, in the order they are reported. Bare is the
// floor the others are compared with.
const (
	Bare       = "bare"        // sha256 + RSA/ECDSA verify of a pre-decoded signature, no claims
	Floor      = "floor"       // hand-written: base64 + JSON + verify + iss/aud/exp/scope
	BearerCold = "bearer-cold" // this library, validated-token cache off
	BearerWarm = "bearer-warm" // this library, validated-token cache on, same token every time
	// BearerRevoked is bearer-warm with RevocationEntries revocations in
	// force, none of which matches the token.
	BearerRevoked = "bearer-revoked"
	GolangJWT     = "golang-jwt" // golang-jwt/jwt/v5 with MicahParks/keyfunc/v3
	Auth0         = "auth0"      // auth0/go-jwt-middleware/v2 validator
	GoOIDC        = "go-oidc"    // coreos/go-oidc/v3 IDTokenVerifier, ClientID = audience
	JWX           = "jwx"        // lestrrat-go/jwx/v3 jwt.Parse with a jwk.Set
)

// Names lists every contender, Bare first.
var Names = []string{Bare, Floor, BearerCold, BearerWarm, BearerRevoked, GolangJWT, Auth0, GoOIDC, JWX}

// Contender is one way of validating a token, set up for one Target.
type Contender struct {
	Name string
	// Validate returns nil if token is valid. Every contender but Bare
	// checks the signature, iss, aud, exp and the scope; Bare checks only
	// the signature.
	Validate func(ctx context.Context, token string) error
	// Pending, when not empty, says why the contender cannot be measured
	// yet (a feature the core does not have); Validate is nil then.
	Pending string

	validator *bearer.Validator // this library's contenders only
	close     func()
}

// Close releases what the contender holds (background refreshes).
func (c *Contender) Close() {
	if c.close != nil {
		c.close()
	}
}

// errScope is returned by the scope checks written here for peers that
// have none of their own.
var errScope = errors.New("scope " + Scope + " not granted")

// hasScope reports whether the space-separated scope grants want.
func hasScope(scope, want string) bool {
	for s := range strings.FieldsSeq(scope) {
		if s == want {
			return true
		}
	}
	return false
}

// New sets up the named contender for t and checks it accepts token, so
// that keys and discovery documents are fetched before any timer starts.
// A contender whose Pending is set is returned without a check.
func New(ctx context.Context, name string, t Target, token string) (*Contender, error) {
	var (
		c   *Contender
		err error
	)
	switch name {
	case Bare:
		c, err = newBare(ctx, t, token)
	case Floor:
		c, err = newFloor(ctx, t)
	case BearerCold:
		c, err = newBearer(ctx, t, false)
	case BearerWarm:
		c, err = newBearer(ctx, t, true)
	case BearerRevoked:
		c, err = newBearerRevoked(ctx, t)
	case GolangJWT:
		c, err = newGolangJWT(ctx, t)
	case Auth0:
		c, err = newAuth0(ctx, t)
	case GoOIDC:
		c, err = newGoOIDC(ctx, t)
	case JWX:
		c, err = newJWX(ctx, t)
	default:
		n, warm, ok := parseMulti(name)
		if !ok {
			return nil, fmt.Errorf("bench: unknown contender %q", name)
		}
		c, err = newBearerMulti(ctx, t, n, warm)
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	c.Name = name
	if c.Pending != "" {
		return c, nil
	}
	if err := c.Validate(ctx, token); err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: %s refuses the benchmark token: %w", name, err)
	}
	return c, nil
}

// All sets up every contender of Names for t, in that order.
func All(ctx context.Context, t Target, token string) ([]*Contender, error) {
	var cs []*Contender
	for _, name := range Names {
		c, err := New(ctx, name, t, token)
		if err != nil {
			for _, c := range cs {
				c.Close()
			}
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}
