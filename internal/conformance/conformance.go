// Package conformance is the behaviour every adapter shares, written down
// once: a table of requests and the exact responses (status, headers and
// body) the net/http middleware gives them. The tests of the net/http
// middleware and of the chi, echo and gin adapters run the whole table
// against a router of their framework with RunHTTP; the gRPC adapter runs
// the cases that are not HTTP-only and maps each status to a gRPC code.
//
// It lives in the core module, under internal/, so that the adapter
// modules (whose import paths start with github.com/accesstoken/bearer/)
// can import it while users cannot.
package conformance

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

// Scope says where an adapter mounts the guard under test.
type Scope int

const (
	// Global guards the whole router ("protect everything"): every method
	// and every path, routed or not, answers through the guard. Only
	// GlobalPath is routed.
	Global Scope = iota
	// Group guards the group under GroupPath; PublicPath, outside the
	// group, stays unguarded.
	Group
	// Route guards the single route RoutePath; PublicPath stays unguarded.
	Route
)

// The paths of the conformance router. Under Global GlobalPath is routed
// to Respond; under Group every path below GroupPath and PublicPath are;
// under Route RoutePath and PublicPath are. Routes accept every method.
const (
	GlobalPath = "/values"
	GroupPath  = "/group"
	RoutePath  = "/route"
	PublicPath = "/public"
)

// String names s in test output.
func (s Scope) String() string {
	switch s {
	case Global:
		return "global"
	case Group:
		return "group"
	case Route:
		return "route"
	}
	return "scope?"
}

// Guard describes the middleware under test: where it is mounted and with
// which options. Options translates it for net/http-based adapters; the
// gRPC adapter translates it to its own options.
type Guard struct {
	Scope   Scope
	Require bearer.Requirement
	// AlsoRequire is a second requirement, given as an option of its own
	// after Require: a token must meet both.
	AlsoRequire bearer.Requirement
	Optional    bool
	Realm       string
	Query       bool   // accept access_token in the query
	Form        bool   // accept access_token in a form body
	Cookie      string // accept the token in this cookie
	// ResourceMetadata, if set, is the metadata URL named in every
	// challenge (middleware.ResourceMetadata).
	ResourceMetadata string
	// ErrorHandler, if set, renders refusals (middleware.ErrorHandler).
	// Cases with one are HTTP-only.
	ErrorHandler func(http.ResponseWriter, *http.Request, *bearer.Error)
	// TrustForwarded names the forwarded fields trusted for a DPoP
	// proof's htu (middleware.TrustForwarded). HTTP-only.
	TrustForwarded []string
	// ClientCertificateHeader names the field a proxy forwards the client
	// certificate in (middleware.ClientCertificateHeader). HTTP-only.
	ClientCertificateHeader string
}

// quiet drops logs: refusals are the point of the table, not news.
var quiet = slog.New(slog.DiscardHandler)

// Options returns the net/http middleware options g stands for, and a
// logger that discards.
func (g Guard) Options() []middleware.Option {
	opts := []middleware.Option{middleware.Logger(quiet)}
	for _, r := range []bearer.Requirement{g.Require, g.AlsoRequire} {
		if !r.IsZero() {
			opts = append(opts, middleware.Require(r))
		}
	}
	if g.Optional {
		opts = append(opts, middleware.Optional())
	}
	if g.Realm != "" {
		opts = append(opts, middleware.Realm(g.Realm))
	}
	if g.Query {
		opts = append(opts, middleware.FromQuery())
	}
	if g.Form {
		opts = append(opts, middleware.FromForm())
	}
	if g.Cookie != "" {
		opts = append(opts, middleware.FromCookie(g.Cookie))
	}
	if g.ResourceMetadata != "" {
		opts = append(opts, middleware.ResourceMetadata(g.ResourceMetadata))
	}
	if g.ErrorHandler != nil {
		opts = append(opts, middleware.ErrorHandler(g.ErrorHandler))
	}
	if g.TrustForwarded != nil {
		opts = append(opts, middleware.TrustForwarded(g.TrustForwarded...))
	}
	if g.ClientCertificateHeader != "" {
		opts = append(opts, middleware.ClientCertificateHeader(g.ClientCertificateHeader))
	}
	return opts
}

// Build returns a router of the adapter's framework with g mounted as g.Scope
// says and Respond behind every route (see the path constants); under
// Group and Route it also serves Metadata(v) at MetadataPath, unguarded.
type Build func(v *bearer.Validator, g Guard) http.Handler

