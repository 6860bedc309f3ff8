// Package bearer protects APIs that receive OAuth 2.0 access tokens.
//
// Give it the Authority that issues the tokens and what this API requires
// (an Audience, RequiredScopes); it discovers the authority's metadata,
// validates JWT access tokens locally against the authority's published
// keys (RFC 9068, RFC 8725) and reports failures as RFC 6750 errors.
//
//	v, err := bearer.New(ctx, bearer.Config{
//		Authority:      "https://login.example.com",
//		Audience:       []string{"api"},
//		RequiredScopes: bearer.AnyOf("api"),
//	})
//	if err != nil { … }
//	defer v.Close()
//	mux.Handle("GET /values", middleware.New(v)(http.HandlerFunc(values)))
//
// The README's first program, examples/quickstart, is this whole, with
// its imports.
//
// In the handler, bearer.ClaimsFromContext(r.Context()) returns the token's
// claims. The middleware package adapts a Validator to net/http; Validate
// can be called directly from anywhere else.
//
// To operate it, Config.Observer is told of every validation, key fetch
// and introspection call (the adapters/otel module makes OpenTelemetry
// metrics and spans of them), and Validator.Status answers readiness
// probes without waiting: see docs/operations.md.
//
// Security properties: the token never chooses how it is verified (the
// algorithm allow-list and the authority's keys do; jwk, jku, x5u, x5c and
// crit headers are refused), failures fail closed (an unreachable
// authority is a 503, never a 200 nor a 401 that blames the token), and
// tokens are never logged: see Fingerprint.
//
// Guides, one per capability, are in the repository's docs folder
// (https://github.com/accesstoken/bearer/tree/main/docs):
//
//   - reference-tokens.md: introspection (RFC 7662), the Introspector alone
//   - caching.md: what is cached, for how long
//   - sign-out.md: back-channel logout and Revoke
//   - replicas.md: several replicas sharing state through Redis (stores/redis)
//   - sender-constrained.md: DPoP (RFC 9449) and certificate-bound (RFC 8705) tokens
//   - several-authorities.md: NewMulti
//   - operations.md: the Observer, OpenTelemetry (adapters/otel), Status
//   - errors.md: statuses and challenges on the wire
//   - frameworks.md: net/http, chi, echo, gin, gRPC
//   - mcp.md: protected-resource metadata and MCP servers (adapters/mcp)
//   - testing.md: the bearertest authority, DPoP keys, NewClaims
//   - cli.md: the bearer command (cmd/bearer)
//   - walkthrough.md: an authority, this API and a browser application together
//   - security-model.md: keys over time, the guarantees, how they are tested
package bearer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// Validator validates access tokens for one authority. It is safe for
// concurrent use; create one per API and share it.
type Validator struct {
	s     *settings
	p     *provider
	in    *Introspector // nil unless reference tokens are introspected
	cache *tokenCache   // nil when caching is off

	revocations     *revocationIndex // see revocation.go
	revocationStore RevocationStore
	dpop            *dpopSettings // see dpop.go; nil for NewMulti's

	multi *multi // set by NewMulti, with none of the above

	// For an authority of a Validator of several: the Validator it serves,
	// which keeps its revocations (see revocationissuers.go), and, for a
	// resolved one, when it was last used, whether it has verified a
	// token, and whether it was closed to make room (its cached tokens
	// are then judged again by the issuer's current authority).
	parent  *multi
	used    atomic.Int64
	proven  atomic.Bool
	evicted atomic.Bool

	// obs is told of validations: Config.Observer, or MultiConfig's. An
	// authority of a multi Validator has none, since the multi Validator
	// reports each validation once, whichever authority judged it.
	obs Observer

	noIntrospection sync.Once // notes the first token refused for want of a ClientID to introspect it
	logoutRefusals  episode   // logout tokens refused unverified, logged as a run (see logLogoutRefused)

	revSync *revocationSync // whether the store has delivered the revocations in force (revocationsync.go); a parent's is shared
}

// New checks cfg and returns a Validator. It does not wait for the
// authority: discovery runs in the background and requests get 503 until it
// succeeds (see Ready). Background work ends with Close, or when ctx is
// done.
func New(ctx context.Context, cfg Config) (*Validator, error) {
	return newValidator(ctx, cfg, nil, nil)
}

// newValidator is New, or with parent set an authority of a Validator of
// several: it has no token cache, revocations or store of its own, but
// the parent's, and its issuer's revocations st, which outlive it.
func newValidator(ctx context.Context, cfg Config, parent *multi, st *issuerState) (*Validator, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	var replay ReplayStore = cfg.RevocationStore
	if parent != nil {
		replay = parent.replay
	}
	d, err := cfg.DPoP.settings(s.leeway, replay)
	if err != nil {
		return nil, err
	}
	p, err := newProvider(ctx, s)
	if err != nil {
		return nil, err
	}
	v := &Validator{s: s, p: p, dpop: d}
	v.startIntrospection()
	if parent != nil {
		v.parent, v.revocations, v.revocationStore, v.revSync = parent, st.revocations, parent.store, parent.revSync
		return v, nil
	}
	v.cache = newTokenCache(s)
	v.obs = s.Observer
	v.startRevocations()
	return v, nil
}

