package bearer

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accesstoken/bearer/observe"
)

// ClientAuth is how an API authenticates to the introspection endpoint.
type ClientAuth int

const (
	// ClientSecretBasic sends ClientID and ClientSecret in an HTTP Basic
	// Authorization header, each form-urlencoded first as RFC 6749 §2.3.1
	// requires. It is the default.
	ClientSecretBasic ClientAuth = iota
	// ClientSecretPost sends client_id and client_secret in the form body.
	ClientSecretPost
	// PrivateKeyJWT sends an RFC 7523 assertion signed with ClientKey.
	PrivateKeyJWT
)

// String returns the method's name in OAuth 2.0 metadata, such as
// "client_secret_basic".
func (a ClientAuth) String() string {
	switch a {
	case ClientSecretBasic:
		return "client_secret_basic"
	case ClientSecretPost:
		return "client_secret_post"
	case PrivateKeyJWT:
		return "private_key_jwt"
	}
	return fmt.Sprintf("ClientAuth(%d)", int(a))
}

// Result is an introspection response (RFC 7662 §2.2). The embedded
// Claims hold its typed members (sub, scope, exp, …); Map and Decode give
// every member, and encoding/json marshals a Result as it was received.
//
// Results are cached, but each caller of Introspect gets a copy of its
// own: changing it changes nothing for other callers.
type Result struct {
	// Active is true only if the response's active member is the JSON
	// boolean true. A string "true", a missing member or false all mean
	// the token is not active, and the other members are then ignored.
	Active bool
	// Username is the username member: the resource owner who authorized
	// the token, if the authority says.
	Username string
	// TokenType is the token_type member, such as "Bearer".
	TokenType string
	*Claims

	hasExp bool // exp was given: ExpiresAt may be the zero time and still be meant
	// The token_use (Ory Hydra, Amazon Cognito) and typ (Keycloak)
	// members, which say what kind of token this is.
	tokenUse, typ string
}

// resultBlock is a Result with room for its Claims, so that a copy is one
// allocation.
type resultBlock struct {
	Result
	claims claimsBlock
}

// clone returns a copy of r that shares nothing a caller can change.
func (r *Result) clone() *Result {
	b := &resultBlock{Result: *r}
	if r.Claims != nil {
		b.Claims = r.Claims.cloneInto(&b.claims)
	}
	return &b.Result
}

// UnmarshalJSON reads an introspection response with the rules Introspect
// applies, so that a custom IntrospectionCache can keep Results as the
// JSON that encoding/json makes of them.
func (r *Result) UnmarshalJSON(b []byte) error {
	res, err := parseResult(string(b))
	if err != nil {
		return err
	}
	*r = *res
	return nil
}

var errNotObject = errors.New("not a JSON object")

// parseResult reads a response body, which it keeps, in one pass with the
// decoder of JWT payloads. Only an active response must be well-typed:
// RFC 7662 §2.2 lets an inactive one say nothing else, so an ill-typed
// member is held against it only if active is true.
func parseResult(body string) (*Result, error) {
	if !isObject(bytesOf(body)) {
		return nil, errNotObject
	}
	var r wireResult
	if err := decodeObject(body, nil, &r); err != nil {
		return nil, err
	}
	if !r.active {
		return &Result{Claims: &Claims{raw: body}}, nil
	}
	if r.typeErr != nil {
		return nil, r.typeErr
	}
	return &Result{Active: true, Username: r.username, TokenType: r.tokenType, Claims: r.claims(body),
		hasExp: r.Exp.set, tokenUse: r.tokenUse, typ: r.typ}, nil
}

