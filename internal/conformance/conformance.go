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
	Scope          Scope
	Require        bearer.Requirement
	Optional       bool
	Realm          string
	Query          bool   // accept access_token in the query
	Form           bool   // accept access_token in a form body
	Cookie         string // accept the token in this cookie
	CheckPreflight bool
}

// quiet drops logs: refusals are the point of the table, not news.
var quiet = slog.New(slog.DiscardHandler)

// Options returns the net/http middleware options g stands for, and a
// logger that discards.
func (g Guard) Options() []middleware.Option {
	opts := []middleware.Option{middleware.Logger(quiet)}
	if !g.Require.IsZero() {
		opts = append(opts, middleware.Require(g.Require))
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
	if g.CheckPreflight {
		opts = append(opts, middleware.CheckPreflight())
	}
	return opts
}

// Build returns a router of the adapter's framework with g mounted as g.Scope
// says and Respond behind every route (see the path constants).
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
	Name  string
	Guard Guard
	// Down sends the request to a validator whose authority is unreachable.
	Down bool
	// Token mints the token that "{token}" stands for in Authorization and
	// in HTTP's query, form and cookie.
	Token func(a *bearertest.Authority) string
	// Authorization lists the values of the Authorization field (the
	// authorization metadata in gRPC).
	Authorization []string
	// HTTP holds what only HTTP has; a case with HTTP set is HTTP-only.
	HTTP *HTTP
	Want Want
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
// of CheckedHeaders (several values joined with ", "); a name that is
// missing must be absent from the response.
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
}

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
// trusts it, and one whose authority is unreachable.
type Env struct {
	Authority *bearertest.Authority
	OK        *bearer.Validator
	Down      *bearer.Validator
}

// NewEnv starts an authority and both validators, closed when t ends. The
// validators run in JWT mode so that a reference-shaped token is a plain
// invalid_token whatever introspection does.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	a := bearertest.New(t)
	ok := newValidator(t, bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Mode: bearer.JWT, Logger: quiet})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ok.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	gone := bearertest.NewAuthority()
	gone.Close() // its address now refuses connections at once
	down := newValidator(t, bearer.Config{Authority: gone.Issuer(), Audience: []string{"api"}, Mode: bearer.JWT, Timeout: time.Second, Logger: quiet})
	return &Env{Authority: a, OK: ok, Down: down}
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
	if c.Down {
		return e.Down
	}
	return e.OK
}

// Token returns the token of c, minted by e's authority, or "".
func (e *Env) Token(c Case) string {
	if c.Token == nil {
		return ""
	}
	return c.Token(e.Authority)
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
