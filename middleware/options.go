package middleware

import (
	"log/slog"
	"net/http"

	"github.com/accesstoken/bearer"
)

// Option configures the middleware.
type Option func(*options)

type options struct {
	require        bearer.Requirement
	optional       bool
	realm          string
	sources        []source
	checkPreflight bool
	onValidated    func(*http.Request, *bearer.Claims)
	onFailed       func(*http.Request, error)
	logger         *slog.Logger
}

// DefaultRealm is the realm named in challenges unless Realm is given.
const DefaultRealm = "api"

// Require adds a scope requirement for the routes this middleware guards,
// on top of Config.RequiredScopes.
func Require(r bearer.Requirement) Option {
	return func(o *options) { o.require = r }
}

// Optional lets requests without any token through as anonymous (no claims
// on the context). A token that is present must still be valid.
func Optional() Option {
	return func(o *options) { o.optional = true }
}

// Realm sets the realm of the WWW-Authenticate challenge.
func Realm(realm string) Option {
	return func(o *options) { o.realm = realm }
}

// FromQuery also accepts the token in the access_token query parameter
// (RFC 6750 §2.3). URLs end up in logs and histories: prefer the header.
func FromQuery() Option {
	return func(o *options) { o.sources = append(o.sources, fromQuery) }
}

// FromForm also accepts the token as access_token in a form-encoded body
// (RFC 6750 §2.2). The body is consumed; the form stays in r.PostForm.
func FromForm() Option {
	return func(o *options) { o.sources = append(o.sources, fromForm) }
}

// FromCookie also accepts the token in the named cookie. Cookies are sent
// by browsers on their own: protect such routes against CSRF.
func FromCookie(name string) Option {
	return func(o *options) { o.sources = append(o.sources, fromCookie(name)) }
}

// FromFunc also accepts a token found by extract. It returns "" for no
// token; an error is answered as 400 invalid_request, or as itself if it
// is a *bearer.Error.
func FromFunc(extract func(*http.Request) (string, error)) Option {
	return func(o *options) { o.sources = append(o.sources, fromExtractor(extract)) }
}

// CheckPreflight requires a token on CORS preflight requests too. By
// default they pass untouched, since browsers never attach credentials to
// them.
func CheckPreflight() Option {
	return func(o *options) { o.checkPreflight = true }
}

// OnValidated is called for each request whose token was accepted.
func OnValidated(f func(*http.Request, *bearer.Claims)) Option {
	return func(o *options) { o.onValidated = f }
}

// OnFailed is called for each request refused, before the response is
// written. err is a *bearer.Error.
func OnFailed(f func(*http.Request, error)) Option {
	return func(o *options) { o.onFailed = f }
}

// Logger sets the logger for refused requests; default slog.Default().
// Tokens appear only as bearer.Fingerprint.
func Logger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
