package middleware

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/accesstoken/bearer"
)

// Option configures the middleware.
type Option func(*options)

type options struct {
	require     []bearer.Requirement
	requireFor  []func(*http.Request) bearer.Requirement
	optional    bool
	realm       string
	sources     []source
	query, form bool // those sources are enabled
	onValidated func(*http.Request, *bearer.Claims)
	onFailed    func(*http.Request, error)
	render      func(http.ResponseWriter, *http.Request, *bearer.Error)
	logger      *slog.Logger
	challenge   []bearer.ChallengeParam // added to every challenge
	forwarded   []string                // trusted fields for a DPoP proof's htu: see TrustForwarded
	certHeader  string                  // trusted field with the client certificate: see ClientCertificateHeader
}

// DefaultRealm is the realm named in challenges unless Realm is given.
const DefaultRealm = "api"

// Require adds a requirement (scopes, step-up: see bearer.Requirement) for
// the routes this middleware guards, on top of Config.RequiredScopes; a
// refusal names what these routes need, never scopes required elsewhere. Requirements compose: when Require is
// given several times (say a shared list of options plus one for the
// route), a token must meet every one of them.
func Require(r bearer.Requirement) Option {
	return func(o *options) {
		if !r.IsZero() {
			o.require = append(o.require, r)
		}
	}
}

// RequireFor adds a requirement that f chooses for each request, for
// routes whose operation the request itself names: a JSON-RPC method, an
// MCP tool (see the mcp adapter's RequireTools). f runs only for requests
// that present a token; it may read the body, but must leave it whole for
// the handler. A zero Requirement adds nothing; when f cannot tell the
// operation, it should fail closed and require what every operation does.
func RequireFor(f func(r *http.Request) bearer.Requirement) Option {
	return func(o *options) { o.requireFor = append(o.requireFor, f) }
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
	return func(o *options) {
		if !o.query {
			o.query = true
			o.sources = append(o.sources, fromQuery)
		}
	}
}

// FromForm also accepts the token as access_token in a form-encoded body
// (RFC 6750 §2.2). The body is consumed; the form stays in r.PostForm.
func FromForm() Option {
	return func(o *options) {
		if !o.form {
			o.form = true
			o.sources = append(o.sources, fromForm)
		}
	}
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

// OnValidated is called for each request whose token was accepted.
func OnValidated(f func(*http.Request, *bearer.Claims)) Option {
	return func(o *options) { o.onValidated = f }
}

// OnFailed is called for each request refused, before the response is
// written. err is a *bearer.Error.
func OnFailed(f func(*http.Request, error)) Option {
	return func(o *options) { o.onFailed = f }
}

// ErrorHandler renders refused requests with f instead of
// bearer.WriteError, for example as application/problem+json (RFC 9457).
// When f is called, the response already carries what the library owes
// the client: the RFC 6750 challenge in WWW-Authenticate for 400, 401 and
// 403 (with Access-Control-Expose-Headers), Retry-After for 503,
// Cache-Control: no-store and X-Content-Type-Options: nosniff. f writes the
// status, normally e.Status, and the body; it may replace a header, on
// purpose. If f writes nothing, the response is e.Status with no body.
//
// Only the rendering changes: Optional, the token sources, OnFailed and
// logging work as without it, and the guarded handler never runs for a
// refused request, whatever f writes.
func ErrorHandler(f func(w http.ResponseWriter, r *http.Request, e *bearer.Error)) Option {
	return func(o *options) { o.render = f }
}

// Logger sets the logger for refused requests; default slog.Default().
// Tokens appear only as bearer.Fingerprint.
func Logger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// ResourceMetadata adds resource_metadata="metadataURL" to every challenge,
// the bare 401 included (RFC 9728 §5.1): metadataURL is where the API
// publishes its protected-resource metadata (resource.Metadata's URL),
// from which clients such as MCP clients learn which authority to ask for
// a token. It panics unless metadataURL is an absolute http or https URL
// without a fragment, in printable ASCII other than quotes and
// backslashes: anything else would send clients nowhere, or not say what
// was given. Given twice, the last one counts.
func ResourceMetadata(metadataURL string) Option {
	u, err := url.Parse(metadataURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" ||
		strings.ContainsFunc(metadataURL, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' || r == '\\' }) {
		panic(fmt.Sprintf("middleware: ResourceMetadata(%q): not an absolute http(s) URL in printable ASCII without fragment", metadataURL))
	}
	return func(o *options) { o.challenge = []bearer.ChallengeParam{bearer.ResourceMetadata(metadataURL)} }
}
