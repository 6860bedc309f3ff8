package bearer

import (
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accesstoken/bearer/observe"
)

// Mode chooses how tokens are validated.
type Mode int

const (
	// ModeAuto validates tokens shaped like a JWS locally and sends every
	// other token to the introspection endpoint. It is the default.
	ModeAuto Mode = iota
	// ModeJWT validates locally only; a token that is not a JWS is invalid.
	ModeJWT
	// ModeIntrospection sends every token, JWTs included, to the introspection
	// endpoint (IdentityServer3's ValidationEndpoint mode).
	ModeIntrospection
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeJWT:
		return "jwt"
	case ModeIntrospection:
		return "introspection"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Defaults for the zero values of Config. A negative value means none for
// Leeway and the cache settings, and is refused for the others.
const (
	defaultLeeway             = 60 * time.Second
	defaultMaxTokenSize       = 16 << 10
	defaultTimeout            = 5 * time.Second
	defaultKeyRefreshInterval = time.Hour
	defaultKeyRefreshWindow   = time.Second

	defaultCacheDuration         = time.Minute
	defaultInactiveCacheDuration = 10 * time.Second
	defaultCacheSize             = 10000

	defaultMaxIntrospectionCalls = 64
)

// defaultAlgorithms are the asymmetric JWS algorithms accepted when
// Config.Algorithms is empty: ML-DSA's too when the build verifies them
// (Go 1.27 and later).
var defaultAlgorithms = slices.Concat([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}, mldsaAlgorithms)

var supportedAlgorithms = append(slices.Clone(defaultAlgorithms), "HS256", "HS384", "HS512")

// Config configures a Validator (New) or an Introspector
// (NewIntrospector).
//
// New requires Authority, and Audience or RequiredScopes or both, so that
// tokens meant for other APIs are refused. NewIntrospector requires
// ClientID, and Authority or IntrospectionEndpoint. Every other field is
// optional, and its zero value is a safe default.
//
// One rule holds for every number and duration: zero means the default
// the field names. A negative value means none where none makes sense
// (Leeway, CacheDuration, InactiveCacheDuration, CacheSize) and is refused
// where it does not (MaxTokenSize, Timeout, KeyRefreshInterval,
// KeyRefreshWindow).
//
// A setting that means something only together with another is refused
// without it, rather than silently ignored: ClientSecret, a ClientAuth
// other than the default, IntrospectionEndpoint, IntrospectionJWT and
// IntrospectionCache need ClientID; ClientKey and ClientKeyID need ClientAuth
// PrivateKeyJWT, which takes no ClientSecret; SharedSecret needs an HS
// algorithm in Algorithms; JWKSURL and StaticKeys exclude each other.
// New and NewIntrospector say which rule a Config breaks.
type Config struct {
	// Authority is the issuer URL of the authorization server, for example
	// "https://login.example.com". Required by New. Its discovery document
	// must name the same issuer (a trailing slash here is tolerated);
	// tokens' iss must equal the discovered issuer exactly. With JWKSURL or
	// StaticKeys nothing is discovered: Authority is then the expected iss,
	// exactly.
	Authority string

	// Audience lists the accepted values of aud; a token must name at least
	// one. If empty, aud is not checked and RequiredScopes must not be empty,
	// so that every accepted token is bound to this API somehow.
	// NewIntrospector refuses it: it reports the endpoint's answer, whose
	// aud the caller checks (Result.Audience), or a Validator does.
	Audience []string

	// RequiredScopes is checked for every request (see AnyOf, AllOf); it
	// may hold an authentication context too (ACR, MaxAge), and the
	// middleware can add per-route requirements. Without Audience, every
	// way to meet it must name a scope. NewIntrospector refuses it, as it
	// does Audience.
	RequiredScopes Requirement

	// Mode selects local validation (ModeJWT), introspection
	// (ModeIntrospection) or each by the token's shape (ModeAuto, the default).
	// In ModeJWT the introspection fields are unused (ClientID still names
	// the API to LogoutHandler). NewIntrospector introspects every token:
	// it refuses ModeJWT.
	Mode Mode

	// Algorithms is the JWS algorithm allow-list; default RS256/384/512,
	// PS256/384/512, ES256/384/512, EdDSA and, when built with Go 1.27 or
	// later, ML-DSA-44/65/87 (RFC 9964; New refuses them with older
	// toolchains). "none" is never accepted; HS256/384/512 only with
	// SharedSecret.
	Algorithms []string

	// SharedSecret enables HMAC-signed tokens: at least 32 bytes, and
	// HS256, HS384 or HS512 listed in Algorithms (New refuses a secret no
	// listed algorithm would use). A Validator only: NewIntrospector
	// refuses it, since signed introspection responses are verified with
	// the authority's public keys.
	SharedSecret []byte

	// StaticKeys, if set, replaces discovery and the JWKS: PEM blocks
	// (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE), a JWK, or a JWK Set.
	// They are never refreshed.
	StaticKeys []byte

	// JWKSURL, if set, replaces discovery: the authority's keys are fetched
	// from this JWK Set URL, for authorities that publish no discovery
	// document (some identity providers, Kubernetes service-account
	// issuers). The keys are kept as discovered ones are: refreshed in the
	// background, fetched again for an unknown kid, the last good set kept
	// while the URL fails. Authority is then the expected iss, exactly, and
	// introspection needs IntrospectionEndpoint. It must be an absolute
	// http(s) URL, https if Authority is.
	JWKSURL string

	// StrictTokenType accepts only typ "at+jwt" (RFC 9068). By default
	// "at+jwt", "application/at+jwt", "JWT" and no typ are accepted.
	// NewIntrospector refuses it.
	StrictTokenType bool

	// Leeway is the clock skew allowed on exp, nbf and iat. Zero means
	// 60 seconds; a negative value means none.
	Leeway time.Duration

	// MaxTokenSize bounds a token's length in bytes before any parsing.
	// Zero means 16 KiB; a negative value is refused.
	MaxTokenSize int

	// Timeout bounds how long one request waits on the authority (discovery,
	// a key refresh, an introspection call). Zero means 5 seconds; a
	// negative value is refused.
	Timeout time.Duration

	// KeyRefreshInterval is how often the JWKS is refreshed in the
	// background (with ±10% jitter). Zero means an hour;
	// a negative value is refused.
	KeyRefreshInterval time.Duration

	// KeyRefreshWindow spaces the JWKS fetches that tokens with unknown
	// key IDs cause: after a burst of three, at most one per window. Zero
	// means a second; a negative value is refused, since
	// nothing would then space them. It only delays fetches: a token is
	// refused for an unknown kid only once a fetch begun after its request
	// arrived lacks the kid, and a request that cannot get such a fetch
	// within Timeout gets 503. Keep it well below Timeout, so that a token
	// signed with a key published a moment ago is accepted on its first
	// request even while such fetches are being spaced out.
	KeyRefreshWindow time.Duration

	// MaxKeySetAge bounds how old the last good JWK Set may grow while
	// the JWKS endpoint fails (Status.KeysFetched gives its age). Zero
	// means no bound: the last good keys verify tokens through an outage
	// of any length, and a key the authority withdrew meanwhile (a
	// compromise) keeps verifying until the endpoint answers. Past the
	// bound, tokens that need the keys get 503, never 401, until a fetch
	// succeeds; tokens validated before stay cached up to CacheDuration.
	// It must be at least KeyRefreshInterval, since the set is that old
	// at every refresh. Not for StaticKeys, which never age.
	MaxKeySetAge time.Duration

	// HTTPClient is used for every request to the authority. By default a
	// client with timeouts that refuses redirects to another host. Response
	// bodies are capped at 1 MiB whichever client is used.
	HTTPClient *http.Client

	// Logger receives the package's logs; default slog.Default(). Tokens
	// are never logged, only a short hash of them.
	Logger *slog.Logger

	// ClientID and ClientSecret are this API's own credentials at the
	// authority's introspection endpoint (RFC 7662 §2.1). A ClientID turns
	// introspection on: without one, ModeAuto refuses every token that is
	// not a JWT as malformed (ErrMalformed) and ModeIntrospection is
	// refused. ClientID is also the aud of the logout tokens LogoutHandler
	// accepts. ClientSecret is required with ClientSecretBasic and
	// ClientSecretPost, except in ModeJWT, which introspects nothing: a
	// JWT-only API that receives sign-outs sets ClientID alone. It is
	// refused without ClientID or with PrivateKeyJWT.
	ClientID     string
	ClientSecret string

	// ClientAuth is how the API authenticates to the introspection
	// endpoint; default ClientSecretBasic. Another value needs ClientID.
	ClientAuth ClientAuth

	// ClientKey signs the RFC 7523 assertion when ClientAuth is
	// PrivateKeyJWT: an *rsa.PrivateKey (RS256), an *ecdsa.PrivateKey
	// (ES256, ES384 or ES512 by curve) or an ed25519.PrivateKey (EdDSA).
	// ClientKeyID, if set, is sent as the assertion's kid. Both are
	// refused with another ClientAuth.
	ClientKey   crypto.Signer
	ClientKeyID string

	// IntrospectionEndpoint, if set, is used instead of the discovery
	// document's introspection_endpoint. With it, and without
	// IntrospectionJWT, NewIntrospector needs no Authority. It needs
	// ClientID.
	IntrospectionEndpoint string

	// IntrospectionJWT asks for signed introspection responses (RFC 9701)
	// and accepts nothing else: the response must be signed with the
	// authority's keys, typed token-introspection+jwt, issued by the
	// authority and addressed to ClientID, which it needs.
	IntrospectionJWT bool

	// CacheDuration is the longest a validation result is reused: a JWT
	// that passed validation (its signature is then not checked again) or
	// an active introspection answer (a token revoked at the authority can
	// still be accepted for this long). Nothing is reused past the token's
	// exp. Zero means a minute; a negative value turns both
	// caches off.
	CacheDuration time.Duration

	// InactiveCacheDuration is how long an inactive answer is remembered,
	// so that a client replaying a bad token does not cost a call per
	// request. Zero means 10 seconds; a negative value
	// turns it off.
	InactiveCacheDuration time.Duration

	// CacheSize bounds each in-memory cache (validated JWTs, introspection
	// answers) to this many tokens. Zero means 10 000; a negative
	// value turns both off. The least recently used go first. While
	// almost no JWT comes back (fewer than one hit per 16 misses), the JWT
	// cache keeps a token only on its second sight and empties, so that
	// one-use tokens cost what they would with caching off.
	CacheSize int

	// IntrospectionCache, if set, keeps introspection results instead of the
	// in-memory cache, for example one shared by several replicas. It
	// needs ClientID.
	IntrospectionCache IntrospectionCache

	// MaxIntrospectionCalls bounds the introspection requests in flight at
	// once, per Validator or Introspector, so that requests carrying tokens
	// never seen before (random invalid ones, say) cannot make the API
	// flood its authority, nor pile up goroutines while it is slow. Beyond
	// the bound, a token that is neither cached nor already being asked
	// about is not queued: it gets ErrUnavailable (503, Retry-After 1 s) at
	// once. Default 64, which at 50 ms a call
	// still judges over a thousand new tokens a second; a negative value
	// means no bound.
	MaxIntrospectionCalls int

	// MaxTokenLifetime is the longest an access token of the authority
	// lives, from iat to exp; default 24 hours, and New
	// refuses a negative one. A
	// revocation is kept this long (and twice Leeway) after the latest a
	// token it matches can have been issued: a token that lives longer
	// is accepted again once its revocation is forgotten.
	MaxTokenLifetime time.Duration

	// SessionOnlyLogout makes a logout token that names a session (sid)
	// revoke only the tokens of that session. By default it also revokes
	// the tokens of its subject (sub) that carry no sid and were issued
	// at or before it (iat), since they may belong to the session.
	SessionOnlyLogout bool

	// RevocationStore, if set, carries revocations and the logout tokens
	// received between the replicas of this API; by default they stay in
	// this process. See RevocationStore.
	RevocationStore RevocationStore

	// RevocationSyncTimeout bounds how long Ready waits for the
	// RevocationStore to deliver the revocations in force when the
	// Validator started; until they arrive, a token revoked on another
	// replica is accepted here (Status.RevocationsSynced says whether they
	// have). Once it passes, Ready returns and the replica serves with what
	// it holds, unless RequireRevocationSync. Zero means
	// 10 seconds; a negative value, no wait.
	RevocationSyncTimeout time.Duration

	// RequireRevocationSync, with a RevocationStore, fails closed until the
	// store has delivered the revocations in force: every token that
	// would be accepted gets 503 (ErrUnavailable, Retry-After), and Ready
	// waits for them as long as its context allows. No replica then
	// accepts a token the others refuse, but one that starts while the
	// store is down serves nothing until it is back. See docs/replicas.md.
	RequireRevocationSync bool

	// DPoP says how DPoP-bound tokens (RFC 9449) are accepted; the zero
	// value accepts them with proofs, and unbound tokens as Bearer
	// tokens. See DPoPConfig. Certificate-bound tokens (RFC 8705) need no
	// setting: see Presentation.ClientCertificate.
	DPoP DPoPConfig

	// Observer, if set, is told of every validation, fetch of the
	// authority's metadata or keys, and introspection call, for metrics
	// and traces (see package observe and the adapters/otel module).
	Observer observe.Observer
}

// settings is Config with defaults applied and inputs checked.
type settings struct {
	Config
	issuer     string // expected iss for static keys; discovery may refine
	algorithms []string
	leeway     time.Duration
	ownClient  bool // HTTPClient was made here, so Close may close its connections
	standalone bool // an Introspector of NewIntrospector's: it serves no request (see consequence)
}

func (c Config) settings() (*settings, error) {
	if c.Authority == "" {
		return nil, errors.New("bearer: Config.Authority is required")
	}
	s, err := c.baseSettings()
	if err != nil {
		return nil, err
	}
	if len(c.Audience) == 0 && !c.RequiredScopes.needsScope() {
		return nil, errors.New("bearer: set Config.Audience or Config.RequiredScopes, so that tokens for other APIs are refused")
	}
	if bad := c.RequiredScopes.malformed(); bad != "" {
		return nil, fmt.Errorf("bearer: Config.RequiredScopes: %q is not a scope-token (RFC 6749 §3.3) or an ACRAtLeast level, so no token could ever meet it", bad)
	}
	if slices.Contains(c.Audience, "") {
		return nil, errors.New("bearer: Config.Audience contains an empty string")
	}
	if c.Mode < ModeAuto || c.Mode > ModeIntrospection {
		return nil, fmt.Errorf("bearer: unknown Config.Mode %d", int(c.Mode))
	}
	if c.Mode == ModeIntrospection && c.ClientID == "" {
		return nil, errors.New("bearer: ModeIntrospection needs Config.ClientID")
	}
	for _, alg := range s.algorithms {
		if !slices.Contains(supportedAlgorithms, alg) {
			if slices.Contains(mldsaNames, alg) {
				return nil, fmt.Errorf("bearer: algorithm %s needs Go 1.27 or later (crypto/mldsa)", alg)
			}
			return nil, fmt.Errorf("bearer: algorithm %q is not supported", alg)
		}
		if strings.HasPrefix(alg, "HS") && len(c.SharedSecret) == 0 {
			return nil, fmt.Errorf("bearer: algorithm %s needs Config.SharedSecret", alg)
		}
	}
	if len(c.SharedSecret) > 0 && len(c.SharedSecret) < 32 {
		return nil, errors.New("bearer: Config.SharedSecret must be at least 32 bytes")
	}
	if len(c.SharedSecret) > 0 && !slices.ContainsFunc(s.algorithms, func(alg string) bool { return strings.HasPrefix(alg, "HS") }) {
		return nil, errors.New("bearer: Config.SharedSecret is set but Config.Algorithms lists no HS256, HS384 or HS512 to use it")
	}
	return s, nil
}

// checkIntrospectorFields refuses the fields NewIntrospector would
// otherwise ignore: those that judge a token rather than ask about it.
func (c Config) checkIntrospectorFields() error {
	switch {
	case len(c.Audience) > 0, !c.RequiredScopes.IsZero():
		return errors.New("bearer: NewIntrospector does not check Config.Audience or Config.RequiredScopes: check the Result's Audience and Scopes, or use a Validator")
	case c.Mode == ModeJWT:
		return errors.New("bearer: NewIntrospector introspects every token: Config.Mode ModeJWT makes no sense for it")
	case len(c.SharedSecret) > 0:
		return errors.New("bearer: NewIntrospector takes no Config.SharedSecret: signed responses are verified with the authority's public keys")
	case c.StrictTokenType:
		return errors.New("bearer: NewIntrospector takes no Config.StrictTokenType: it checks no access token's typ")
	case c.RevocationStore != nil, c.SessionOnlyLogout, c.MaxTokenLifetime > 0, c.RevocationSyncTimeout != 0, c.RequireRevocationSync:
		return errors.New("bearer: NewIntrospector takes no Config.RevocationStore, SessionOnlyLogout, MaxTokenLifetime, RevocationSyncTimeout or RequireRevocationSync: revocations are a Validator's")
	}
	return nil
}

// checkNumbers applies the rule for negative values: none where none
// makes sense, refused where it does not.
func (c Config) checkNumbers() error {
	for _, f := range []struct {
		name     string
		negative bool
	}{
		{"MaxTokenSize", c.MaxTokenSize < 0},
		{"Timeout", c.Timeout < 0},
		{"KeyRefreshInterval", c.KeyRefreshInterval < 0},
		{"KeyRefreshWindow", c.KeyRefreshWindow < 0},
		{"MaxKeySetAge", c.MaxKeySetAge < 0},
		{"MaxTokenLifetime", c.MaxTokenLifetime < 0},
	} {
		if f.negative {
			return fmt.Errorf("bearer: Config.%s is negative; zero means the default", f.name)
		}
	}
	return nil
}

// checkDependencies refuses a setting given without the one it needs,
// which would otherwise be ignored.
func (c Config) checkDependencies() error {
	if c.ClientID == "" {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"ClientSecret", c.ClientSecret != ""},
			{"ClientAuth", c.ClientAuth != ClientSecretBasic},
			{"IntrospectionEndpoint", c.IntrospectionEndpoint != ""},
			{"IntrospectionJWT", c.IntrospectionJWT},
			{"IntrospectionCache", c.IntrospectionCache != nil},
		} {
			if f.set {
				return fmt.Errorf("bearer: Config.%s is set without Config.ClientID, the API's client at the introspection endpoint", f.name)
			}
		}
	}
	if c.ClientAuth != PrivateKeyJWT && (c.ClientKey != nil || c.ClientKeyID != "") {
		return errors.New("bearer: Config.ClientKey and Config.ClientKeyID are for ClientAuth PrivateKeyJWT")
	}
	if c.ClientAuth == PrivateKeyJWT && c.ClientSecret != "" {
		return errors.New("bearer: Config.ClientSecret is not used with ClientAuth PrivateKeyJWT")
	}
	if c.StaticKeys != nil && c.MaxKeySetAge != 0 {
		return errors.New("bearer: Config.MaxKeySetAge bounds the age of fetched keys: StaticKeys never age")
	}
	if c.JWKSURL != "" && c.StaticKeys != nil {
		return errors.New("bearer: Config.JWKSURL and Config.StaticKeys exclude each other")
	}
	return nil
}

