// Package mcpbearer protects Model Context Protocol servers built with the
// official Go SDK (github.com/modelcontextprotocol/go-sdk) with a
// bearer.Validator, as the MCP authorization specification asks of them.
//
//	m, err := resource.New("https://mcp.example.com/mcp", v) // RFC 9728 metadata
//	if err != nil { … }
//	mux.Handle(m.Path(), m)
//	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
//	mux.Handle("/mcp", mcpbearer.New(v, middleware.ResourceMetadata(m.URL()))(h))
//
// New runs the library's guard first, so every refusal is the library's
// own: 401 with a challenge naming the metadata (RFC 9728 §5.1), 403
// insufficient_scope naming the scopes, 400 invalid_request, and 503 with
// Retry-After while the authority cannot be reached. Then it hands the
// validated claims to the SDK's auth.RequireBearerToken, which puts them on
// the request as an auth.TokenInfo: tools read it in
// req.Extra.TokenInfo, and the streamable transport binds each session to
// its TokenInfo.UserID, so that another user cannot use a session ID that
// is not theirs.
//
// TokenInfo carries the token's scopes, its expiry, all its claims in
// Extra (Extra["sub"], Extra["client_id"], …) and a UserID that no two
// users of different issuers share: the issuer, "#", then the subject
// (https://login.example.com#alice), with "%" and "#" escaped in both; a
// token without sub is named by its client, issuer##client_id.
//
// What the SDK alone allows, and what it does not (v1.8.0): its
// RequireBearerToken answers 401 for a missing or invalid token and 403
// for missing scopes, with a challenge holding only resource_metadata and
// scope, never an RFC 6750 error code; any other failure of the verifier,
// an unreachable authority included, is a 500, and a token is read only
// from the Authorization header. Verifier plugs this library into it
// as is, for applications that want only that; New keeps the library's
// answers.
package mcpbearer

import (
	"context"
	"errors"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// New returns middleware for an MCP server's HTTP handler: the
// net/http guard of middleware.New(v, opts...) decides, then the SDK's
// auth.RequireBearerToken puts the claims the guard validated on the
// request as an auth.TokenInfo, without validating the token again.
// middleware.ResourceMetadata belongs in opts; middleware.Optional lets
// anonymous requests through without a TokenInfo. Give tokens to it in
// the Authorization header only, which is where MCP clients send them and
// the one place the SDK looks.
func New(v *bearer.Validator, opts ...middleware.Option) func(http.Handler) http.Handler {
	guard := middleware.New(v, opts...)
	withInfo := auth.RequireBearerToken(validated(v), &auth.RequireBearerTokenOptions{
		// The guard judged exp, with Config.Leeway, and introspection
		// answers may carry none: the SDK's second look at it could only
		// refuse, in its own words, a token the guard has just accepted.
		AllowMissingExpiration: true,
		ClockSkew:              math.MaxInt64,
	})
	return func(next http.Handler) http.Handler {
		info := withInfo(next)
		return guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := bearer.ClaimsFromContext(r.Context()); !ok {
				next.ServeHTTP(w, r) // anonymous, through middleware.Optional
				return
			}
			info.ServeHTTP(w, r)
		}))
	}
}

// validated is the TokenVerifier behind New: the claims are the ones the
// guard put on the request.
func validated(v *bearer.Validator) auth.TokenVerifier {
	return func(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		c, ok := bearer.ClaimsFromContext(r.Context())
		if !ok { // New calls it only with claims: fail closed all the same
			return nil, auth.ErrInvalidToken
		}
		return tokenInfo(v, c), nil
	}
}

// Verifier returns a TokenVerifier that validates tokens with v, for
// applications that use the SDK's auth.RequireBearerToken on its own. The
// SDK then decides the answers: an invalid token, or one without
// Config.RequiredScopes, is a 401 without error code; an unreachable
// authority is a 500 (still never a 401 that blames the token); a token
// valid only within Config.Leeway of its exp is refused unless the SDK's
// ClockSkew allows it, and one without exp (some introspection answers)
// unless AllowMissingExpiration is set. Prefer New.
func Verifier(v *bearer.Validator) auth.TokenVerifier {
	return func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		c, err := v.Validate(ctx, token)
		if err != nil {
			return nil, refused(err)
		}
		return tokenInfo(v, c), nil
	}
}

// refusal is a validation failure as the SDK reads it: auth.ErrInvalidToken
// (401) unless the authority could not judge the token, then an error of
// its own (500). Its text, which the SDK sends as the body, is the fixed
// description of the *bearer.Error, never token material.
type refusal struct {
	e   *bearer.Error
	sdk error // auth.ErrInvalidToken, or nil
}

func refused(err error) *refusal {
	e := bearer.AsError(err)
	if errors.Is(e, bearer.ErrUnavailable) {
		return &refusal{e: e}
	}
	return &refusal{e: e, sdk: auth.ErrInvalidToken}
}

func (r *refusal) Error() string { return r.e.Description }

func (r *refusal) Unwrap() []error {
	if r.sdk == nil {
		return []error{r.e}
	}
	return []error{r.sdk, r.e}
}

// tokenInfo maps validated claims to what the SDK keeps of them.
func tokenInfo(v *bearer.Validator, c *bearer.Claims) *auth.TokenInfo {
	return &auth.TokenInfo{
		Scopes:     slices.Clone(c.Scopes),
		Expiration: c.ExpiresAt,
		UserID:     userID(issuer(v, c), c.Subject, c.ClientID),
		Extra:      maps.Clone(c.Map()),
	}
}

// issuer is the token's iss, or, for an introspection answer without
// one, the Validator's authority when it has only one.
func issuer(v *bearer.Validator, c *bearer.Claims) string {
	if c.Issuer != "" {
		return c.Issuer
	}
	if a := v.Authorities(); len(a) == 1 {
		return a[0]
	}
	return ""
}

var escape = strings.NewReplacer("%", "%25", "#", "%23")

// userID names the user so that no two (issuer, subject) pairs share a
// name: escaped, neither part holds "#", so the first "#" ends the issuer.
// Without a subject the client names the token, after "##", which no
// name with a subject contains.
func userID(iss, sub, clientID string) string {
	if sub != "" {
		return escape.Replace(iss) + "#" + escape.Replace(sub)
	}
	return escape.Replace(iss) + "##" + escape.Replace(clientID)
}