// accessToken reports whether what an active answer says of the token's
// kind, if anything, is that it is an access token. An authority may
// answer active for a refresh or ID token (RFC 7662 §2.1 lets the caller
// ask about either), which must not be usable as an access token:
//   - token_type (RFC 7662 §2.2, a type of RFC 6749 §7.1 or an RFC 8693
//     token type identifier): Bearer, DPoP, access_token or
//     urn:ietf:params:oauth:token-type:access_token;
//   - token_use (Ory Hydra, Amazon Cognito): access_token or access;
//   - typ (Keycloak): Bearer, DPoP, at+jwt or application/at+jwt;
//
// each compared without regard to case. A member that is absent or empty
// says nothing; any other value (refresh_token, Refresh, Offline, ID,
// id_token, N_A, …) means another kind of token.
func (r *Result) accessToken() bool {
	switch strings.ToLower(r.TokenType) {
	case "", "bearer", "dpop", "access_token", "urn:ietf:params:oauth:token-type:access_token":
	default:
		return false
	}
	switch strings.ToLower(r.tokenUse) {
	case "", "access_token", "access":
	default:
		return false
	}
	switch strings.ToLower(r.typ) {
	case "", "bearer", "dpop", "at+jwt", "application/at+jwt":
	default:
		return false
	}
	return true
}

// wireResult is a response as it is decoded.
type wireResult struct {
	wireClaims
	active              bool // the active member is the JSON true
	username, tokenType string
	tokenUse, typ       string
	typeErr             error // the first member of the wrong type
}

// Bits of the members of a response beyond those of wireClaims.
const (
	seenActive = seenEvents << (1 + iota)
	seenUsername
	seenTokenType
	seenTokenUse
	seenTyp
)

// resultMembers are the members of a response parseResult reads.
var resultMembers = []string{"active", "username", "token_type", "token_use", "typ",
	"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "scp", "sid", "cnf",
	"authorization_details", "act", "may_act"}

// member decodes a member of a response. (decodeObject refuses a name
// equal to one of resultMembers only when case is ignored, which
// encoding/json would read as that member, so that a store's
// {"Active":true} is never active.) A value of the wrong type is skipped
// and remembered; active is true only if it is the literal true, so that
// "true" or 1 mean inactive.
func (r *wireResult) member(s *jsonScanner, name []byte) (uint, error) {
	var bit uint
	var err error
	start := s.i
	switch string(name) {
	case "active":
		if r.active = s.peek() == 't'; r.active {
			err = s.literal("true")
		} else {
			err = s.skip(0)
		}
		bit = seenActive
	case "username":
		r.username, err = s.optString()
		bit = seenUsername
	case "token_type":
		r.tokenType, err = s.optString()
		bit = seenTokenType
	case "token_use":
		r.tokenUse, err = s.optString()
		bit = seenTokenUse
	case "typ":
		r.typ, err = s.optString()
		bit = seenTyp
	default:
		bit, err = r.wireClaims.member(s, name)
	}
	if err != nil {
		// Tell a value of the wrong type from malformed JSON.
		s.i = start
		if err := s.skip(0); err != nil {
			return 0, err
		}
		if r.typeErr == nil {
			r.typeErr = fmt.Errorf("member %q: %w", name, err)
		}
	}
	return bit, nil
}

// Introspector asks the authority's introspection endpoint (RFC 7662)
// whether tokens are active. It caches the answers and turns concurrent
// questions about one token into a single request. It is what a Validator
// uses for reference tokens, and can be used on its own, with or without
// net/http. It is safe for concurrent use.
type Introspector struct {
	s      *settings
	p      *provider // nil when there is nothing to discover
	ownP   bool      // p was started by NewIntrospector: Close stops it
	store  IntrospectionCache
	basic  string            // Authorization value for ClientSecretBasic
	method jwt.SigningMethod // for PrivateKeyJWT
	gen    atomic.Uint64     // bumped by Forget

	// Calls run on workers, detached from any caller, under ctx; Close
	// cancels it and waits for them.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	limit    int     // Config.MaxIntrospectionCalls; 0 for no bound
	failures episode // calls that failed: an outage, to log as one
	refusals episode // calls refused at the bound

	mu       sync.Mutex
	calls    map[string]*call // under way, by cache key
	inflight int              // calls under way, forgotten ones too
	idle     []chan func()    // workers waiting for a call
	closed   bool
}

// call is one introspection request, shared by the callers that want the
// same token judged while it runs.
type call struct {
	done chan struct{} // closed when res and err are set
	res  *Result
	err  error
}

