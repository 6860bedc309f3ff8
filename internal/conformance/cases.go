package conformance

import (
	"net/http"
	"strings"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// Tokens of the table, minted per run by the Env's authority.
func withScope(scope string) func(a *bearertest.Authority) string {
	return func(a *bearertest.Authority) string {
		return a.Token(bearertest.Claims{"aud": "api", "scope": scope})
	}
}

var (
	valid   = withScope("read")
	expired = func(a *bearertest.Authority) string {
		return a.Token(bearertest.Claims{"aud": "api", "iat": time.Now().Add(-3 * time.Hour), "exp": time.Now().Add(-2 * time.Hour)})
	}
	otherAudience = func(a *bearertest.Authority) string {
		return a.Token(bearertest.Claims{"aud": "other-api"})
	}
	// badSignature carries one token's header and payload with another
	// token's signature.
	badSignature = func(a *bearertest.Authority) string {
		t1 := strings.Split(a.Token(bearertest.Claims{"aud": "api", "sub": "mallory"}), ".")
		t2 := strings.Split(a.Token(bearertest.Claims{"aud": "api"}), ".")
		return t1[0] + "." + t1[1] + "." + t2[2]
	}
	// algNone claims to be unsigned but carries a signature.
	algNone = func(a *bearertest.Authority) string {
		return a.TokenWith("RS256", map[string]any{"alg": "none"}, bearertest.Claims{"aud": "api"})
	}
	notJWT   = func(*bearertest.Authority) string { return "2YotnFZFEjr1zCsicMWpAA" }
	tooLarge = func(*bearertest.Authority) string { return strings.Repeat("a", bearer.DefaultMaxTokenSize+1) }
)

const (
	jsonType = "application/json; charset=utf-8"
	bearerTk = "Bearer {token}"
	subAlice = `{"sub":"alice"}` + "\n"
	anon     = `{"anonymous":true}` + "\n"
)

// ok is a response from Respond.
func ok(body string) Want {
	return Want{Status: http.StatusOK, Header: map[string]string{"Content-Type": jsonType}, Body: body}
}

// refused is a response from bearer.WriteError with a challenge.
func refused(status int, challenge, body string) Want {
	return Want{Status: status, Body: body + "\n", Header: map[string]string{
		"WWW-Authenticate":              challenge,
		"Access-Control-Expose-Headers": "WWW-Authenticate",
		"Cache-Control":                 "no-store",
		"Content-Type":                  jsonType,
		"X-Content-Type-Options":        "nosniff",
	}}
}

func noToken(realm string) Want {
	return refused(401, `Bearer realm="`+realm+`"`, `{"error_description":"no access token"}`)
}

func invalidToken(description string) Want {
	return refused(401, `Bearer realm="api", error="invalid_token", error_description="`+description+`"`,
		`{"error":"invalid_token","error_description":"`+description+`"}`)
}

func invalidRequest(description string) Want {
	return refused(400, `Bearer realm="api", error="invalid_request", error_description="`+description+`"`,
		`{"error":"invalid_request","error_description":"`+description+`"}`)
}

func insufficientScope(scope string) Want {
	return refused(403, `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="`+scope+`"`,
		`{"error":"insufficient_scope","error_description":"insufficient scope","scope":"`+scope+`"}`)
}

var unavailable = Want{Status: http.StatusServiceUnavailable, Body: `{"error_description":"authority unavailable"}` + "\n", Header: map[string]string{
	"Cache-Control":          "no-store",
	"Content-Type":           jsonType,
	"Retry-After":            "1",
	"X-Content-Type-Options": "nosniff",
}}

// with returns w with header name set to value.
func with(w Want, name, value string) Want {
	h := make(map[string]string, len(w.Header)+1)
	for k, v := range w.Header {
		h[k] = v
	}
	h[name] = value
	w.Header = h
	return w
}

func preflight(method string) http.Header {
	return http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {method}}
}

