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
// To operate it, Config.Observer (see package observe) is told of every
// validation, key fetch and introspection call (the adapters/otel module
// makes OpenTelemetry metrics and spans of them), and Validator.Status
// answers readiness probes and counts cache hits without waiting: see
// docs/operations.md.
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
//   - shared-signals.md: OpenID Shared Signals (SSF, CAEP, RISC), package signals
//   - replicas.md: several replicas sharing state through Redis (stores/redis)
//   - reliability.md: the soak, every verdict checked under faults (soak/)
//   - sender-constrained.md: DPoP (RFC 9449) and certificate-bound (RFC 8705) tokens
//   - several-authorities.md: NewMulti
//   - operations.md: the Observer, OpenTelemetry (adapters/otel), Status
//   - requirements.md: scopes, step-up (RFC 9470), authorization details
//     (RFC 9396), predicates, delegation (RFC 8693), per-operation challenges
//   - errors.md: statuses and challenges on the wire
//   - frameworks.md: net/http, chi, echo, gin, gRPC
//   - mcp.md: protected-resource metadata and MCP servers (adapters/mcp)
//   - testing.md: the bearertest authority, DPoP keys, NewClaims
//   - cli.md: the bearer command (cmd/bearer)
//   - walkthrough.md: an authority, this API and a browser application together
//   - security-model.md: keys over time, the guarantees, how they are tested
//
// # The path of a token
//
// A token meets these stages in this order, each in its own file
// (path.go holds the sequence):
//
//   - presentation (presentation.go): which scheme, which proof; a request
//     malformed before its token is read is refused here.
//   - authority (route.go; authority.go, resolved.go, multi.go, provider.go,
//     discovery.go): the authority that judges the token, the one of New or,
//     for NewMulti, the one its iss names. A Validator of one authority is
//     the same code with one entry.
//   - verify (verification.go): a cached answer (tokencache.go, hashlru.go),
//     or the authority's: a JWS verified here (jwt.go, jws.go, headermemo.go,
//     base64url.go, claimsjson.go, verify.go, keys.go, jwks.go,
//     statickeys.go) or an introspection answer
//     (validator_introspect.go, introspect*.go).
//   - binding (binding.go; dpopproof.go, dpopjwk.go, dpopnonce.go, mtls.go):
//     cnf against the DPoP proof or the client certificate.
//   - revocation (revocation.go; revocationissuers.go, revocationindex.go,
//     revocationstore.go, revocationsync.go, logout.go): sign-outs and
//     revocations, per issuer, kept by the Validator.
//   - requirements (requirement.go; scopes.go, stepup.go, predicate.go,
//     delegation.go): Config.RequiredScopes and the route's
//     Presentation.Require: scopes, step-up (acr, auth_time), predicates
//     over the claims (authorization_details), actors (act).
//
// Errors are rendered in one place (errors.go, challenge.go).
package bearer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accesstoken/bearer/observe"
)

// Validator validates access tokens: it routes each token to the
// authority that judges it, one (New) or several (NewMulti), and keeps
// what must outlive an authority (the validated-token cache, the
// revocations of each issuer, the logout tokens and DPoP proofs seen). It
// is safe for concurrent use; create one per API and share it.
type Validator struct {
	// sole is New's authority, which judges every token; nil for
	// NewMulti, whose tokens name theirs.
	sole      *authority
	fixed     map[string]*authority // by issuer without a trailing slash
	order     []string              // the fixed authorities' Authority, as configured
	reference *authority            // introspects reference tokens: sole, or NewMulti's first with a ClientID; nil for none
	resolve   func(string) (Config, bool)
	max       int
	maxSize   int
	cache     *tokenCache      // validated JWTs of every authority; nil when caching is off
	dpop      *dpopSettings    // of the presentation, before the token names its authority: sole's, or defaultDPoP
	obs       observe.Observer // told of each validation, once, whichever authority judged it
	client    *http.Client     // NewMulti's, for the authorities whose Config names none; nil for New
	log       *slog.Logger
	ctx       context.Context
	cancel    context.CancelFunc
	stop      func() bool // unregisters cancel from the caller's ctx
	closing   sync.WaitGroup

	// What every authority shares and outlives them (revocationissuers.go).
	store  RevocationStore // Config's or MultiConfig's, or a memory of the logout tokens seen
	replay seenStore       // the DPoP proofs seen
	// revSync: whether store has delivered the revocations in force.
	revSync        *revocationSync
	logoutRefusals episode // logout tokens refused unverified, logged as a run (see logLogoutRefused)

	tick atomic.Int64 // a logical clock for least-recently-used
	mu   sync.Mutex
	// issuers holds, by issuer without a trailing slash, the revocations
	// of every issuer (fixed, resolved, or revoked while closed).
	issuers map[string]*issuerState
	tidyAt  int // len(issuers) at which to look them over again
	resolved
}