// NewIntrospector returns a client for the introspection endpoint, which
// is Config.IntrospectionEndpoint or else discovered from Config.Authority.
// It reads the introspection fields of cfg (ClientID, ClientSecret,
// ClientAuth, ClientKey, IntrospectionJWT, MaxIntrospectionCalls, the
// Cache fields) and Authority, Timeout, MaxTokenSize, Algorithms, Leeway,
// HTTPClient and Logger, and for signed responses JWKSURL or StaticKeys
// and the KeyRefresh fields. ClientID is required. It refuses what only a
// Validator uses (Audience, RequiredScopes, ModeJWT, SharedSecret,
// StrictTokenType) rather than ignore it: it reports answers, it does not
// judge them. It does not wait for the authority: discovery runs in the
// background. Call Close when done.
func NewIntrospector(cfg Config) (*Introspector, error) {
	if err := cfg.checkIntrospectorFields(); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, errors.New("bearer: NewIntrospector needs Config.ClientID")
	}
	if cfg.Authority == "" && cfg.IntrospectionEndpoint == "" {
		return nil, errors.New("bearer: NewIntrospector needs Config.Authority or Config.IntrospectionEndpoint")
	}
	s, err := cfg.baseSettings()
	if err != nil {
		return nil, err
	}
	// Keys are fetched only if responses are signed (see provider.discover).
	s.Mode = ModeIntrospection
	s.standalone = true
	var p *provider
	if s.IntrospectionEndpoint == "" || s.IntrospectionJWT {
		if p, err = newProvider(context.Background(), s); err != nil {
			return nil, err
		}
	}
	in := newIntrospector(s, p, context.Background())
	in.ownP = p != nil
	return in, nil
}

// newIntrospector returns an Introspector whose calls end with parent.
// s must have been checked by checkIntrospection.
func newIntrospector(s *settings, p *provider, parent context.Context) *Introspector {
	in := &Introspector{s: s, p: p, store: s.IntrospectionCache, calls: make(map[string]*call), limit: max(s.MaxIntrospectionCalls, 0)}
	switch {
	case in.store != nil:
	case s.CacheSize < 0:
		in.store = noStore{}
	default:
		in.store = newMemoryStore(s.CacheSize)
	}
	switch s.ClientAuth {
	case ClientSecretBasic:
		creds := url.QueryEscape(s.ClientID) + ":" + url.QueryEscape(s.ClientSecret)
		in.basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(creds))
	case PrivateKeyJWT:
		in.method, _ = assertionMethod(s.ClientKey)
	}
	in.ctx, in.cancel = context.WithCancel(parent)
	return in
}

// checkIntrospection checks the introspection fields of Config.
func (s *settings) checkIntrospection() error {
	if s.ClientAuth < ClientSecretBasic || s.ClientAuth > PrivateKeyJWT {
		return fmt.Errorf("bearer: unknown Config.ClientAuth %d", int(s.ClientAuth))
	}
	if s.ClientID == "" {
		return nil
	}
	// In ModeJWT a ClientID is only the aud of logout tokens: nothing is
	// introspected, so no credentials are needed.
	introspects := s.Mode != ModeJWT
	if s.ClientAuth == PrivateKeyJWT {
		if s.ClientKey != nil || introspects {
			if _, err := assertionMethod(s.ClientKey); err != nil {
				return err
			}
		}
	} else if s.ClientSecret == "" && introspects {
		return fmt.Errorf("bearer: Config.ClientSecret is required with %v: Config.ClientID turns introspection on "+
			"(an API that only needs ClientID as the audience of logout tokens sets Mode ModeJWT and no secret)", s.ClientAuth)
	}
	if s.IntrospectionEndpoint != "" {
		if err := checkEndpoint(s.IntrospectionEndpoint, isHTTPS(s.Authority)); err != nil {
			return fmt.Errorf("bearer: Config.IntrospectionEndpoint: %w", err)
		}
	}
	if (s.StaticKeys != nil || s.JWKSURL != "") && s.IntrospectionEndpoint == "" && s.Mode != ModeJWT {
		return errors.New("bearer: with Config.StaticKeys or Config.JWKSURL nothing is discovered: set Config.IntrospectionEndpoint")
	}
	if s.IntrospectionJWT && s.Authority == "" {
		return errors.New("bearer: Config.IntrospectionJWT needs Config.Authority, whose keys sign the responses")
	}
	return nil
}

