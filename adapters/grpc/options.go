package grpcbearer

import (
	"context"
	"log/slog"

	"github.com/accesstoken/bearer"
)

// Option configures the interceptors.
type Option func(*options)

type options struct {
	require     map[string][]bearer.Requirement
	public      map[string]bool
	optional    bool
	realm       string
	onValidated func(ctx context.Context, method string, c *bearer.Claims)
	onFailed    func(ctx context.Context, method string, err error)
	logger      *slog.Logger
}

// DefaultRealm is the realm named in challenges unless Realm is given; the
// same as the net/http middleware's.
const DefaultRealm = "api"

// Require adds a requirement (scopes, step-up: see bearer.Requirement) for
// the method with the given full name ("/package.Service/Method"), on top
// of Config.RequiredScopes. A refusal names this method's needs alone.
// Requirements compose: a method given several requirements needs a
// token that meets every one of them.
func Require(fullMethod string, r bearer.Requirement) Option {
	return func(o *options) {
		if r.IsZero() {
			return
		}
		if o.require == nil {
			o.require = make(map[string][]bearer.Requirement)
		}
		o.require[fullMethod] = append(o.require[fullMethod], r)
	}
}

// Public leaves the methods with the given full names unguarded, such as
// health checks: their calls reach the handler without any check and with
// no claims, whatever token they carry.
func Public(fullMethods ...string) Option {
	return func(o *options) {
		if o.public == nil {
			o.public = make(map[string]bool)
		}
		for _, m := range fullMethods {
			o.public[m] = true
		}
	}
}

// Optional lets calls without any bearer token through as anonymous (no
// claims on the context). A token that is present must still be valid.
func Optional() Option {
	return func(o *options) { o.optional = true }
}

// Realm sets the realm of the challenge in the www-authenticate metadata.
func Realm(realm string) Option {
	return func(o *options) { o.realm = realm }
}

// OnValidated is called for each call whose token was accepted.
func OnValidated(f func(ctx context.Context, fullMethod string, c *bearer.Claims)) Option {
	return func(o *options) { o.onValidated = f }
}

// OnFailed is called for each call refused, before it is answered. err is
// a *bearer.Error.
func OnFailed(f func(ctx context.Context, fullMethod string, err error)) Option {
	return func(o *options) { o.onFailed = f }
}

// Logger sets the logger for refused calls; default slog.Default(). Tokens
// appear only as bearer.Fingerprint.
func Logger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