// Cases returns the table. Each call returns fresh values.
func Cases() []Case {
	global := Guard{Scope: Global}
	group := Guard{Scope: Group, Require: bearer.AllOf("admin", "write")}
	route := Guard{Scope: Route, Require: bearer.AnyOf("read", "write")}
	optional := Guard{Scope: Group, Optional: true}
	return []Case{
		// The Authorization field (RFC 6750 §2.1).
		{Name: "no token", Guard: global, Want: noToken("api")},
		{Name: "valid token", Guard: global, Token: valid, Authorization: []string{bearerTk}, Want: ok(subAlice)},
		{Name: "scheme is case-insensitive", Guard: global, Token: valid, Authorization: []string{"bearer {token}"}, Want: ok(subAlice)},
		{Name: "other scheme is no token", Guard: global, Authorization: []string{"Basic YWxpY2U6c2VjcmV0"}, Want: noToken("api")},
		{Name: "scheme without token", Guard: global, Authorization: []string{"Bearer"}, Want: invalidRequest("malformed bearer credentials")},
		{Name: "credentials not a b64token", Guard: global, Authorization: []string{"Bearer a b"}, Want: invalidRequest("malformed bearer credentials")},
		{Name: "two Authorization fields", Guard: global, Token: valid, Authorization: []string{bearerTk, bearerTk}, Want: invalidRequest("more than one Authorization field")},

		// Tokens the validator refuses.
		{Name: "expired", Guard: global, Token: expired, Authorization: []string{bearerTk}, Want: invalidToken("token expired")},
		{Name: "other audience", Guard: global, Token: otherAudience, Authorization: []string{bearerTk}, Want: invalidToken("audience mismatch")},
		{Name: "bad signature", Guard: global, Token: badSignature, Authorization: []string{bearerTk}, Want: invalidToken("signature invalid")},
		{Name: "alg none", Guard: global, Token: algNone, Authorization: []string{bearerTk}, Want: invalidToken("algorithm not allowed")},
		{Name: "not a JWT", Guard: global, Token: notJWT, Authorization: []string{bearerTk}, Want: invalidToken("malformed token")},
		{Name: "too large", Guard: global, Token: tooLarge, Authorization: []string{bearerTk}, Want: invalidToken("token too large")},

		// The authority is down: 503 for tokens that need it, and the
		// client's fault still reported as such.
		{Name: "authority down", Guard: global, Down: true, Token: valid, Authorization: []string{bearerTk}, Want: unavailable},
		{Name: "authority down, no token", Guard: global, Down: true, Want: noToken("api")},
		{Name: "authority down, not a JWT", Guard: global, Down: true, Token: notJWT, Authorization: []string{bearerTk}, Want: invalidToken("malformed token")},

		// Scope requirements per group and per route.
		{Name: "group: no token", Guard: group, Want: noToken("api")},
		{Name: "group: all of, none granted", Guard: group, Token: valid, Authorization: []string{bearerTk}, Want: insufficientScope("admin write")},
		{Name: "group: all of, one granted", Guard: group, Token: withScope("admin"), Authorization: []string{bearerTk}, Want: insufficientScope("admin write")},
		{Name: "group: all of, all granted", Guard: group, Token: withScope("write admin"), Authorization: []string{bearerTk}, Want: ok(subAlice)},
		{Name: "group: invalid token before scopes", Guard: group, Token: expired, Authorization: []string{bearerTk}, Want: invalidToken("token expired")},
		{Name: "route: any of, one granted", Guard: route, Token: withScope("write"), Authorization: []string{bearerTk}, Want: ok(subAlice)},
		{Name: "route: any of, none granted", Guard: route, Token: withScope("admin"), Authorization: []string{bearerTk}, Want: insufficientScope("read write")},
		{Name: "route: no token", Guard: route, Want: noToken("api")},

		// Optional authentication: no token is anonymous, a bad one is not.
		{Name: "optional: no token", Guard: optional, Want: ok(anon)},
		{Name: "optional: other scheme", Guard: optional, Authorization: []string{"Basic YWxpY2U6c2VjcmV0"}, Want: ok(anon)},
		{Name: "optional: valid token", Guard: optional, Token: valid, Authorization: []string{bearerTk}, Want: ok(subAlice)},
		{Name: "optional: invalid token", Guard: optional, Token: expired, Authorization: []string{bearerTk}, Want: invalidToken("token expired")},
		{Name: "optional: malformed", Guard: optional, Authorization: []string{"Bearer a b"}, Want: invalidRequest("malformed bearer credentials")},
		{Name: "optional: insufficient scope", Guard: Guard{Scope: Group, Optional: true, Require: bearer.AllOf("admin")}, Token: valid, Authorization: []string{bearerTk}, Want: insufficientScope("admin")},
		{Name: "optional: authority down", Guard: optional, Down: true, Token: valid, Authorization: []string{bearerTk}, Want: unavailable},

		{Name: "realm", Guard: Guard{Scope: Group, Realm: "orders"}, Want: noToken("orders")},

		// HTTP only: routing, methods, CORS preflights, other token sources.
		{Name: "unrouted path is guarded", Guard: global, HTTP: &HTTP{Path: "/no/such/route"}, Want: noToken("api")},
		{Name: "every method is guarded", Guard: global, HTTP: &HTTP{Method: http.MethodDelete}, Want: noToken("api")},
		{Name: "POST with token", Guard: global, Token: valid, Authorization: []string{bearerTk}, HTTP: &HTTP{Method: http.MethodPost}, Want: ok(subAlice)},
		{Name: "group: public route is not guarded", Guard: group, HTTP: &HTTP{Path: PublicPath}, Want: ok(anon)},
		{Name: "route: public route is not guarded", Guard: route, HTTP: &HTTP{Path: PublicPath}, Want: ok(anon)},
		{Name: "preflight passes without token", Guard: group, HTTP: &HTTP{Method: http.MethodOptions, Header: preflight("GET")}, Want: ok(anon)},
		{Name: "preflight with CheckPreflight", Guard: Guard{Scope: Group, CheckPreflight: true}, HTTP: &HTTP{Method: http.MethodOptions, Header: preflight("GET")}, Want: noToken("api")},
		{Name: "OPTIONS that is no preflight", Guard: group, HTTP: &HTTP{Method: http.MethodOptions, Header: http.Header{"Origin": {"https://app.example"}}}, Want: noToken("api")},
		{Name: "query: off by default", Guard: global, Token: valid, HTTP: &HTTP{Query: "access_token={token}"}, Want: noToken("api")},
		{Name: "query: opt-in", Guard: Guard{Query: true}, Token: valid, HTTP: &HTTP{Query: "access_token={token}"}, Want: with(ok(subAlice), "Cache-Control", "private")},
		{Name: "query: refused token", Guard: Guard{Query: true}, Token: expired, HTTP: &HTTP{Query: "access_token={token}"}, Want: invalidToken("token expired")},
		{Name: "query and header", Guard: Guard{Query: true}, Token: valid, Authorization: []string{bearerTk}, HTTP: &HTTP{Query: "access_token={token}"}, Want: invalidRequest("token presented in more than one way")},
		{Name: "query: twice", Guard: Guard{Query: true}, Token: valid, HTTP: &HTTP{Query: "access_token={token}&access_token={token}"}, Want: invalidRequest("malformed access_token parameter")},
		{Name: "form: off by default", Guard: global, Token: valid, HTTP: &HTTP{Form: "access_token={token}"}, Want: noToken("api")},
		{Name: "form: opt-in", Guard: Guard{Form: true}, Token: valid, HTTP: &HTTP{Form: "access_token={token}&x=1"}, Want: ok(subAlice)},
		{Name: "cookie: opt-in", Guard: Guard{Cookie: "at"}, Token: valid, HTTP: &HTTP{Cookie: "at={token}"}, Want: ok(subAlice)},
		{Name: "cookie: malformed", Guard: Guard{Cookie: "at"}, HTTP: &HTTP{Cookie: "at=a,b"}, Want: invalidRequest("malformed token cookie")},
	}
}