// assertionMethod picks the JWS algorithm for a private_key_jwt key.
func assertionMethod(key crypto.Signer) (jwt.SigningMethod, error) {
	switch k := key.(type) {
	case nil:
		return nil, errors.New("bearer: Config.ClientKey is required with private_key_jwt")
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("bearer: Config.ClientKey: RSA key of %d bits is shorter than %d", k.N.BitLen(), minRSABits)
		}
		return jwt.SigningMethodRS256, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jwt.SigningMethodES256, nil
		case elliptic.P384():
			return jwt.SigningMethodES384, nil
		case elliptic.P521():
			return jwt.SigningMethodES512, nil
		}
		return nil, errors.New("bearer: Config.ClientKey: unsupported elliptic curve")
	case ed25519.PrivateKey:
		return jwt.SigningMethodEdDSA, nil
	}
	return nil, fmt.Errorf("bearer: Config.ClientKey: unsupported key type %T", key)
}

// retryAfterIntrospection is the Retry-After of a failed introspection.
// Failures are not cached, so it only spaces out clients' retries.
const retryAfterIntrospection = 5 * time.Second

// retryAfterBusy is the Retry-After of a call refused at the bound: calls
// under way end within Timeout, most far sooner.
const retryAfterBusy = time.Second

var (
	errIntrospectorClosed = errors.New("introspector closed")
	errTooManyCalls       = errors.New("introspection calls at Config.MaxIntrospectionCalls")
	errNoEndpoint         = errors.New("the authority publishes no introspection_endpoint")
	errCredentialsRefused = errors.New("the introspection endpoint refused the API's credentials")
)

// Introspect asks whether token is active. An inactive token is not an
// error: the Result says Active false. Errors are *Error values: ErrNoToken
// for an empty token, ErrInvalidToken (ErrTooLarge) for one longer than
// Config.MaxTokenSize, and ErrUnavailable when no answer could be had (the
// endpoint unreachable, slow, failing or refusing the API's credentials, a
// response that is not JSON or too large, Config.MaxIntrospectionCalls
// calls already under way, or ctx done first); errors are never cached.
//
// Answers are cached (see Config.CacheDuration). Concurrent calls for the
// same token share one request, which runs on its own, bounded by
// Config.Timeout: a caller whose ctx ends returns at once without
// cancelling it for the others. Each call returns a Result of its own, so
// that changing it changes nothing for other callers or the cache.
func (in *Introspector) Introspect(ctx context.Context, token string) (*Result, error) {
	r, err := in.introspect(ctx, token)
	if err != nil {
		return nil, err
	}
	return r.clone(), nil
}

// introspect is Introspect without the copy: its Result may be shared
// with other callers and the cache, and must not be changed or handed out.
func (in *Introspector) introspect(ctx context.Context, token string) (*Result, error) {
	r, _, err := in.lookup(ctx, token)
	return r, err
}

// lookup is introspect that also reports whether the answer came from the
// cache, for an Observer.
func (in *Introspector) lookup(ctx context.Context, token string) (*Result, bool, error) {
	if token == "" {
		return nil, false, errNoToken()
	}
	if len(token) > in.s.MaxTokenSize {
		return nil, false, errInvalidToken(ErrTooLarge)
	}
	key := cacheKey(token)
	if r, ok := in.store.Get(ctx, key); ok {
		return r, true, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, false, errUnavailable(err, retryAfterIntrospection)
	}
	c := in.join(ctx, key, token)
	select {
	case <-c.done:
		return c.res, false, c.err
	case <-ctx.Done():
		return nil, false, errUnavailable(fmt.Errorf("waiting for introspection: %w", ctx.Err()), retryAfterIntrospection)
	}
}

