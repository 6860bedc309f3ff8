package bearer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/accesstoken/bearer/observe"
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
	// 20 of them (MaxResolved if fewer), the least
	// recently used closed first: they never push out a tenant in use.
	// Default 100. At most 20 new
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
	// choose its authority; default 16 KiB.
	MaxTokenSize int

	// Logger receives the logs about resolved authorities; default
	// slog.Default(). Each authority logs to its own Config.Logger.
	Logger *slog.Logger

	// RevocationStore, if set, carries the revocations of every authority
	// (each names its issuer), the logout tokens seen and the DPoP proofs
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
	Observer observe.Observer
}

// Bounds on resolved authorities.
const (
	defaultMaxResolved  = 100
	defaultResolveBurst = 20
	resolveInterval     = 100 * time.Millisecond
)

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
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	maxSize := cfg.MaxTokenSize
	if maxSize <= 0 {
		maxSize = defaultMaxTokenSize
	}
	v := newValidator(ctx, log, maxSize, cfg.Observer, cfg.RevocationStore, cfg.RevocationSyncTimeout, cfg.RequireRevocationSync)
	v.resolve, v.max, v.client = cfg.Resolve, cfg.MaxResolved, safeClient(nil)
	if v.max <= 0 {
		v.max = defaultMaxResolved
	}
	// The shared cache serves a token no later than its exp: a token within
	// an authority's leeway past exp is validated by that authority again.
	v.cache = newTokenCache(&settings{Config: Config{CacheSize: orDefault(cfg.CacheSize, defaultCacheSize), CacheDuration: orDefault(cfg.CacheDuration, defaultCacheDuration)}})
	for i, c := range cfg.Authorities {
		key := issuerKey(c.Authority)
		if _, dup := v.fixed[key]; dup {
			v.Close()
			return nil, fmt.Errorf("bearer: MultiConfig.Authorities[%d]: authority %q is listed twice", i, c.Authority)
		}
		a, err := v.startAuthority(c, v.newIssuerLocked(key, c))
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("bearer: MultiConfig.Authorities[%d]: %w", i, err)
		}
		v.fixed[key] = a
		v.order = append(v.order, c.Authority)
		if v.reference == nil && a.in != nil {
			v.reference = a
		}
	}
	v.subscribe(cfg.RevocationStore)
	return v, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// startAuthority is one authority of a Validator of several, whose revocations
// are its issuer's st, and which, unless its Config names an HTTPClient,
// shares the Validator's: tenants of one identity service reuse its
// connections, and a hundred authorities do not each keep a transport
// alive. It reports its fetches and calls to MultiConfig.Observer
// likewise, unless its Config names an Observer.
func (v *Validator) startAuthority(c Config, st *issuerState) (*authority, error) {
	if c.RevocationStore != nil || c.RevocationSyncTimeout != 0 || c.RequireRevocationSync {
		return nil, errors.New("bearer: the authorities of NewMulti share MultiConfig.RevocationStore, RevocationSyncTimeout and RequireRevocationSync; their Configs name none")
	}
	if c.HTTPClient == nil {
		c.HTTPClient = v.client
	}
	if c.Observer == nil {
		c.Observer = v.obs
	}
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	return newAuthority(v.ctx, s, v.replay, st)
}