// Respond is the handler behind every conformance route. claims is what
// the framework's own accessor (ginbearer.Claims, …) returns, nil if none;
// Respond checks it is what bearer.ClaimsFromContext finds on the request
// context, and answers 500 if not, so that both places are tested.
func Respond(w http.ResponseWriter, r *http.Request, claims *bearer.Claims) {
	fromContext, _ := bearer.ClaimsFromContext(r.Context())
	if claims != fromContext {
		http.Error(w, "framework claims differ from context claims", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(Body(claims))
}

// Body is what Respond writes for claims: {"sub":…} or {"anonymous":true}
// when no token was presented (Optional, preflights, public routes).
func Body(claims *bearer.Claims) []byte {
	var v any = map[string]bool{"anonymous": true}
	if claims != nil {
		v = map[string]string{"sub": claims.Subject}
	}
	b, _ := json.Marshal(v)
	return append(b, '\n')
}

// Case is one request and the response every adapter must give it.
type Case struct {
	Name string
	// Ref names the specification section the case comes from, such as
	// "RFC 6750 §2.1".
	Ref   string
	Guard Guard
	// Setup chooses the authority and the validator the request is sent
	// to; the zero value is the standard one.
	Setup Setup
	// Token mints the token that "{token}" stands for in Authorization and
	// in HTTP's query, form and cookie, with the authority of Setup.
	Token func(a *bearertest.Authority) string
	// Authorization lists the values of the Authorization field (the
	// authorization metadata in gRPC).
	Authorization []string
	// HTTP holds what only HTTP has; a case with HTTP set is HTTP-only.
	HTTP *HTTP
	// Proof, if set, makes the values of the DPoP field (RFC 9449) for the
	// request's method, URL (without query) and token, with the case's
	// validator at hand for nonces. Cases with one set HTTP.
	Proof func(v *bearer.Validator, method, url, token string) []string
	// Replay sends the request twice, the same proofs with both: Want is
	// the answer to the second.
	Replay bool
	Want   Want
}

// HTTP is the HTTP-only part of a request.
type HTTP struct {
	Method string      // default GET
	Path   string      // default by scope: GlobalPath, GroupPath+"/values", RoutePath
	Query  string      // raw query
	Form   string      // form-encoded body, sent with POST by default
	Cookie string      // Cookie field
	Header http.Header // other fields (Origin, …)
}

// Want is the expected response. Header holds the expected value of each
// of CheckedHeaders (several values joined with ", "), AnyValue for any
// value but none; a name that is missing must be absent from the response. "{issuer}" in Body stands for
// the Env authority's issuer.
type Want struct {
	Status int
	Header map[string]string
	Body   string
}

// CheckedHeaders are the response fields compared for every case.
var CheckedHeaders = []string{
	"WWW-Authenticate",
	"Access-Control-Expose-Headers",
	"Cache-Control",
	"Content-Type",
	"Retry-After",
	"X-Content-Type-Options",
	"Access-Control-Allow-Origin",
	"Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers",
	"Access-Control-Max-Age",
	"Allow",
	"DPoP-Nonce",
}

// AnyValue in Want.Header stands for any value, of a field that must be
// there: a DPoP nonce, which is unpredictable.
const AnyValue = "{any}"

// Path returns the request path of c.
func (c Case) Path() string {
	if c.HTTP != nil && c.HTTP.Path != "" {
		return c.HTTP.Path
	}
	switch c.Guard.Scope {
	case Group:
		return GroupPath + "/values"
	case Route:
		return RoutePath
	}
	return GlobalPath
}

// Env is what the cases run against: a test authority, a validator that
// trusts it, one whose authority is unreachable and, made on first use,
// the other setups (see Setup).
type Env struct {
	Authority *bearertest.Authority
	OK        *bearer.Validator
	Down      *bearer.Validator

	t      testing.TB
	logger *slog.Logger
	keys   *envKeys

	once  sync.Once
	extra *extras
}

// NewEnv starts an authority and both validators, closed when t ends. The
// validators run in JWT mode so that a reference-shaped token is a plain
// invalid_token whatever introspection does. They log nothing.
func NewEnv(t testing.TB) *Env { return NewEnvLogging(t, quiet) }

// NewEnvLogging is NewEnv with every validator of the Env logging to
// logger, for tests that look at what the library logs.
func NewEnvLogging(t testing.TB, logger *slog.Logger) *Env {
	t.Helper()
	a := bearertest.New(t)
	keys := publishKeys(a)
	// The introspection endpoint only knows this client, whose
	// credentials need form-urlencoding (RFC 6749 §2.3.1).
	a.SetClient(specialClientID, specialClientSecret)
	ok := newValidator(t, bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Mode: bearer.ModeJWT, Logger: logger})
	ready(t, ok)
	revokeConformanceSession(t, ok)
	// After the validator's fetch: the first token signed with the new key
	// makes it fetch the key set again.
	keys.rotatedKid = a.RotateKey("EdDSA")
	gone := bearertest.NewAuthority()
	gone.Close() // its address now refuses connections at once
	down := newValidator(t, bearer.Config{Authority: gone.Issuer(), Audience: []string{"api"}, Mode: bearer.ModeJWT, Timeout: time.Second, Logger: logger})
	return &Env{Authority: a, OK: ok, Down: down, t: t, logger: logger, keys: keys}
}

func ready(t testing.TB, v *bearer.Validator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}

func newValidator(t testing.TB, cfg bearer.Config) *bearer.Validator {
	t.Helper()
	v, err := bearer.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bearer.New: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// Validator returns the validator c runs against.
func (e *Env) Validator(c Case) *bearer.Validator {
	switch c.Setup {
	case Standard:
		return e.OK
	case Unreachable:
		return e.Down
	}
	return e.extras().validators[c.Setup]
}

// Token returns the token of c, minted by the authority of its setup, or "".
func (e *Env) Token(c Case) string {
	if c.Token == nil {
		return ""
	}
	a := e.Authority
	if c.Setup == Tenant || c.Setup == ColdJWKSDown || c.Setup == StaleKeys {
		a = e.extras().tenant
	}
	return c.Token(a)
}

// Fill replaces "{token}" in s.
func Fill(s, token string) string { return strings.ReplaceAll(s, "{token}", token) }

// AuthorizationValues returns c's Authorization values with the token filled in.
func (c Case) AuthorizationValues(token string) []string {
	var out []string
	for _, v := range c.Authorization {
		out = append(out, Fill(v, token))
	}
	return out
}

// ErrorMessage returns the description and scope of an error body, as the
// gRPC adapter puts them in a status message: "description" or
// "description: scope".
func (w Want) ErrorMessage() string {
	var b struct {
		Description string `json:"error_description"`
		Scope       string `json:"scope"`
	}
	_ = json.Unmarshal([]byte(w.Body), &b)
	if b.Scope != "" {
		return b.Description + ": " + b.Scope
	}
	return b.Description
}