// join returns the call under way for key, or starts one if fewer than
// in.limit are under way. Beyond the limit it answers at once rather than
// queue: a queue would let a flood of new tokens hold goroutines and make
// every later token wait.
func (in *Introspector) join(ctx context.Context, key, token string) *call {
	in.mu.Lock()
	if c := in.calls[key]; c != nil {
		in.mu.Unlock()
		return c
	}
	if in.closed {
		in.mu.Unlock()
		return failed(errUnavailable(errIntrospectorClosed, retryAfterIntrospection))
	}
	if in.limit > 0 && in.inflight >= in.limit {
		in.mu.Unlock()
		if first, n, since := in.refusals.event(time.Now()); first || n > 0 {
			in.s.Logger.WarnContext(ctx, "bearer: introspection calls at Config.MaxIntrospectionCalls; "+in.s.consequence("requests with new tokens get 503", "Introspect returns ErrUnavailable for new tokens"),
				"limit", in.limit, "refused", n, "since", since)
		}
		return failed(errUnavailable(errTooManyCalls, retryAfterBusy))
	}
	c := &call{done: make(chan struct{})}
	in.calls[key] = c
	in.inflight++
	gen := in.gen.Load()
	var cause context.Context
	if in.s.Observer != nil {
		cause = causeOf(ctx)
	}
	in.work(func() {
		c.res, c.err = in.flight(cause, key, token, gen)
		in.mu.Lock()
		if in.calls[key] == c {
			delete(in.calls, key)
		}
		in.inflight--
		idle := in.inflight == 0
		in.mu.Unlock()
		if idle {
			in.unbusy()
		}
		close(c.done)
	})
	in.mu.Unlock()
	return c
}

// unbusy logs the end of a run of calls refused at the bound, if one was
// under way: no call is left.
func (in *Introspector) unbusy() {
	if total, since, ok := in.refusals.end(); ok {
		in.s.Logger.InfoContext(in.ctx, "bearer: introspection calls below Config.MaxIntrospectionCalls again",
			"limit", in.limit, "refused", total, "since", since)
	}
}

// failed returns a call that is over, with err.
func failed(err error) *call {
	c := &call{done: make(chan struct{}), err: err}
	close(c.done)
	return c
}

// workerIdle is how long a worker waits for another call before it ends;
// a variable for tests.
var workerIdle = 30 * time.Second

// work runs f on an idle worker, or on a new one. It is called with in.mu
// held and in.closed false, so that Close waits for every worker.
//
// Workers outlive a call because net/http grows a goroutine's stack to
// tens of kilobytes: with a fresh goroutine per call, as
// singleflight.DoChan makes, the copying cost about 9µs per call, a tenth
// of a request to a loopback endpoint.
func (in *Introspector) work(f func()) {
	if n := len(in.idle); n > 0 {
		w := in.idle[n-1] // the most recent: the others may time out
		in.idle = in.idle[:n-1]
		w <- f // buffered: never blocks
		return
	}
	w := make(chan func(), 1)
	in.wg.Add(1)
	go in.worker(w, f)
}

// worker runs f, then whatever work hands it, until it has been idle for
// workerIdle or the Introspector closes.
func (in *Introspector) worker(w chan func(), f func()) {
	defer in.wg.Done()
	timer := time.NewTimer(workerIdle)
	defer timer.Stop()
	for {
		f()
		in.mu.Lock()
		if in.closed {
			in.mu.Unlock()
			return
		}
		in.idle = append(in.idle, w)
		in.mu.Unlock()
		timer.Reset(workerIdle)
		select {
		case f = <-w:
			continue
		case <-timer.C:
		case <-in.ctx.Done():
		}
		// Leave, unless work took w off the list meanwhile: then a call is
		// on its way, and it must run for its callers to hear of it.
		in.mu.Lock()
		i := slices.Index(in.idle, w)
		if i >= 0 {
			in.idle = slices.Delete(in.idle, i, i+1)
		}
		in.mu.Unlock()
		if i >= 0 {
			return
		}
		f = <-w
	}
}

