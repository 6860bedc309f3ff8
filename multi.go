package bearer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MultiConfig configures a Validator that accepts tokens from several
// authorities: a fixed set, tenants found by a resolver, or both (see
// NewMulti). Each authority has a Config of its own, with all the
// guarantees of a single-authority Validator.
type MultiConfig struct {
	// Authorities are the authorities known in advance, each a complete
	// Config (Authority, Audience, RequiredScopes, …). Their issuers must
	// differ. Those (and the resolved ones) whose Config names no
	// HTTPClient share one, made as a single Validator's would be.
	Authorities []Config

	// Resolve, if set, is asked about a token whose iss names none of
	// Authorities: it returns the Config for that issuer, or false to
	// refuse the token. The Config's Authority must be iss (give or take a
	// trailing slash) or empty, which means iss. Resolve decides on the
	// name alone and must not do network I/O: it runs on the request path,
	// before the token is verified. Resolved authorities are discovered
	// lazily and kept while used.
	Resolve func(iss string) (Config, bool)

	// MaxResolved bounds the resolved authorities that have verified a
	// token; when it is reached, the least recently used of them is closed
	// to make room for another that has. Those that have not verified one
	// yet (a new tenant, or a made-up name) are kept apart, at most
	// DefaultResolveBurst of them (MaxResolved if fewer), the least
	// recently used closed first: they never push out a tenant in use.
	// Default DefaultMaxResolved. At most DefaultResolveBurst new
	// authorities start at once, then 10 a second, so a flood of tenant
	// names cannot hammer the authorities' discovery (requests beyond
	// that get 503); issuers that verified tokens before have a budget of
	// their own, so a flood never delays a real tenant's return, and an
	// issuer whose discovery failed gets 503 for a while after its
	// authority was closed instead of taking a place again. Closing an
	// authority forgets none of its revocations: see RevocationStore.
	MaxResolved int

	// CacheSize and CacheDuration size the validated-JWT cache that all
	// the authorities share, as Config's fields do; each authority keeps
	// its own introspection cache.
	CacheSize     int
	CacheDuration time.Duration

	// MaxTokenSize bounds a token before anything is read from it, to
	// choose its authority; default DefaultMaxTokenSize.
	MaxTokenSize int

	// Logger receives the logs about resolved authorities; default
	// slog.Default(). Each authority logs to its own Config.Logger.
	Logger *slog.Logger

	// RevocationStore, if set, carries the revocations of every authority
	// (each names its issuer), the logout tokens seen and, unless an
	// authority's DPoPConfig.ReplayStore says otherwise, the DPoP proofs
	// seen between the replicas of this API, as Config.RevocationStore
	// does for one authority; the Configs of the authorities name none.
	// By default they stay in this process. Either way the Validator keeps
	// the revocations of each issuer itself, whichever authority object
	// serves the issuer now, until they expire.
	RevocationStore RevocationStore

	// RevocationSyncTimeout and RequireRevocationSync say, as Config's do
	// for one authority, how long Ready waits for RevocationStore to
	// deliver the revocations in force, and whether every token gets 503
	// until it has.
	RevocationSyncTimeout time.Duration
	RequireRevocationSync bool

	// Observer, if set, is told of every validation, once, whichever
	// authority judged the token; and of the fetches and introspection
	// calls of each authority whose Config names no Observer of its own.
	// An authority's own Config.Observer is told of its fetches and calls
	// only.
	Observer Observer
}

// Bounds on resolved authorities.
const (
	DefaultMaxResolved  = 100
	DefaultResolveBurst = 20
	resolveInterval     = 100 * time.Millisecond
)

// multi is the state of a Validator for several authorities.
type multi struct {
	fixed     map[string]*Validator // by issuer without a trailing slash
	order     []string              // the fixed authorities as configured
	reference *Validator            // the first fixed authority with a ClientID: it introspects reference tokens
	resolve   func(string) (Config, bool)
	max       int
	maxSize   int
	cache     *tokenCache
	client    *http.Client // for the authorities whose Config names none
	obs       Observer     // likewise
	log       *slog.Logger
	ctx       context.Context
	cancel    context.CancelFunc
	closing   sync.WaitGroup

	// What every authority shares and outlives them (revocationissuers.go).
	store  RevocationStore // MultiConfig's, or a memory of the logout tokens seen
	replay ReplayStore     // the DPoP proofs seen, unless an authority's DPoPConfig names a ReplayStore
	// revSync: whether store has delivered the revocations in force.
	revSync *revocationSync

	tick atomic.Int64 // a logical clock for least-recently-used
	mu   sync.Mutex
	// issuers holds, by issuer without a trailing slash, the revocations
	// of every issuer (fixed, resolved, or revoked while closed).
	issuers map[string]*issuerState
	tidyAt  int // len(issuers) at which to look them over again
	resolved
}

