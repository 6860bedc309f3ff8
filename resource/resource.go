// Package resource publishes an API's OAuth 2.0 Protected Resource
// Metadata (RFC 9728): the document that tells a client which authorities
// issue tokens for the API, and which scopes and ways of presenting a
// token it accepts. MCP clients read it before anything else.
//
//	m, err := resource.New("https://api.example.com/mcp", v)
//	if err != nil { … }
//	m.ScopesSupported = []string{"mcp"}
//	mux.Handle(m.Path(), m) // public: clients fetch it without a token
//	mux.Handle("/mcp", middleware.New(v, middleware.ResourceMetadata(m.URL()))(mcp))
//
// The document is served where RFC 9728 §3.1 puts it, the well-known path
// inserted between the host and the resource's path:
// https://api.example.com/.well-known/oauth-protected-resource/mcp for the
// resource above. middleware.ResourceMetadata names that URL in every
// challenge (RFC 9728 §5.1), so a client refused with 401 finds it.
package resource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/accesstoken/bearer"
)

// wellKnown is the well-known URI suffix of RFC 9728 §3.
const wellKnown = "/.well-known/oauth-protected-resource"

// Metadata is a protected resource's metadata (RFC 9728 §2). Set its
// fields before serving it, and leave them alone after.
type Metadata struct {
	// Resource is the resource identifier, served verbatim: an https URL
	// without fragment, which clients compare with the URL they call
	// (RFC 9728 §3.3). New accepts http only for loopback hosts
	// (localhost, 127.0.0.0/8, ::1), for development.
	Resource string `json:"resource"`
	// AuthorizationServers are the issuer identifiers of the authorities
	// whose tokens the resource accepts.
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// ScopesSupported are the scopes a client may ask for to call the
	// resource. RFC 9728 recommends it; New leaves it empty.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported are the ways a token may be presented:
	// "header", "body", "query".
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceSigningAlgValuesSupported are the JWS algorithms the resource
	// signs its responses with. The library signs nothing: set it only if
	// your API does.
	ResourceSigningAlgValuesSupported []string `json:"resource_signing_alg_values_supported,omitempty"`
	// ResourceName is a human-readable name of the resource.
	ResourceName string `json:"resource_name,omitempty"`
	// ResourceDocumentation is the URL of the resource's documentation for
	// developers.
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
}

// New returns the metadata of the resource whose tokens v validates:
// AuthorizationServers are v.Authorities(), and BearerMethodsSupported is
// "header", the one way the middleware accepts by default (add "query" or
// "body" if you enable those sources). resource must be an https URL
// without fragment or user information; http is accepted for loopback
// hosts only, so that a development server on 127.0.0.1 can be tried with
// real clients (the MCP SDKs accept http there too).
func New(resource string, v *bearer.Validator) (*Metadata, error) {
	if err := check(resource); err != nil {
		return nil, err
	}
	return &Metadata{
		Resource:               resource,
		AuthorizationServers:   v.Authorities(),
		BearerMethodsSupported: []string{"header"},
	}, nil
}

func check(resource string) error {
	u, err := url.Parse(resource)
	if err != nil || u.Host == "" || u.User != nil || strings.Contains(resource, "#") ||
		(u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return fmt.Errorf("resource: %q is not an https URL without fragment or user information (http only on loopback)", resource)
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// URL returns where the metadata is published: Resource with the
// well-known path inserted between its host and its path (RFC 9728 §3.1),
// https://api.example.com/.well-known/oauth-protected-resource/mcp for
// https://api.example.com/mcp. Give it to middleware.ResourceMetadata. It
// is "" if Resource does not parse.
func (m *Metadata) URL() string {
	u, err := url.Parse(m.Resource)
	if err != nil {
		return ""
	}
	s := u.Scheme + "://" + u.Host + wellKnownPath(u)
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	return s
}

// Path returns the path of URL, to mount m on: mux.Handle(m.Path(), m).
// It is "" if Resource does not parse.
func (m *Metadata) Path() string {
	u, err := url.Parse(m.Resource)
	if err != nil {
		return ""
	}
	return wellKnownPath(u)
}

// wellKnownPath drops a path that is only "/" (RFC 9728 §3.1: a
// terminating slash after the host is removed), and keeps any other path
// as it was written.
func wellKnownPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "/" {
		p = ""
	}
	return wellKnown + p
}

// allow lists the methods the metadata answers.
const allow = "GET, HEAD, OPTIONS"

// ServeHTTP serves m as JSON to GET and HEAD, cacheable for an hour, to
// any origin: the document is public and read by browser-based clients
// too (RFC 9728 §3.1 has clients fetch it with GET; CORS lets scripts of
// any origin read it, without credentials). OPTIONS, the CORS preflight
// included, is answered 204; other methods 405 with Allow.
func (m *Metadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		h.Set("Allow", allow)
		if r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", allow)
			// The wildcard does not cover Authorization (Fetch, CORS-preflight fetch),
			// which some clients send everywhere.
			h.Set("Access-Control-Allow-Headers", "Authorization, *")
			h.Set("Access-Control-Max-Age", "86400")
		}
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		h.Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// URLs as written: "&" in a query stays "&", not "\u0026".
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m) // strings and slices of strings always encode
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body.Bytes())
}