// Forget drops the cached answer for token, if any, so that the next
// Introspect asks the authority again; an answer under way when it is
// called is not cached either. Use it when the API learns that a token was
// revoked.
func (in *Introspector) Forget(token string) {
	key := cacheKey(token)
	// A call that started before the bump caches nothing (see flight).
	in.gen.Add(1)
	in.mu.Lock()
	delete(in.calls, key)
	in.mu.Unlock()
	in.store.Delete(context.Background(), key)
}

// Close cancels calls under way and waits for them, and stops discovery.
// Introspect keeps answering from the cache but asks nothing more. Close
// is idempotent.
func (in *Introspector) Close() error {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	in.cancel()
	in.wg.Wait()
	if in.ownP {
		in.p.close()
	}
	return nil
}

// flight is the one call shared by concurrent Introspects of a token; gen
// is the Forget count when it was started, cause the first caller's
// context for an Observer (nil without one).
func (in *Introspector) flight(cause context.Context, key, token string, gen uint64) (*Result, error) {
	ctx, cancel := context.WithTimeout(in.ctx, in.s.Timeout)
	defer cancel()
	// A caller that missed the cache just as the previous call ended
	// finds that call's answer here instead of asking again.
	if r, ok := in.store.Get(ctx, key); ok {
		return r, nil
	}
	res, err := in.observedCall(ctx, cause, token)
	if err != nil {
		return nil, err
	}
	if ttl := in.ttl(res, time.Now()); ttl > 0 {
		in.store.Put(ctx, key, res, ttl)
		// Forget ran meanwhile: the answer may predate a revocation.
		if in.gen.Load() != gen {
			in.store.Delete(ctx, key)
		}
	}
	return res, nil
}

// ttl is how long res may be cached: never past the token's exp.
func (in *Introspector) ttl(res *Result, now time.Time) time.Duration {
	if !res.Active {
		return in.s.InactiveCacheDuration
	}
	ttl := in.s.CacheDuration
	if res.hasExp {
		ttl = min(ttl, res.ExpiresAt.Sub(now))
	}
	return ttl
}

// observedCall is call, reported to the Observer if there is one.
func (in *Introspector) observedCall(ctx, cause context.Context, token string) (*Result, error) {
	if in.s.Observer == nil {
		return in.call(ctx, token)
	}
	start := time.Now()
	res, err := in.call(ctx, token)
	e := observe.IntrospectionCall{Err: err, Start: start, Duration: time.Since(start)}
	if err == nil {
		e.Active = res.Active
	}
	in.s.Observer.Introspected(cause, e)
	return res, err
}