// NewMulti returns a Validator for several authorities. A token's iss is
// read before verification only to choose the authority; it is trusted
// only once the token verifies with that authority's keys and passes that
// authority's checks. A token whose iss names no known authority, and
// that Resolve refuses, is refused without any network traffic. Tokens
// that are not JWTs carry no iss: the first authority in Authorities with
// a ClientID introspects them, and without one they are refused.
//
// The Validator is used like any other: the middleware and every adapter
// take it as it is. Close closes every authority.
func NewMulti(ctx context.Context, cfg MultiConfig) (*Validator, error) {
	if len(cfg.Authorities) == 0 && cfg.Resolve == nil {
		return nil, errors.New("bearer: MultiConfig needs Authorities or Resolve")
	}
	m := &multi{fixed: make(map[string]*Validator), resolve: cfg.Resolve, max: cfg.MaxResolved, maxSize: cfg.MaxTokenSize, log: cfg.Logger, client: safeClient(nil), obs: cfg.Observer}
	if m.max <= 0 {
		m.max = DefaultMaxResolved
	}
	if m.maxSize <= 0 {
		m.maxSize = DefaultMaxTokenSize
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.issuers = make(map[string]*issuerState)
	m.resolved.init()
	m.store, m.replay = cfg.RevocationStore, cfg.RevocationStore
	m.revSync = newRevocationSync(cfg.RevocationStore != nil, cfg.RevocationSyncTimeout, cfg.RequireRevocationSync)
	if m.store == nil {
		m.store, m.replay = newMemoryRevocations(), newMemoryRevocations()
	}
	// The shared cache serves a token no later than its exp: a token within
	// an authority's leeway past exp is validated by that authority again.
	m.cache = newTokenCache(&settings{Config: Config{CacheSize: orDefault(cfg.CacheSize, DefaultCacheSize), CacheDuration: orDefault(cfg.CacheDuration, DefaultCacheDuration)}})
	m.ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, m.cancel)
	v := &Validator{multi: m, obs: cfg.Observer}
	for i, c := range cfg.Authorities {
		key := issuerKey(c.Authority)
		if _, dup := m.fixed[key]; dup {
			stop()
			v.Close()
			return nil, fmt.Errorf("bearer: MultiConfig.Authorities[%d]: authority %q is listed twice", i, c.Authority)
		}
		child, err := m.newChild(c, m.newIssuerLocked(key, c))
		if err != nil {
			stop()
			v.Close()
			return nil, fmt.Errorf("bearer: MultiConfig.Authorities[%d]: %w", i, err)
		}
		child.proven.Store(true)
		m.fixed[key] = child
		m.order = append(m.order, c.Authority)
		if m.reference == nil && child.in != nil {
			m.reference = child
		}
	}
	if cfg.RevocationStore != nil {
		// One subscription for every authority, each revocation applied to
		// its issuer's.
		m.closing.Add(1)
		go func() {
			defer m.closing.Done()
			subscribe(m.ctx, m.store, m.log, m.deliver, m.revSync.synced)
		}()
	}
	return v, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// issuerKey is how authorities are found by iss: discovery tolerates a
// trailing slash on the configured Authority, so lookups do too; the
// exact iss is then checked by the authority itself.
func issuerKey(iss string) string { return strings.TrimSuffix(iss, "/") }

// newChild is one authority of a multi Validator: a Validator of its own
// whose validated JWTs go to the shared cache instead of its own, whose
// revocations are its issuer's st, kept by m, and which, unless its Config
// names an HTTPClient, shares the multi Validator's: tenants of one
// identity service reuse its connections, and a hundred authorities do
// not each keep a transport alive. It reports to MultiConfig.Observer
// likewise, unless its Config names an Observer.
func (m *multi) newChild(c Config, st *issuerState) (*Validator, error) {
	if c.RevocationStore != nil || c.RevocationSyncTimeout != 0 || c.RequireRevocationSync {
		return nil, errors.New("bearer: the authorities of NewMulti share MultiConfig.RevocationStore, RevocationSyncTimeout and RequireRevocationSync; their Configs name none")
	}
	if c.HTTPClient == nil {
		c.HTTPClient = m.client
	}
	if c.Observer == nil {
		c.Observer = m.obs
	}
	return newValidator(m.ctx, c, m, st)
}

// validate is Validate for several authorities; it also says where the
// answer came from, for an Observer.
func (m *multi) validate(ctx context.Context, token string) (*Claims, string, error) {
	if token == "" {
		return nil, sourceNone, errNoToken()
	}
	if len(token) > m.maxSize {
		return nil, sourceNone, errInvalidToken(ErrTooLarge)
	}
	if m.cache != nil {
		if c, ok := m.cache.get(token, time.Now()); ok {
			if !c.by.evicted.Load() {
				// A load first: a store on every hit would make the cores
				// fight over the authority's cache line.
				if t := m.tick.Load(); c.by.used.Load() != t {
					c.by.used.Store(t)
				}
				c, err := c.by.finish(token, c.clone())
				return c, sourceCache, err
			}
			// Its authority was closed: the issuer's current one judges
			// the token again, with the keys and rules it has now.
			m.cache.forget(token)
		}
	}
	if !looksLikeJWS(token) {
		if m.reference == nil {
			return nil, sourceLocal, errInvalidToken(ErrMalformed)
		}
		return m.judge(ctx, m.reference, token)
	}
	child, err := m.authorityOf(token)
	if err != nil {
		return nil, sourceNone, err
	}
	if child.s.Mode == ModeIntrospection {
		c, source, err := m.judge(ctx, child, token)
		if err == nil && !child.proven.Load() {
			m.proven(child)
		}
		return c, source, err
	}
	if m.cache != nil {
		m.cache.miss()
	}
	c, key, err := child.validateLocal(ctx, token)
	if err != nil {
		return nil, sourceLocal, err
	}
	if !child.proven.Load() {
		m.proven(child)
	}
	if m.cache != nil && child.s.CacheDuration >= 0 && child.s.CacheSize >= 0 && m.cache.put(token, c, key, time.Now()) {
		c = c.clone() // the cached one stays the cache's own
	}
	c, err = child.finish(token, c)
	return c, sourceLocal, err
}

// judge validates token with child alone, leaving its binding (cnf) to
// ValidatePresentation, which checks it against the request with child's
// DPoP settings: child.Validate would refuse every bound token, for want
// of the proof.
func (m *multi) judge(ctx context.Context, child *Validator, token string) (*Claims, string, error) {
	c, source, err := child.judge(ctx, token)
	if err != nil {
		return nil, source, err
	}
	c.by = child
	return c, source, nil
}

// finish applies, to claims from the shared cache or just validated, the
// checks of the authority that accepted them: revocations, then its
// requirements.
func (v *Validator) finish(token string, c *Claims) (*Claims, error) {
	if err := v.checkRevoked(token, c); err != nil {
		return nil, err
	}
	if err := v.checkRequired(c); err != nil {
		return nil, err
	}
	return c, nil
}

// authorityOf returns the authority a JWS-shaped token names in its iss,
// read unverified only to choose it: that authority's keys verify it.
// Validate, KeySet and LogoutHandler all choose so.
func (m *multi) authorityOf(token string) (*Validator, error) {
	if len(token) > m.maxSize {
		return nil, errInvalidToken(ErrTooLarge)
	}
	if !looksLikeJWS(token) {
		return nil, errInvalidToken(ErrMalformed)
	}
	iss, err := peekIssuer(token)
	if err != nil {
		return nil, err
	}
	return m.authority(iss)
}

// ready waits for every fixed authority, then for the revocations in
// force, which they share.
func (m *multi) ready(ctx context.Context) error {
	for _, v := range m.fixed {
		if err := v.p.waitReady(ctx); err != nil {
			return err
		}
	}
	return m.revSync.wait(ctx, m.log)
}

func (m *multi) close() {
	m.cancel()
	m.mu.Lock()
	all := make([]*Validator, 0, len(m.fixed)+len(m.resolved.by))
	for _, v := range m.fixed {
		all = append(all, v)
	}
	for _, v := range m.resolved.by {
		all = append(all, v)
	}
	m.mu.Unlock()
	for _, v := range all {
		v.Close()
	}
	m.closing.Wait()
	// Idle keep-alive connections would otherwise keep two goroutines
	// each alive for the transport's IdleConnTimeout.
	m.client.CloseIdleConnections()
}

// invalidate forgets token everywhere it may be cached.
func (m *multi) invalidate(token string) {
	if m.cache != nil {
		m.cache.forget(token)
	}
	if m.reference != nil {
		m.reference.Invalidate(token)
	}
}

// peekIssuer reads iss from a JWS payload that is not verified yet, only
// to choose the authority that will verify it. A payload that cannot be
// read is malformed, as it would be for any authority.
func peekIssuer(token string) (string, error) {
	dot1 := strings.IndexByte(token, '.')
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	payload, err := b64.DecodeString(token[dot1+1 : dot2])
	if err != nil {
		return "", errInvalidToken(ErrMalformed)
	}
	s := newScanner(stringOf(payload))
	if s.expect('{') != nil {
		return "", errInvalidToken(ErrMalformed)
	}
	if s.peek() == '}' {
		return "", nil
	}
	for {
		name, err := s.name()
		if err != nil || s.expect(':') != nil {
			return "", errInvalidToken(ErrMalformed)
		}
		if string(name) == "iss" {
			iss, err := s.str()
			if err != nil {
				return "", errInvalidToken(ErrMalformed)
			}
			// Copied: the payload's buffer is not kept.
			return strings.Clone(iss), nil
		}
		if s.skip(0) != nil {
			return "", errInvalidToken(ErrMalformed)
		}
		if s.peek() != ',' {
			return "", nil
		}
		s.i++
	}
}
