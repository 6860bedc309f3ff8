package conformance

import (
	"net/http"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/resource"
)

// The protected resource of the RFC 9728 cases. Under Group and Route,
// every router serves Metadata(v) at MetadataPath, unguarded like
// PublicPath; under Global it is not routed.
const (
	MetadataResource = "https://api.example/mcp"
	MetadataPath     = "/.well-known/oauth-protected-resource/mcp"
	MetadataURL      = "https://api.example" + MetadataPath
)

// Metadata returns the metadata of MetadataResource, whose tokens v
// validates, as resource.New makes it, with scopes_supported set.
func Metadata(v *bearer.Validator) http.Handler {
	m, err := resource.New(MetadataResource, v)
	if err != nil {
		panic(err)
	}
	m.ScopesSupported = []string{"read", "write"}
	return m
}

// metadataBody is what Metadata serves; {issuer} is the Env authority's.
const metadataBody = `{"resource":"https://api.example/mcp","authorization_servers":["{issuer}"],"scopes_supported":["read","write"],"bearer_methods_supported":["header"]}` + "\n"

// metadata is a response of the metadata handler: CORS for any origin,
// cacheable.
func metadata(body string) Want {
	return Want{Status: http.StatusOK, Body: body, Header: map[string]string{
		"Access-Control-Allow-Origin": "*",
		"Cache-Control":               "public, max-age=3600",
		"Content-Type":                "application/json",
		"X-Content-Type-Options":      "nosniff",
	}}
}

// withMetadata is w with resource_metadata added to its challenge.
func withMetadata(w Want) Want {
	return with(w, "WWW-Authenticate", w.Header["WWW-Authenticate"]+`, resource_metadata="`+MetadataURL+`"`)
}

// resourceCases are the cases of RFC 9728: the resource_metadata
// parameter in every challenge, and the metadata document.
func resourceCases(add func(ref string, cs ...Case)) {
	rm := func(g Guard) Guard { g.ResourceMetadata = MetadataURL; return g }
	global := rm(Guard{Scope: Global})
	route := rm(Guard{Scope: Route, Require: bearer.AnyOf("read", "write")})
	auth := []string{bearerTk}
	// The gRPC interceptors have no such option: the cases are HTTP's.
	add("RFC 9728 §5.1",
		Case{Name: "resource_metadata: no token", Guard: global, HTTP: &HTTP{}, Want: withMetadata(noToken("api"))},
		Case{Name: "resource_metadata: other realm", Guard: rm(Guard{Realm: "mcp"}), HTTP: &HTTP{}, Want: withMetadata(noToken("mcp"))},
		Case{Name: "resource_metadata: expired token", Guard: global, Token: expired, Authorization: auth, HTTP: &HTTP{}, Want: withMetadata(invalidToken("token expired"))},
		Case{Name: "resource_metadata: malformed token", Guard: global, Authorization: []string{"Bearer a b"}, HTTP: &HTTP{}, Want: withMetadata(malformed)},
		Case{Name: "resource_metadata: two Authorization fields", Guard: global, Token: valid, Authorization: []string{bearerTk, bearerTk}, HTTP: &HTTP{}, Want: withMetadata(invalidRequest("more than one Authorization field"))},
		Case{Name: "resource_metadata: valid token", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{}, Want: ok(subAlice)},
		Case{Name: "resource_metadata: optional, no token", Guard: rm(Guard{Scope: Group, Optional: true}), HTTP: &HTTP{}, Want: ok(anon)},
		Case{Name: "resource_metadata: insufficient scope", Guard: route, Token: withScope("other"), Authorization: auth, HTTP: &HTTP{}, Want: withMetadata(insufficientScope("read write"))},
	)
	add("RFC 9110 §15.6.4",
		Case{Name: "resource_metadata: authority down is no challenge", Guard: global, Setup: Unreachable, Token: valid, Authorization: auth, HTTP: &HTTP{}, Want: unavailable},
	)

	// The document: public, read with GET by clients of any origin.
	meta := func(h *HTTP) *HTTP { h.Path = MetadataPath; return h }
	add("RFC 9728 §3.1",
		Case{Name: "metadata: GET", Guard: route, HTTP: meta(&HTTP{}), Want: metadata(metadataBody)},
		Case{Name: "metadata: needs no token", Guard: route, Authorization: []string{"Bearer a b"}, HTTP: meta(&HTTP{}), Want: metadata(metadataBody)},
		Case{Name: "metadata: beside a group guard", Guard: Guard{Scope: Group, Require: bearer.AllOf("admin")}, HTTP: meta(&HTTP{}), Want: metadata(metadataBody)},
	)
	add("RFC 9110 §9.3.2",
		Case{Name: "metadata: HEAD", Guard: route, HTTP: meta(&HTTP{Method: http.MethodHead}), Want: metadata("")},
	)
	add("Fetch §3.2.3",
		Case{Name: "metadata: cross-origin GET", Guard: route, HTTP: meta(&HTTP{Header: http.Header{"Origin": {"https://app.example"}}}), Want: metadata(metadataBody)},
		Case{Name: "metadata: preflight", Guard: route, HTTP: meta(&HTTP{Method: http.MethodOptions, Header: http.Header{
			"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"mcp-protocol-version"},
		}}), Want: Want{Status: http.StatusNoContent, Header: map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
			"Access-Control-Allow-Headers": "Authorization, *",
			"Access-Control-Max-Age":       "86400",
			"Allow":                        "GET, HEAD, OPTIONS",
		}}},
	)
	add("RFC 9110 §9.3.7",
		Case{Name: "metadata: OPTIONS", Guard: route, HTTP: meta(&HTTP{Method: http.MethodOptions}), Want: Want{Status: http.StatusNoContent, Header: map[string]string{
			"Access-Control-Allow-Origin": "*",
			"Allow":                       "GET, HEAD, OPTIONS",
		}}},
	)
	add("RFC 9110 §15.5.6",
		Case{Name: "metadata: POST", Guard: route, HTTP: meta(&HTTP{Method: http.MethodPost, Form: "x=1"}), Want: Want{Status: http.StatusMethodNotAllowed, Body: "method not allowed\n", Header: map[string]string{
			"Access-Control-Allow-Origin": "*",
			"Allow":                       "GET, HEAD, OPTIONS",
			"Content-Type":                "text/plain; charset=utf-8",
			"X-Content-Type-Options":      "nosniff",
		}}},
	)
}