// call makes one introspection request.
func (in *Introspector) call(ctx context.Context, token string) (*Result, error) {
	endpoint, r, err := in.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	req, err := in.request(ctx, endpoint, r, token)
	if err != nil {
		return nil, in.fail(ctx, token, redactError(err))
	}
	resp, err := in.s.HTTPClient.Do(req)
	if err != nil {
		return nil, in.fail(ctx, token, redactError(err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		// Not the user's fault, and not going away by itself: say so loudly.
		err := fmt.Errorf("%w (status %d)", errCredentialsRefused, resp.StatusCode)
		in.logFailure(ctx, slog.LevelError, "bearer: the introspection endpoint refused this API's credentials; check ClientID, ClientSecret and ClientAuth", token, err,
			"endpoint", redactURL(endpoint), "client_id", in.s.ClientID, "client_auth", in.s.ClientAuth.String())
		return nil, errUnavailable(err, retryAfterIntrospection)
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, in.fail(ctx, token, fmt.Errorf("POST %s: status %d", redactURL(endpoint), resp.StatusCode))
	}
	body, err := readBody(resp.Body)
	if err != nil {
		return nil, in.fail(ctx, token, err)
	}
	if in.s.IntrospectionJWT {
		if body, err = in.verifyJWTResponse(ctx, r, body); err != nil {
			// %v: the reasons (ErrSignature, …) describe tokens, and the
			// token is not what failed here.
			return nil, in.fail(ctx, token, fmt.Errorf("JWT response: %v", err))
		}
	}
	res, err := parseResult(string(body))
	if err != nil {
		return nil, in.fail(ctx, token, fmt.Errorf("introspection response: %w", err))
	}
	in.recovered(ctx)
	return res, nil
}

// fail counts a failed call, logs it if it is news (see logFailure), and
// returns the error for it.
func (in *Introspector) fail(ctx context.Context, token string, err error) error {
	in.logFailure(ctx, slog.LevelWarn, "bearer: introspection failing; "+in.s.consequence("requests with tokens not cached get 503", "Introspect returns ErrUnavailable for tokens not cached"), token, err)
	return errUnavailable(err, retryAfterIntrospection)
}

// logFailure logs a failed call at level if it begins an outage, or if
// logEvery has passed since the last line, with the number of failures
// since then; other failures are only counted, so that an outage under
// load is a few lines, not one per request. A line names the failure at
// hand: in a long outage it says what fails now. token is "" when the
// call failed before one was sent.
func (in *Introspector) logFailure(ctx context.Context, level slog.Level, msg, token string, err error, attrs ...any) {
	first, n, since := in.failures.event(time.Now())
	if !first && n == 0 {
		return
	}
	args := append([]any{"error", err, "failures", n, "since", since}, attrs...)
	if token != "" {
		args = append(args, "token", Fingerprint(token))
	}
	in.s.Logger.Log(ctx, level, msg, args...)
}

// recovered logs the end of an outage, if one was under way: a call was
// answered.
func (in *Introspector) recovered(ctx context.Context) {
	if total, since, ok := in.failures.end(); ok {
		in.s.Logger.InfoContext(ctx, "bearer: introspection answers again",
			"failures", total, "since", since, "lasted", time.Since(since).Round(time.Millisecond))
	}
}

// endpoint returns the introspection endpoint and, when it had to be
// discovered or signed responses need keys, what discovery found.
func (in *Introspector) endpoint(ctx context.Context) (string, *remote, error) {
	if in.p == nil {
		return in.s.IntrospectionEndpoint, nil, nil
	}
	if in.s.IntrospectionEndpoint != "" && !in.s.IntrospectionJWT {
		// Discovery is not needed; use what it found if it has.
		return in.s.IntrospectionEndpoint, in.p.current.Load(), nil
	}
	r, err := in.p.get(ctx)
	if err != nil {
		return "", nil, err
	}
	endpoint := cmp.Or(in.s.IntrospectionEndpoint, r.introspectURL)
	if endpoint == "" {
		in.logFailure(ctx, slog.LevelError, "bearer: the authority publishes no introspection_endpoint; set Config.IntrospectionEndpoint", "", errNoEndpoint,
			"authority", redactURL(in.s.Authority))
		return "", nil, errUnavailable(errNoEndpoint, retryAfterIntrospection)
	}
	return endpoint, r, nil
}

// Form parameters of RFC 7662 §2.1 and RFC 7523 §2.2.
const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	mediaJSON     = "application/json"
	mediaJWT      = "application/token-introspection+jwt"
)

func (in *Introspector) request(ctx context.Context, endpoint string, r *remote, token string) (*http.Request, error) {
	// Written out rather than with url.Values, which sorts and allocates:
	// this is on every cache miss.
	body := "token=" + url.QueryEscape(token) + "&token_type_hint=access_token"
	switch in.s.ClientAuth {
	case ClientSecretPost:
		body += "&client_id=" + url.QueryEscape(in.s.ClientID) + "&client_secret=" + url.QueryEscape(in.s.ClientSecret)
	case PrivateKeyJWT:
		assertion, err := in.assertion(endpoint, r)
		if err != nil {
			return nil, err
		}
		body += "&client_id=" + url.QueryEscape(in.s.ClientID) +
			"&client_assertion_type=" + url.QueryEscape(assertionType) + "&client_assertion=" + assertion
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if in.s.IntrospectionJWT {
		req.Header.Set("Accept", mediaJWT)
	} else {
		req.Header.Set("Accept", mediaJSON)
	}
	if in.basic != "" {
		req.Header.Set("Authorization", in.basic)
	}
	return req, nil
}

// assertion signs a fresh RFC 7523 client assertion. Its audience is the
// authority's issuer identifier, which authorization servers accept for
// every endpoint and which cannot be redirected to another server the way
// an endpoint URL can; without an authority, the endpoint's URL.
func (in *Introspector) assertion(endpoint string, r *remote) (string, error) {
	aud := cmp.Or(in.s.Authority, endpoint)
	if r != nil {
		aud = r.issuer
	}
	now := time.Now()
	t := jwt.NewWithClaims(in.method, jwt.MapClaims{
		"iss": in.s.ClientID,
		"sub": in.s.ClientID,
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(),
		"jti": rand.Text(),
	})
	if in.s.ClientKeyID != "" {
		t.Header["kid"] = in.s.ClientKeyID
	}
	return t.SignedString(in.s.ClientKey)
}

// verifyJWTResponse checks an RFC 9701 response (§5: typ, signature by
// the authority, iss, aud, and its freshness, see fresh) and returns its
// token_introspection member.
func (in *Introspector) verifyJWTResponse(ctx context.Context, r *remote, body []byte) ([]byte, error) {
	if r == nil {
		return nil, ErrUnknownKey
	}
	// Only the authority's public keys: a shared secret is the API's own.
	p := jwsPolicy{maxSize: maxBodySize, algs: in.s.algorithms, typ: introspectionTyp, keys: r.keys}
	var t jws
	if err := t.read(string(bytes.TrimSpace(body)), &p); err != nil {
		return nil, err
	}
	if _, err := t.verify(ctx, &p); errors.Is(err, ErrSignature) {
		return nil, err
	} else if err != nil {
		// %v: lookup's *Error speaks of an access token, not of this response.
		return nil, fmt.Errorf("signing key: %v", err)
	}
	payload, err := t.payload()
	if err != nil {
		return nil, err
	}
	// The decoder of access tokens, for its strictness: exact names, no
	// duplicates, UTF-8 only.
	w, err := decodeClaims(string(payload))
	if err != nil {
		return nil, errors.New("malformed payload")
	}
	if w.Iss != r.issuer {
		return nil, ErrIssuer
	}
	if c := w.claims(""); !slices.Contains(c.Audience, in.s.ClientID) {
		return nil, ErrAudience
	}
	if err := in.fresh(&w, time.Now()); err != nil {
		return nil, err
	}
	ti := rawMember(string(payload), "token_introspection")
	if !isObject(bytesOf(ti)) {
		return nil, errors.New("no token_introspection object")
	}
	return []byte(ti), nil
}

// introspectionTyp is the typ of an RFC 9701 response (§5).
func introspectionTyp(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "token-introspection+jwt" || typ == mediaJWT
}

var (
	errNoIssuedAt = errors.New("no iat")
	errStale      = errors.New("issued too long ago")
)

// fresh checks the times of a signed response. The response is made for
// this very call, so its iat is required and may be no older than the
// call can take plus the clock skew allowed (Config.Timeout plus
// Config.Leeway), nor in the future beyond Leeway; exp and nbf are
// honoured if present. So a response captured on its way cannot be
// replayed later, for this or another token (it does not name the token
// it answers for), by whoever can answer for the endpoint.
func (in *Introspector) fresh(w *wireClaims, now time.Time) error {
	leeway := in.s.leeway
	switch {
	case !w.Iat.set:
		return errNoIssuedAt
	case now.Add(leeway).Before(w.Iat.t):
		return ErrIssuedInFuture
	case w.Iat.t.Add(in.s.Timeout + leeway).Before(now):
		return errStale
	case w.Exp.set && !now.Before(w.Exp.t.Add(leeway)):
		return ErrExpired
	case w.Nbf.set && now.Add(leeway).Before(w.Nbf.t):
		return ErrNotYetValid
	}
	return nil
}