// leeway is Leeway with its default: zero means defaultLeeway, a
// negative one none.
func (c Config) leeway() time.Duration {
	switch {
	case c.Leeway == 0:
		return defaultLeeway
	case c.Leeway < 0:
		return 0
	}
	return c.Leeway
}

// baseSettings applies what a Validator and a standalone Introspector
// share; settings adds what only a Validator needs.
func (c Config) baseSettings() (*settings, error) {
	if err := c.checkNumbers(); err != nil {
		return nil, err
	}
	if err := c.checkDependencies(); err != nil {
		return nil, err
	}
	s := &settings{Config: c}
	if c.Authority != "" && c.StaticKeys == nil {
		u, err := url.Parse(c.Authority)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("bearer: Config.Authority %q is not an absolute http(s) URL without query or fragment", c.Authority)
		}
	}
	if c.JWKSURL != "" {
		if err := checkEndpoint(c.JWKSURL, strings.HasPrefix(c.Authority, "https:")); err != nil {
			return nil, fmt.Errorf("bearer: Config.JWKSURL: %w", err)
		}
	}
	s.issuer = c.Authority
	s.algorithms = c.Algorithms
	if len(s.algorithms) == 0 {
		s.algorithms = defaultAlgorithms
	}
	s.leeway = c.leeway()
	if s.MaxTokenSize == 0 {
		s.MaxTokenSize = defaultMaxTokenSize
	}
	if s.Timeout == 0 {
		s.Timeout = defaultTimeout
	}
	if s.KeyRefreshInterval == 0 {
		s.KeyRefreshInterval = defaultKeyRefreshInterval
	}
	if s.KeyRefreshWindow == 0 {
		s.KeyRefreshWindow = defaultKeyRefreshWindow
	}
	if s.MaxKeySetAge != 0 && s.MaxKeySetAge < s.KeyRefreshInterval {
		return nil, fmt.Errorf("bearer: Config.MaxKeySetAge (%v) is shorter than KeyRefreshInterval (%v): the keys are that old at every refresh, and one failed refresh would refuse every token", s.MaxKeySetAge, s.KeyRefreshInterval)
	}
	if s.CacheDuration == 0 {
		s.CacheDuration = defaultCacheDuration
	}
	if s.InactiveCacheDuration == 0 {
		s.InactiveCacheDuration = defaultInactiveCacheDuration
	}
	if s.CacheSize == 0 {
		s.CacheSize = defaultCacheSize
	}
	if s.MaxIntrospectionCalls == 0 {
		s.MaxIntrospectionCalls = defaultMaxIntrospectionCalls
	}
	if err := s.checkIntrospection(); err != nil {
		return nil, err
	}
	s.ownClient = c.HTTPClient == nil
	s.HTTPClient = safeClient(c.HTTPClient)
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s, nil
}
