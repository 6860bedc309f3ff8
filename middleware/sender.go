package middleware

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/accesstoken/bearer"
)

// TrustForwarded makes the middleware build the URI a DPoP proof's htu
// must match (RFC 9449 §4.3) from the scheme and host that a proxy in
// front of the API forwards in the named fields: "Forwarded" (RFC 7239,
// its first element's proto and host), "X-Forwarded-Proto" and
// "X-Forwarded-Host" (their first values). Without it the scheme comes
// from the connection (TLS or not) and the host from the request, since a
// client could otherwise set these fields to whatever its proof says.
// Name only fields your proxy sets, overwriting what clients send. It
// panics on another name.
func TrustForwarded(fields ...string) Option {
	for _, f := range fields {
		switch http.CanonicalHeaderKey(f) {
		case "Forwarded", "X-Forwarded-Proto", "X-Forwarded-Host":
		default:
			panic(fmt.Sprintf("middleware: TrustForwarded(%q): not Forwarded, X-Forwarded-Proto or X-Forwarded-Host", f))
		}
	}
	return func(o *options) {
		for _, f := range fields {
			o.forwarded = append(o.forwarded, http.CanonicalHeaderKey(f))
		}
	}
}

// ClientCertificateHeader makes the middleware read the client
// certificate of a certificate-bound token (RFC 8705 §3) from the named
// field, as a URL-encoded PEM certificate: what a TLS-terminating proxy
// forwards (nginx's $ssl_client_escaped_cert, Traefik's, …) instead of the
// TLS connection's own. Name only a field your proxy sets, overwriting
// what clients send: whoever sets it chooses the certificate.
func ClientCertificateHeader(name string) Option {
	return func(o *options) { o.certHeader = http.CanonicalHeaderKey(name) }
}

// presentation describes how r presented token, for the Validator's
// checks of its syntax, DPoP proofs and certificate-bound tokens; scheme
// is that of the Authorization field, "" for a token from elsewhere.
func (o *options) presentation(r *http.Request, token, scheme string) bearer.Presentation {
	// "Dpop" is the canonical key of the DPoP field.
	p := bearer.Presentation{Scheme: scheme, Token: token, Method: r.Method, DPoP: r.Header["Dpop"], Require: o.require}
	if token != "" {
		for _, f := range o.requireFor {
			if req := f(r); !req.IsZero() {
				// Clipped: the options' list is shared by every request.
				p.Require = append(slices.Clip(p.Require), req)
			}
		}
	}
	if scheme == "DPoP" || len(p.DPoP) > 0 {
		p.URL = o.requestURL(r)
	}
	p.ClientCertificate = o.clientCertificate(r)
	return p
}

// requestURL is the URI the client sent r to, without query: its path as
// sent (before any router or StripPrefix changed r.URL), its scheme and
// host from the connection or from trusted forwarded fields.
func (o *options) requestURL(r *http.Request) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	for _, f := range o.forwarded {
		v := r.Header.Get(f)
		if v == "" {
			continue
		}
		first, _, _ := strings.Cut(v, ",")
		first = strings.TrimSpace(first)
		switch f {
		case "X-Forwarded-Proto":
			scheme = first
		case "X-Forwarded-Host":
			host = first
		case "Forwarded":
			for pair := range strings.SplitSeq(first, ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
				value = strings.Trim(value, `"`)
				switch strings.ToLower(name) {
				case "proto":
					scheme = value
				case "host":
					host = value
				}
			}
		}
	}
	path := r.RequestURI
	if u, err := url.ParseRequestURI(path); err == nil {
		path = u.EscapedPath()
	}
	return scheme + "://" + host + path
}

// clientCertificate returns r's client certificate: from the trusted
// field if one is named, else from the TLS connection; nil if none.
func (o *options) clientCertificate(r *http.Request) *x509.Certificate {
	if o.certHeader != "" {
		v := r.Header.Get(o.certHeader)
		if v == "" {
			return nil
		}
		// Path unescaping: a "+" of the base64 stays a "+".
		text, err := url.PathUnescape(v)
		if err != nil {
			return nil
		}
		block, _ := pem.Decode([]byte(text))
		if block == nil || block.Type != "CERTIFICATE" {
			return nil
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil
		}
		return cert
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates[0]
	}
	return nil
}
