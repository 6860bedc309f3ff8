package bearertest

import "strings"

// Option configures an Authority at construction.
type Option func(*options)

type options struct {
	path     string
	issuer   string
	noOpenID bool
	addr     string
}

// WithPath serves the authority under path p (for example "/tenant1"), as
// multi-tenant authorities do: the issuer becomes URL+p, the OpenID
// configuration is served at issuer+"/.well-known/openid-configuration", and
// the RFC 8414 metadata at URL+"/.well-known/oauth-authorization-server"+p
// (path insertion). A missing leading slash is added and trailing slashes are
// dropped.
func WithPath(p string) Option {
	return func(o *options) {
		p = strings.TrimRight(p, "/")
		if p != "" && !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		o.path = p
	}
}

// WithIssuer publishes iss as the issuer, in discovery and in minted tokens,
// while endpoints stay where they are, so that tests can check a validator
// rejects an authority whose issuer does not match its address.
func WithIssuer(iss string) Option {
	return func(o *options) { o.issuer = iss }
}

// WithoutOpenIDConfiguration serves only the RFC 8414 metadata document;
// /.well-known/openid-configuration answers 404, as on plain OAuth 2.0
// authorities.
func WithoutOpenIDConfiguration() Option {
	return func(o *options) { o.noOpenID = true }
}

// WithAddr listens on addr, which must be a loopback IP and port such as
// "127.0.0.1:8123", instead of a random port. It lets a test stop an
// authority and start another one at the same URL, as when a real authority
// restarts.
func WithAddr(addr string) Option {
	return func(o *options) { o.addr = addr }
}