// New checks cfg and returns a Validator. It does not wait for the
// authority: discovery runs in the background and requests get 503 until it
// succeeds (see Ready). Background work ends with Close, or when ctx is
// done.
func New(ctx context.Context, cfg Config) (*Validator, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	v := newValidator(ctx, s.Logger, s.MaxTokenSize, s.Observer, s.RevocationStore, s.RevocationSyncTimeout, s.RequireRevocationSync)
	key := issuerKey(s.Authority)
	a, err := newAuthority(v.ctx, s, v.replay, v.newIssuerLocked(key, cfg))
	if err != nil {
		v.Close()
		return nil, err
	}
	v.sole, v.reference, v.dpop = a, a, a.dpop
	v.fixed[key], v.order = a, []string{s.Authority}
	if s.Mode != ModeIntrospection {
		// Every token is introspected otherwise: none is cached as a JWT.
		v.cache = newTokenCache(s)
	}
	v.subscribe(s.RevocationStore)
	return v, nil
}

// newValidator returns a Validator without authorities, whose background
// work ends with Close or ctx; log, maxSize and obs are complete, the
// revocation settings as Config's.
func newValidator(ctx context.Context, log *slog.Logger, maxSize int, obs observe.Observer, store RevocationStore, syncTimeout time.Duration, requireSync bool) *Validator {
	v := &Validator{fixed: make(map[string]*authority), issuers: make(map[string]*issuerState), maxSize: maxSize, log: log, obs: obs, dpop: defaultDPoP}
	v.resolved.init()
	v.store, v.replay = store, store
	v.revSync = newRevocationSync(store != nil, syncTimeout, requireSync)
	if store == nil {
		v.store, v.replay = newMemoryRevocations(), newMemoryRevocations()
	}
	v.ctx, v.cancel = context.WithCancel(context.WithoutCancel(ctx))
	v.stop = context.AfterFunc(ctx, v.cancel)
	return v
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
//
// A Validator of several authorities waits for every one of
// MultiConfig.Authorities.
func (v *Validator) Ready(ctx context.Context) error {
	for _, a := range v.fixed {
		if err := a.p.waitReady(ctx); err != nil {
			return err
		}
	}
	return v.revSync.wait(ctx, v.log)
}

// Close stops background work (discovery retries, key refreshes) and
// waits for it. Validate keeps working with what is cached but fetches
// nothing more. Close is idempotent.
func (v *Validator) Close() error {
	v.stop()
	v.cancel()
	v.mu.Lock()
	all := make([]*authority, 0, len(v.fixed)+len(v.resolved.by))
	for _, a := range v.fixed {
		all = append(all, a)
	}
	for _, a := range v.resolved.by {
		all = append(all, a)
	}
	v.mu.Unlock()
	for _, a := range all {
		a.close()
	}
	v.closing.Wait()
	if v.client != nil {
		// Idle keep-alive connections would otherwise keep two goroutines
		// each alive for the transport's IdleConnTimeout.
		v.client.CloseIdleConnections()
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