// Validate validates token and checks Config.RequiredScopes. On failure the
// error is an *Error that matches one of ErrNoToken, ErrInvalidToken,
// ErrInsufficientScope or ErrUnavailable with errors.Is. A token bound to
// a DPoP key or a client certificate (cnf) is refused (ErrBinding): its
// binding can only be checked with ValidatePresentation.
func (v *Validator) Validate(ctx context.Context, token string) (*Claims, error) {
	return v.ValidatePresentation(ctx, Presentation{Token: token})
}

// validateToken is Validate without a look at how the token was
// presented; it also says where the answer came from, for an Observer.
func (v *Validator) validateToken(ctx context.Context, token string) (*Claims, string, error) {
	if v.multi != nil {
		return v.multi.validate(ctx, token)
	}
	return v.judge(ctx, token)
}

// judge is Validate for one authority; it also says where the answer
// came from, for an Observer.
func (v *Validator) judge(ctx context.Context, token string) (*Claims, string, error) {
	c, source, err := v.validate(ctx, token)
	if err != nil {
		return nil, source, err
	}
	if err := v.checkRevoked(token, c); err != nil {
		return nil, source, err
	}
	if err := v.checkRequired(c); err != nil {
		return nil, source, err
	}
	return c, source, nil
}

// checkRequired checks Config.RequiredScopes.
func (v *Validator) checkRequired(c *Claims) error {
	if v.s.RequiredScopes.IsZero() {
		return nil
	}
	return v.s.RequiredScopes.Check(c)
}

func (v *Validator) validate(ctx context.Context, token string) (*Claims, string, error) {
	if token == "" {
		return nil, sourceNone, errNoToken()
	}
	if len(token) > v.s.MaxTokenSize {
		return nil, sourceNone, errInvalidToken(ErrTooLarge)
	}
	// A cached token passed validation as a JWT, so a hit needs no other
	// look at it: the lookup comes first, before the shape check.
	if v.cache != nil && v.s.Mode != ModeIntrospection {
		if c, ok := v.cache.get(token, time.Now()); ok {
			// A copy: a handler that changed the cached claims would
			// change what later requests with this token may do.
			return c.clone(), sourceCache, nil
		}
	}
	jws := looksLikeJWS(token)
	if v.s.Mode == ModeIntrospection || (v.s.Mode == ModeAuto && !jws) {
		// One deadline for discovery and the call together.
		ctx, cancel := context.WithTimeout(ctx, v.s.Timeout)
		defer cancel()
		return v.introspect(ctx, token)
	}
	// Shape is checked before the authority is consulted: garbage is a
	// 401 even while the authority is down.
	if !jws {
		return nil, sourceLocal, errInvalidToken(ErrMalformed)
	}
	if v.cache != nil {
		v.cache.miss() // counted here: not every token looked up is a JWT
	}
	c, key, err := v.validateLocal(ctx, token)
	if err != nil {
		return nil, sourceLocal, err
	}
	if v.cache != nil && v.cache.put(token, c, key, time.Now()) {
		return c.clone(), sourceLocal, nil
	}
	return c, sourceLocal, nil
}

// validateLocal validates a JWS-shaped token locally, without the cache.
func (v *Validator) validateLocal(ctx context.Context, token string) (*Claims, *publicKey, error) {
	// Once the authority is discovered, the one wait left (a key refresh)
	// is bounded by keySet.wait, so the usual validation sets up no timer.
	r := v.p.current.Load()
	if r == nil {
		// One deadline for all the waiting a cold start may do (discovery,
		// then a key refresh), so a request never waits longer than Timeout.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.s.Timeout)
		defer cancel()
		var err error
		if r, err = v.p.get(ctx); err != nil {
			return nil, nil, err
		}
	}
	return v.validateJWT(ctx, r, token)
}

// Ready waits until the authority's metadata and keys have been fetched,
// or ctx ends; then it returns ctx's error joined with the last failure.
// With a Config.RevocationStore it also waits for the revocations in
// force there (see Config.RevocationSyncTimeout), so that a replica that
// starts does not accept tokens the others refuse. Use it to fail fast at
// start-up:
//
//	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
//	defer cancel()
//	if err := v.Ready(ctx); err != nil { log.Fatal(err) }
func (v *Validator) Ready(ctx context.Context) error {
	if v.multi != nil {
		return v.multi.ready(ctx)
	}
	if err := v.p.waitReady(ctx); err != nil {
		return err
	}
	return v.revSync.wait(ctx, v.s.Logger)
}

// Close stops background work (discovery retries, key refreshes) and
// waits for it. Validate keeps working with what is cached but fetches
// nothing more. Close is idempotent.
func (v *Validator) Close() error {
	if v.multi != nil {
		v.multi.close()
		return nil
	}
	v.stopIntrospection()
	v.p.close()
	if v.s.ownClient {
		// Idle keep-alive connections would otherwise keep two goroutines
		// each alive for the transport's IdleConnTimeout.
		v.s.HTTPClient.CloseIdleConnections()
	}
	return nil
}

// Fingerprint returns a short, non-reversible identifier of token for logs
// and metrics: the first 12 hex digits of its SHA-256. Log this, never the
// token.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}
