package conformance

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// Tokens of the table, minted per request by the authority of the case's
// setup (see Env.Token).

// token mints an RS256 access token with aud "api" and c on top (a nil
// value removes a claim).
func token(c bearertest.Payload) func(a *bearertest.Authority) string {
	return headed("RS256", nil, c)
}

// headed mints a token signed with alg's key, with header merged over
// the default one and aud "api" unless c says otherwise.
func headed(alg string, header map[string]any, c bearertest.Payload) func(a *bearertest.Authority) string {
	return func(a *bearertest.Authority) string {
		claims := bearertest.Payload{"aud": "api"}
		for k, v := range c {
			claims[k] = v
		}
		return a.TokenWith(alg, header, claims)
	}
}

func withScope(scope string) func(a *bearertest.Authority) string {
	return token(bearertest.Payload{"scope": scope})
}

// raw signs header and payload verbatim with the RS256 key, after
// replacing {iss}, {kid} and {exp} (an hour from now).
func raw(header, payload string) func(a *bearertest.Authority) string {
	return func(a *bearertest.Authority) string {
		r := strings.NewReplacer("{iss}", a.Issuer(), "{kid}", a.KeyID("RS256"), "{exp}", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		return a.Sign("RS256", []byte(r.Replace(header)), []byte(r.Replace(payload)))
	}
}

const (
	rawHeader  = `{"alg":"RS256","typ":"at+jwt","kid":"{kid}"}`
	rawPayload = `{"iss":"{iss}","aud":"api","sub":"alice","exp":{exp}}`
)

// inSeconds is now plus s seconds, as minted.
func inSeconds(s int) time.Time { return time.Now().Add(time.Duration(s) * time.Second) }

// resigned replaces the signature of a token minted by mint with what
// change makes of it.
func resigned(mint func(a *bearertest.Authority) string, change func(sig []byte) []byte) func(a *bearertest.Authority) string {
	return func(a *bearertest.Authority) string {
		t := mint(a)
		i := strings.LastIndexByte(t, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(t[i+1:])
		return t[:i+1] + base64.RawURLEncoding.EncodeToString(change(sig))
	}
}

var (
	valid = withScope("read")
	// expired's times are fixed when the package starts, which is near
	// enough for hours; times that must be near now are computed per
	// request.
	expired       = token(bearertest.Payload{"iat": inSeconds(-3 * 3600), "exp": inSeconds(-2 * 3600)})
	otherAudience = token(bearertest.Payload{"aud": "other-api"})
	// badSignature carries one token's header and payload with another
	// token's signature.
	badSignature = func(a *bearertest.Authority) string {
		t1 := strings.Split(a.Token(bearertest.Payload{"aud": "api", "sub": "mallory"}), ".")
		t2 := strings.Split(a.Token(bearertest.Payload{"aud": "api"}), ".")
		return t1[0] + "." + t1[1] + "." + t2[2]
	}
	// algNone claims to be unsigned but carries a signature.
	algNone  = headed("RS256", map[string]any{"alg": "none"}, nil)
	notJWT   = func(*bearertest.Authority) string { return "2YotnFZFEjr1zCsicMWpAA" }
	tooLarge = func(*bearertest.Authority) string { return strings.Repeat("a", maxTokenSize+1) }

	// hmacWithPublicKey is the classic algorithm confusion: HS256 keyed
	// with the PEM of the authority's RSA public key, which the attacker
	// knows.
	hmacWithPublicKey = func(a *bearertest.Authority) string {
		der, _ := x509.MarshalPKIXPublicKey(a.PublicKey("RS256"))
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		input := b64([]byte(`{"alg":"HS256","typ":"at+jwt","kid":"`+a.KeyID("RS256")+`"}`)) + "." +
			b64([]byte(`{"iss":"`+a.Issuer()+`","aud":"api","sub":"mallory","exp":`+strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)+`}`))
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + b64(m.Sum(nil))
	}
	es256 = headed("ES256", nil, nil)
	// derSignature re-encodes ES256's R || S as ASN.1 DER, which some
	// libraries wrongly accept.
	derSignature = resigned(es256, func(sig []byte) []byte {
		der := append([]byte{0x30, 0x44, 0x02, 0x20}, sig[:32]...)
		return append(append(der, 0x02, 0x20), sig[32:]...)
	})
	// shortRSA is signed with a 1024-bit key published in the JWK Set.
	shortRSA = func(a *bearertest.Authority) string {
		return signRS256(shortRSAKey, `{"alg":"RS256","typ":"at+jwt","kid":"`+kidShortRSA+`"}`,
			`{"iss":"`+a.Issuer()+`","aud":"api","sub":"alice","exp":`+strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)+`}`)
	}
	// rotated is signed with the EdDSA key published after the validator
	// fetched the JWK Set.
	rotated = headed("EdDSA", nil, nil)
	// jwe has the five segments of RFC 7516's compact serialization.
	jwe = func(*bearertest.Authority) string {
		return b64([]byte(`{"alg":"RSA-OAEP-256","enc":"A256GCM","typ":"at+jwt"}`)) + ".AAAA.AAAA.AAAA.AAAA"
	}
	// jsonSerialization is RFC 7515 §7.2's flattened JWS JSON.
	jsonSerialization = func(a *bearertest.Authority) string {
		s := strings.Split(a.Token(bearertest.Payload{"aud": "api"}), ".")
		return `{"payload":"` + s[1] + `","protected":"` + s[0] + `","signature":"` + s[2] + `"}`
	}
	// reference is an opaque token the Env's authority introspects as
	// active.
	reference = func(a *bearertest.Authority) string {
		return a.ReferenceToken(bearertest.Payload{"aud": "api", "scope": "read"})
	}
	revoked = func(a *bearertest.Authority) string {
		t := a.ReferenceToken(bearertest.Payload{"aud": "api"})
		a.Revoke(t)
		return t
	}
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

// unavailableAfter is a 503 asking to retry after seconds: 1 while
// discovery or keys fail, 5 when an introspection call failed.
func unavailableAfter(seconds string) Want {
	return Want{Status: http.StatusServiceUnavailable, Body: `{"error_description":"authority unavailable"}` + "\n", Header: map[string]string{
		"Cache-Control":          "no-store",
		"Content-Type":           jsonType,
		"Retry-After":            seconds,
		"X-Content-Type-Options": "nosniff",
	}}
}

var (
	unavailable              = unavailableAfter("1")
	introspectionUnavailable = unavailableAfter("5")
)

// The invalid_token descriptions, one per reason.
var (
	malformed      = invalidToken("malformed token")
	algorithm      = invalidToken("algorithm not allowed")
	forbiddenParam = invalidToken("forbidden header parameter")
	noKey          = invalidToken("no matching signing key")
	signature      = invalidToken("signature invalid")
	tokenType      = invalidToken("token type not accepted")
	issuer         = invalidToken("issuer mismatch")
	audience       = invalidToken("audience mismatch")
	inactive       = invalidToken("token not active")
)

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
	auth := []string{bearerTk}
	var cases []Case
	add := func(ref string, cs ...Case) {
		for _, c := range cs {
			c.Ref = ref
			cases = append(cases, c)
		}
	}

	// Presentation: the Authorization field.
	add("RFC 6750 §3.1",
		Case{Name: "no token", Guard: global, Want: noToken("api")},
		Case{Name: "other scheme is no token", Guard: global, Authorization: []string{"Basic YWxpY2U6c2VjcmV0"}, Want: noToken("api")},
	)
	add("RFC 6750 §2.1",
		Case{Name: "valid token", Guard: global, Token: valid, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "several spaces after the scheme", Guard: global, Token: valid, Authorization: []string{"Bearer   {token}"}, Want: ok(subAlice)},
		Case{Name: "scheme without token", Guard: global, Authorization: []string{"Bearer"}, Want: malformed},
		Case{Name: "scheme and whitespace only", Guard: global, Authorization: []string{"Bearer    "}, Want: malformed},
		Case{Name: "credentials not a b64token", Guard: global, Authorization: []string{"Bearer a b"}, Want: malformed},
		Case{Name: "asterisk in credentials", Guard: global, Authorization: []string{"Bearer *"}, Want: malformed},
		Case{Name: "comma in credentials", Guard: global, Token: valid, Authorization: []string{"Bearer {token},x"}, Want: malformed},
		Case{Name: "quoted credentials", Guard: global, Token: valid, Authorization: []string{`Bearer "{token}"`}, Want: malformed},
		Case{Name: "padding only", Guard: global, Authorization: []string{"Bearer ==="}, Want: malformed},
		Case{Name: "padding inside", Guard: global, Authorization: []string{"Bearer ab=cd"}, Want: malformed},
		Case{Name: "non-ASCII credentials", Guard: global, Authorization: []string{"Bearer tökén"}, HTTP: &HTTP{}, Want: malformed},
		Case{Name: "padding after a JWT", Guard: global, Token: valid, Authorization: []string{"Bearer {token}=="}, Want: malformed},
	)
	// The Validator checks a Bearer token's syntax only when the token is
	// not cached (issue 28): whatever else is wrong with the request, a
	// malformed token is still refused as such first.
	add("RFC 6750 §2.1, §2",
		Case{Name: "credentials not a b64token, access_token in the query too", Guard: global, Authorization: []string{"Bearer a*b"}, HTTP: &HTTP{Query: "access_token=x"}, Want: malformed},
		Case{Name: "credentials not a b64token, access_token in a form too", Guard: global, Authorization: []string{"Bearer a*b"}, HTTP: &HTTP{Form: "access_token=x"}, Want: malformed},
		Case{Name: "credentials not a b64token, query source on", Guard: Guard{Query: true}, Authorization: []string{"Bearer a*b"}, HTTP: &HTTP{Query: "access_token=x"}, Want: malformed},
		Case{Name: "credentials not a b64token and too large", Guard: global, Token: tooLarge, Authorization: []string{"Bearer {token}*"}, Want: malformed},
	)
	add("RFC 9110 §11.1",
		Case{Name: "scheme is case-insensitive", Guard: global, Token: valid, Authorization: []string{"bearer {token}"}, Want: ok(subAlice)},
		Case{Name: "scheme in capitals", Guard: global, Token: valid, Authorization: []string{"BEARER {token}"}, Want: ok(subAlice)},
		Case{Name: "scheme in mixed case", Guard: global, Token: valid, Authorization: []string{"bEaReR {token}"}, Want: ok(subAlice)},
	)
	add("RFC 9449 §7.1")
	add("RFC 9110 §5.3",
		Case{Name: "two Authorization fields", Guard: global, Token: valid, Authorization: []string{bearerTk, bearerTk}, Want: invalidRequest("more than one Authorization field")},
		Case{Name: "empty Authorization field", Guard: global, Authorization: []string{""}, HTTP: &HTTP{}, Want: noToken("api")},
	)

	// Tokens the validator refuses, and the authority being down.
	add("RFC 7519 §4.1.4", Case{Name: "expired", Guard: global, Token: expired, Authorization: auth, Want: invalidToken("token expired")})
	add("RFC 9068 §4", Case{Name: "other audience", Guard: global, Token: otherAudience, Authorization: auth, Want: audience})
	add("RFC 7515 §5.2", Case{Name: "bad signature", Guard: global, Token: badSignature, Authorization: auth, Want: signature})
	add("RFC 7519 §7.2", Case{Name: "not a JWT", Guard: global, Token: notJWT, Authorization: auth, Want: malformed})
	add("RFC 8725 §3.1", Case{Name: "too large", Guard: global, Token: tooLarge, Authorization: auth, Want: invalidToken("token too large")})
	add("RFC 9110 §15.6.4",
		Case{Name: "authority down", Guard: global, Setup: Unreachable, Token: valid, Authorization: auth, Want: unavailable},
		Case{Name: "revocations not in sync, fail closed", Guard: global, Setup: RevocationsUnsynced, Token: valid, Authorization: auth, Want: unavailable},
	)
	add("RFC 6750 §3.1",
		Case{Name: "authority down, no token", Guard: global, Setup: Unreachable, Want: noToken("api")},
		Case{Name: "authority down, not a JWT", Guard: global, Setup: Unreachable, Token: notJWT, Authorization: auth, Want: malformed},
		Case{Name: "revocations not in sync, bad signature", Guard: global, Setup: RevocationsUnsynced, Token: badSignature, Authorization: auth, Want: signature},
	)

	// JWS and algorithms.
	add("RFC 7518 §3.6",
		Case{Name: "alg none", Guard: global, Token: algNone, Authorization: auth, Want: algorithm},
		Case{Name: "alg None", Guard: global, Token: headed("RS256", map[string]any{"alg": "None"}, nil), Authorization: auth, Want: algorithm},
		Case{Name: "unsecured JWS, empty signature", Guard: global, Token: headed("none", nil, nil), Authorization: auth, Want: malformed},
	)
	add("RFC 8725 §3.1",
		Case{Name: "HS256 keyed with the RSA public key", Guard: global, Token: hmacWithPublicKey, Authorization: auth, Want: algorithm},
		Case{Name: "PS256 header on an RS256 key", Guard: global, Token: headed("RS256", map[string]any{"alg": "PS256"}, nil), Authorization: auth, Want: noKey},
	)
	add("RFC 7515 §4.1.3", Case{Name: "embedded jwk", Guard: global, Token: headed("RS256", map[string]any{"jwk": map[string]string{"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, nil), Authorization: auth, Want: forbiddenParam})
	add("RFC 7515 §4.1.2", Case{Name: "jku", Guard: global, Token: headed("RS256", map[string]any{"jku": "https://evil.example/jwks"}, nil), Authorization: auth, Want: forbiddenParam})
	add("RFC 7515 §4.1.5", Case{Name: "x5u", Guard: global, Token: headed("RS256", map[string]any{"x5u": "https://evil.example/cert"}, nil), Authorization: auth, Want: forbiddenParam})
	add("RFC 7515 §4.1.6", Case{Name: "x5c", Guard: global, Token: headed("RS256", map[string]any{"x5c": []string{"MIIB"}}, nil), Authorization: auth, Want: forbiddenParam})
	add("RFC 7515 §4.1.11", Case{Name: "crit", Guard: global, Token: headed("RS256", map[string]any{"crit": []string{"exp"}}, nil), Authorization: auth, Want: forbiddenParam})
	add("RFC 8725 §3.10", Case{Name: "kid path traversal", Guard: global, Token: headed("RS256", map[string]any{"kid": "../../../../dev/null"}, nil), Authorization: auth, Want: noKey})
	add("RFC 7515 §4.1.4", Case{Name: "unknown kid", Guard: global, Token: headed("ES256", map[string]any{"kid": "no-such-key"}, nil), Authorization: auth, Want: noKey})
	add("RFC 7518 §3.4",
		Case{Name: "ES384 header on an ES256 key", Guard: global, Token: headed("ES256", map[string]any{"alg": "ES384"}, nil), Authorization: auth, Want: noKey},
		Case{Name: "ECDSA signature in DER", Guard: global, Token: derSignature, Authorization: auth, Want: signature},
		Case{Name: "ECDSA signature one byte short", Guard: global, Token: resigned(es256, func(s []byte) []byte { return s[:63] }), Authorization: auth, Want: signature},
		Case{Name: "ECDSA signature one byte long", Guard: global, Token: resigned(es256, func(s []byte) []byte { return append(s, 0) }), Authorization: auth, Want: signature},
		Case{Name: "ECDSA signature of zeros", Guard: global, Token: resigned(es256, func(s []byte) []byte { return make([]byte, 64) }), Authorization: auth, Want: signature},
	)
	add("RFC 7518 §3.3",
		Case{Name: "RSA signature one byte short", Guard: global, Token: resigned(valid, func(s []byte) []byte { return s[:len(s)-1] }), Authorization: auth, Want: signature},
		Case{Name: "RSA key under 2048 bits", Guard: global, Token: shortRSA, Authorization: auth, Want: noKey},
	)
	add("RFC 7518 §3.1",
		Case{Name: "RS384", Guard: global, Token: headed("RS384", nil, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "RS512", Guard: global, Token: headed("RS512", nil, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "PS256", Guard: global, Token: headed("PS256", nil, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "PS384", Guard: global, Token: headed("PS384", nil, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "PS512", Guard: global, Token: headed("PS512", nil, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "ES256", Guard: global, Token: es256, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "ES384", Guard: global, Token: headed("ES384", nil, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "ES512", Guard: global, Token: headed("ES512", nil, nil), Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 9964 §5", mldsaCases(global, auth)...)
	add("RFC 7517 §4.2", Case{Name: "key for encryption", Guard: global, Token: headed("ES256", map[string]any{"kid": kidEncryption}, nil), Authorization: auth, Want: noKey})
	add("RFC 7517 §4.3",
		Case{Name: "key_ops without verify", Guard: global, Token: headed("ES256", map[string]any{"kid": kidWrapOnly}, nil), Authorization: auth, Want: noKey},
		Case{Name: "key_ops with verify", Guard: global, Token: headed("ES256", map[string]any{"kid": kidVerifyOnly}, nil), Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 7517 §4.5", Case{Name: "duplicate kids, the second key verifies", Guard: global, Token: headed("RS256", map[string]any{"kid": kidDuplicate}, nil), Authorization: auth, Want: ok(subAlice)})
	add("RFC 7518 §6.2.2.1", Case{Name: "private key member in the JWK Set ignored", Guard: global, Token: headed("ES256", map[string]any{"kid": kidPrivate}, nil), Authorization: auth, Want: ok(subAlice)})
	add("OIDC Core 1.0 §10.1.1", Case{Name: "key published after the last fetch", Guard: global, Token: rotated, Authorization: auth, Want: ok(subAlice)})
	add("RFC 7515 §4",
		Case{Name: "duplicate header member", Guard: global, Token: raw(`{"alg":"RS256","typ":"at+jwt","kid":"{kid}","alg":"RS256"}`, rawPayload), Authorization: auth, Want: malformed},
		Case{Name: "duplicate header member, escaped", Guard: global, Token: raw(`{"alg":"RS256","typ":"at+jwt","kid":"{kid}","\u006bid":"{kid}"}`, rawPayload), Authorization: auth, Want: malformed},
	)
	add("RFC 7519 §4",
		Case{Name: "duplicate claim", Guard: global, Token: raw(rawHeader, `{"iss":"https://evil.example","aud":"api","sub":"alice","exp":{exp},"iss":"{iss}"}`), Authorization: auth, Want: malformed},
		Case{Name: "duplicate unregistered claim", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","aud":"api","sub":"alice","exp":{exp},"role":"user","role":"admin"}`), Authorization: auth, Want: malformed},
		Case{Name: "duplicate claim, escaped", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","aud":"api","sub":"alice","exp":{exp},"\u0073ub":"root"}`), Authorization: auth, Want: malformed},
	)
	add("RFC 8259 §7", Case{Name: "escaped claim names", Guard: global, Token: raw(rawHeader, `{"\u0069ss":"{iss}","a\u0075d":"api","sub":"alice","exp":{exp}}`), Authorization: auth, Want: ok(subAlice)})
	add("RFC 7519 §7.3",
		Case{Name: "ISS is not iss", Guard: global, Token: raw(rawHeader, `{"ISS":"{iss}","aud":"api","sub":"alice","exp":{exp}}`), Authorization: auth, Want: malformed},
		Case{Name: "Aud is not aud", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","Aud":"api","sub":"alice","exp":{exp}}`), Authorization: auth, Want: malformed},
		Case{Name: "EXP is not exp", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","aud":"api","sub":"alice","EXP":{exp}}`), Authorization: auth, Want: malformed},
		Case{Name: "iſs is not iss", Guard: global, Token: raw(rawHeader, `{"iſs":"{iss}","aud":"api","sub":"alice","exp":{exp}}`), Authorization: auth, Want: malformed},
		Case{Name: "ALG is not alg", Guard: global, Token: raw(`{"ALG":"none","alg":"RS256","typ":"at+jwt","kid":"{kid}"}`, rawPayload), Authorization: auth, Want: malformed},
	)
	add("RFC 7519 §7.2",
		Case{Name: "invalid UTF-8 in the payload", Guard: global, Token: raw(rawHeader, "{\"iss\":\"{iss}\",\"aud\":\"api\",\"sub\":\"al\xffce\",\"exp\":{exp}}"), Authorization: auth, Want: malformed},
		Case{Name: "payload is an array", Guard: global, Token: raw(rawHeader, `[{"iss":"{iss}","aud":"api","exp":{exp}}]`), Authorization: auth, Want: malformed},
		Case{Name: "payload is a string", Guard: global, Token: raw(rawHeader, `"{\"iss\":\"{iss}\"}"`), Authorization: auth, Want: malformed},
		Case{Name: "payload is null", Guard: global, Token: raw(rawHeader, `null`), Authorization: auth, Want: malformed},
		Case{Name: "payload with trailing data", Guard: global, Token: raw(rawHeader, rawPayload+`{}`), Authorization: auth, Want: malformed},
	)
	add("RFC 7515 §5.2",
		Case{Name: "invalid UTF-8 in the header", Guard: global, Token: raw("{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"{kid}\",\"x\":\"\xc3\x28\"}", rawPayload), Authorization: auth, Want: malformed},
		Case{Name: "header is an array", Guard: global, Token: raw(`["RS256"]`, rawPayload), Authorization: auth, Want: malformed},
	)
	add("RFC 7515 §7.1",
		Case{Name: "two segments", Guard: global, Token: func(a *bearertest.Authority) string { t := valid(a); return t[:strings.LastIndexByte(t, '.')] }, Authorization: auth, Want: malformed},
		Case{Name: "four segments", Guard: global, Token: func(a *bearertest.Authority) string { return valid(a) + ".AAAA" }, Authorization: auth, Want: malformed},
	)
	add("RFC 7516 §9", Case{Name: "JWE, five segments", Guard: global, Token: jwe, Authorization: auth, Want: malformed})
	add("RFC 7515 §7.2", Case{Name: "JWS JSON serialization", Guard: global, Token: jsonSerialization, Authorization: auth, Want: malformed})

	// Claims.
	add("RFC 9068 §4",
		Case{Name: "typ application/at+jwt", Guard: global, Token: headed("RS256", map[string]any{"typ": "application/at+jwt"}, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "typ AT+JWT", Guard: global, Token: headed("RS256", map[string]any{"typ": "AT+JWT"}, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "iss with a trailing slash", Guard: global, Token: func(a *bearertest.Authority) string { return token(bearertest.Payload{"iss": a.Issuer() + "/"})(a) }, Authorization: auth, Want: issuer},
		Case{Name: "iss in capitals", Guard: global, Token: func(a *bearertest.Authority) string {
			return token(bearertest.Payload{"iss": strings.ToUpper(a.Issuer())})(a)
		}, Authorization: auth, Want: issuer},
		Case{Name: "iss with https", Guard: global, Token: func(a *bearertest.Authority) string {
			return token(bearertest.Payload{"iss": strings.Replace(a.Issuer(), "http:", "https:", 1)})(a)
		}, Authorization: auth, Want: issuer},
		Case{Name: "iss missing", Guard: global, Token: token(bearertest.Payload{"iss": nil}), Authorization: auth, Want: issuer},
		Case{Name: "aud missing", Guard: global, Token: token(bearertest.Payload{"aud": nil}), Authorization: auth, Want: audience},
		Case{Name: "aud empty string", Guard: global, Token: token(bearertest.Payload{"aud": ""}), Authorization: auth, Want: audience},
		Case{Name: "aud empty array", Guard: global, Token: token(bearertest.Payload{"aud": []string{}}), Authorization: auth, Want: audience},
		Case{Name: "aud in another case", Guard: global, Token: token(bearertest.Payload{"aud": "API"}), Authorization: auth, Want: audience},
		// No key here verifies another authority's token; its iss, read
		// without trusting it, names the refusal.
		Case{Name: "another issuer's token, unknown kid", Guard: global, Token: headed("RS256", map[string]any{"kid": "key-of-another-authority"},
			bearertest.Payload{"iss": "https://login.other.example"}), Authorization: auth, Want: issuer},
		Case{Name: "another issuer's token, signature fails", Guard: global, Token: resigned(token(bearertest.Payload{"iss": "https://login.other.example"}),
			func(s []byte) []byte { s[0] ^= 1; return s }), Authorization: auth, Want: issuer},
		Case{Name: "aud array naming the API", Guard: global, Token: token(bearertest.Payload{"aud": []string{"web", "api"}}), Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 7519 §5.1",
		Case{Name: "typ JWT", Guard: global, Token: headed("RS256", map[string]any{"typ": "JWT"}, nil), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "no typ", Guard: global, Token: headed("RS256", map[string]any{"typ": nil}, nil), Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 8725 §3.11",
		Case{Name: "typ logout+jwt", Guard: global, Token: headed("RS256", map[string]any{"typ": "logout+jwt"}, nil), Authorization: auth, Want: tokenType},
		Case{Name: "typ secevent+jwt", Guard: global, Token: headed("RS256", map[string]any{"typ": "secevent+jwt"}, nil), Authorization: auth, Want: tokenType},
		Case{Name: "typ dpop+jwt", Guard: global, Token: headed("RS256", map[string]any{"typ": "dpop+jwt"}, nil), Authorization: auth, Want: tokenType},
	)
	add("RFC 9701 §5", Case{Name: "introspection response JWT", Guard: global, Token: headed("RS256", map[string]any{"typ": "token-introspection+jwt"},
		bearertest.Payload{"token_introspection": map[string]any{"active": true, "sub": "alice"}}), Authorization: auth, Want: tokenType})
	add("OIDC Core 1.0 §2", Case{Name: "ID token", Guard: global, Token: headed("RS256", map[string]any{"typ": "JWT"},
		bearertest.Payload{"aud": "spa-client", "nonce": "n-0S6_WzA2Mj", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "auth_time": inSeconds(-60)}), Authorization: auth, Want: audience})
	add("OIDC Back-Channel Logout 1.0 §2.4", Case{Name: "logout token without typ", Guard: global, Token: headed("RS256", map[string]any{"typ": nil},
		bearertest.Payload{"sid": "08a5019c", "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}), Authorization: auth, Want: tokenType})
	add("OIDC Back-Channel Logout 1.0 §2.7", Case{Name: "revoked session", Guard: global, Token: token(bearertest.Payload{"sid": revokedSession}),
		Authorization: auth, Want: invalidToken("token revoked")})
	add("RFC 7519 §4.1.1", Case{Name: "iss a number", Guard: global, Token: token(bearertest.Payload{"iss": 7}), Authorization: auth, Want: malformed})
	add("RFC 7519 §4.1.3",
		Case{Name: "aud a number", Guard: global, Token: token(bearertest.Payload{"aud": 1}), Authorization: auth, Want: malformed},
		Case{Name: "aud an object", Guard: global, Token: token(bearertest.Payload{"aud": map[string]bool{"api": true}}), Authorization: auth, Want: malformed},
	)
	// Times are minted at request time, ten seconds clear of the 60 s
	// leeway's edges either way.
	add("RFC 7519 §4.1.4",
		Case{Name: "exp 50 s ago, within the leeway", Guard: global, Token: func(a *bearertest.Authority) string { return token(bearertest.Payload{"exp": inSeconds(-50)})(a) }, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "exp 70 s ago, beyond the leeway", Guard: global, Token: func(a *bearertest.Authority) string { return token(bearertest.Payload{"exp": inSeconds(-70)})(a) }, Authorization: auth, Want: invalidToken("token expired")},
		Case{Name: "exp negative", Guard: global, Token: token(bearertest.Payload{"exp": -1}), Authorization: auth, Want: invalidToken("token expired")},
		Case{Name: "exp fractional", Guard: global, Token: func(a *bearertest.Authority) string {
			return token(bearertest.Payload{"exp": float64(inSeconds(3600).Unix()) + 0.5})(a)
		}, Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 9068 §2.2", Case{Name: "exp missing", Guard: global, Token: token(bearertest.Payload{"exp": nil}), Authorization: auth, Want: malformed})
	add("RFC 7519 §2",
		Case{Name: "exp a string", Guard: global, Token: token(bearertest.Payload{"exp": "2099-01-01"}), Authorization: auth, Want: malformed},
		Case{Name: "exp a numeric string", Guard: global, Token: token(bearertest.Payload{"exp": "4102444800"}), Authorization: auth, Want: malformed},
		Case{Name: "exp a boolean", Guard: global, Token: token(bearertest.Payload{"exp": true}), Authorization: auth, Want: malformed},
		Case{Name: "exp null", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","aud":"api","sub":"alice","exp":null}`), Authorization: auth, Want: malformed},
		Case{Name: "exp 1e309", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","aud":"api","sub":"alice","exp":1e309}`), Authorization: auth, Want: malformed},
		Case{Name: "exp 1e300", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","aud":"api","sub":"alice","exp":1e300}`), Authorization: auth, Want: malformed},
		Case{Name: "nbf a string", Guard: global, Token: token(bearertest.Payload{"nbf": "now"}), Authorization: auth, Want: malformed},
		Case{Name: "iat a string", Guard: global, Token: token(bearertest.Payload{"iat": "now"}), Authorization: auth, Want: malformed},
	)
	add("RFC 7519 §4.1.5",
		Case{Name: "nbf in 50 s, within the leeway", Guard: global, Token: func(a *bearertest.Authority) string { return token(bearertest.Payload{"nbf": inSeconds(50)})(a) }, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "nbf in 70 s, beyond the leeway", Guard: global, Token: func(a *bearertest.Authority) string { return token(bearertest.Payload{"nbf": inSeconds(70)})(a) }, Authorization: auth, Want: invalidToken("token not yet valid")},
	)
	add("RFC 7519 §4.1.6",
		Case{Name: "iat in 50 s, within the leeway", Guard: global, Token: func(a *bearertest.Authority) string { return token(bearertest.Payload{"iat": inSeconds(50)})(a) }, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "iat in 70 s, beyond the leeway", Guard: global, Token: func(a *bearertest.Authority) string { return token(bearertest.Payload{"iat": inSeconds(70)})(a) }, Authorization: auth, Want: invalidToken("token issued in the future")},
	)

	// Scope requirements per group and per route.
	add("RFC 6750 §3.1",
		Case{Name: "group: no token", Guard: group, Want: noToken("api")},
		Case{Name: "group: all of, none granted", Guard: group, Token: valid, Authorization: auth, Want: insufficientScope("admin write")},
		Case{Name: "group: all of, one granted", Guard: group, Token: withScope("admin"), Authorization: auth, Want: insufficientScope("admin write")},
		Case{Name: "group: all of, all granted", Guard: group, Token: withScope("write admin"), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "group: invalid token before scopes", Guard: group, Token: expired, Authorization: auth, Want: invalidToken("token expired")},
		Case{Name: "route: any of, one granted", Guard: route, Token: withScope("write"), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "route: any of, none granted", Guard: route, Token: withScope("admin"), Authorization: auth, Want: insufficientScope("read write")},
		Case{Name: "route: no token", Guard: route, Want: noToken("api")},
	)
	// Requirements compose: a second Require adds to the first, it never
	// replaces it.
	both := Guard{Scope: Route, Require: bearer.AllOf("admin"), AlsoRequire: bearer.AllOf("write")}
	add("RFC 6750 §3.1",
		Case{Name: "two requirements: only the second met", Guard: both, Token: withScope("write"), Authorization: auth, Want: insufficientScope("admin")},
		Case{Name: "two requirements: only the first met", Guard: both, Token: withScope("admin"), Authorization: auth, Want: insufficientScope("write")},
		Case{Name: "two requirements: both met", Guard: both, Token: withScope("write admin"), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "two requirements on a group", Guard: Guard{Scope: Group, Require: bearer.AnyOf("read"), AlsoRequire: bearer.AnyOf("admin")}, Token: withScope("read"), Authorization: auth, Want: insufficientScope("admin")},
	)
	add("RFC 6749 §3.3",
		Case{Name: "route: scope substrings", Guard: route, Token: withScope("rea writ"), Authorization: auth, Want: insufficientScope("read write")},
		Case{Name: "route: scope in capitals", Guard: route, Token: withScope("READ WRITE"), Authorization: auth, Want: insufficientScope("read write")},
		Case{Name: "route: scope separated by commas", Guard: route, Token: withScope("read,write"), Authorization: auth, Want: insufficientScope("read write")},
	)
	add("RFC 8693 §4.2",
		Case{Name: "route: scope as an array", Guard: route, Token: token(bearertest.Payload{"scope": []string{"write"}}), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "route: array element with a space", Guard: route, Token: token(bearertest.Payload{"scope": []string{"read write"}}), Authorization: auth, Want: insufficientScope("read write")},
		Case{Name: "route: scp as a string", Guard: route, Token: token(bearertest.Payload{"scp": "write"}), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "route: scp as an array", Guard: route, Token: token(bearertest.Payload{"scp": []string{"read"}}), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "group: scope and scp together", Guard: group, Token: token(bearertest.Payload{"scope": "admin", "scp": []string{"write"}}), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "route: scope a number", Guard: route, Token: token(bearertest.Payload{"scope": 42}), Authorization: auth, Want: malformed},
	)

	// Optional authentication: no token is anonymous, a bad one is not.
	add("RFC 6750 §3.1",
		Case{Name: "optional: no token", Guard: optional, Want: ok(anon)},
		Case{Name: "optional: other scheme", Guard: optional, Authorization: []string{"Basic YWxpY2U6c2VjcmV0"}, Want: ok(anon)},
		Case{Name: "optional: valid token", Guard: optional, Token: valid, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "optional: invalid token", Guard: optional, Token: expired, Authorization: auth, Want: invalidToken("token expired")},
		Case{Name: "optional: malformed", Guard: optional, Authorization: []string{"Bearer a b"}, Want: malformed},
		Case{Name: "optional: insufficient scope", Guard: Guard{Scope: Group, Optional: true, Require: bearer.AllOf("admin")}, Token: valid, Authorization: auth, Want: insufficientScope("admin")},
	)
	add("RFC 9110 §15.6.4", Case{Name: "optional: authority down", Guard: optional, Setup: Unreachable, Token: valid, Authorization: auth, Want: unavailable})
	add("RFC 6750 §3", Case{Name: "realm", Guard: Guard{Scope: Group, Realm: "orders"}, Want: noToken("orders")})

	// Discovery and keys.
	add("OpenID Connect Discovery 1.0 §4.3", Case{Name: "discovery names another issuer", Guard: global, Setup: IssuerMismatch, Token: valid, Authorization: auth, Want: unavailable})
	add("RFC 8414 §3.1", Case{Name: "authority with a path, keys kept while its JWKS fails", Guard: global, Setup: Tenant, Token: valid, Authorization: auth, Want: ok(subAlice)})
	add("RFC 9110 §15.6.4",
		Case{Name: "JWKS down after warm-up, unknown kid", Guard: global, Setup: Tenant, Token: headed("RS256", map[string]any{"kid": "rotated-meanwhile"}, nil), Authorization: auth, Want: unavailable},
		Case{Name: "JWKS down from the start", Guard: global, Setup: ColdJWKSDown, Token: valid, Authorization: auth, Want: unavailable},
		Case{Name: "JWKS down longer than MaxKeySetAge", Guard: global, Setup: StaleKeys, Token: valid, Authorization: auth, Want: unavailable},
		Case{Name: "JWK Set of 2 MiB", Guard: global, Setup: HugeJWKS, Token: valid, Authorization: auth, Want: unavailable},
		Case{Name: "JWK Set body stalls", Guard: global, Setup: SlowJWKS, Token: valid, Authorization: auth, Want: unavailable},
		Case{Name: "JWK Set body stalls, no token", Guard: global, Setup: SlowJWKS, Want: noToken("api")},
	)
	add("OpenID Connect Discovery 1.0 §3", Case{Name: "http jwks_uri under an https authority", Guard: global, Setup: Downgrade, Token: valid, Authorization: auth, Want: unavailable})
	add("RFC 8414 §6.2", Case{Name: "discovery redirects to another host", Guard: global, Setup: Redirect, Token: valid, Authorization: auth, Want: unavailable})

	// Introspection.
	add("RFC 6749 §2.3.1",
		Case{Name: "introspection: credentials with special characters", Guard: global, Setup: Introspecting, Token: reference, Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 7662 §2.2",
		Case{Name: "introspection: revoked", Guard: global, Setup: Introspecting, Token: revoked, Authorization: auth, Want: inactive},
		Case{Name: "introspection: scope of the answer", Guard: route, Setup: Introspecting, Token: reference, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "introspection: JWT still validated locally", Guard: global, Setup: Introspecting, Token: valid, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "introspection: active true", Guard: global, Setup: Canned, Token: cannedToken("active"), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "introspection: active false", Guard: global, Setup: Canned, Token: cannedToken("inactive"), Authorization: auth, Want: inactive},
		Case{Name: `introspection: active "true"`, Guard: global, Setup: Canned, Token: cannedToken("active-string"), Authorization: auth, Want: inactive},
		Case{Name: "introspection: active 1", Guard: global, Setup: Canned, Token: cannedToken("active-number"), Authorization: auth, Want: inactive},
		Case{Name: "introspection: active null", Guard: global, Setup: Canned, Token: cannedToken("active-null"), Authorization: auth, Want: inactive},
		Case{Name: "introspection: active an object", Guard: global, Setup: Canned, Token: cannedToken("active-object"), Authorization: auth, Want: inactive},
		Case{Name: "introspection: active missing", Guard: global, Setup: Canned, Token: cannedToken("active-missing"), Authorization: auth, Want: inactive},
	)
	add("RFC 6750 §3.1",
		Case{Name: "no introspection: reference token is malformed", Guard: global, Setup: NoIntrospection, Token: reference, Authorization: auth, Want: malformed},
		Case{Name: "no introspection: JWT validated locally", Guard: global, Setup: NoIntrospection, Token: valid, Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 7516 §9", Case{Name: "introspection: a JWE is the authority's to judge", Guard: global, Setup: Introspecting, Token: jwe, Authorization: auth, Want: inactive})
	add("RFC 7662 §4",
		Case{Name: "introspection: answer expired", Guard: global, Setup: Canned, Token: cannedToken("expired"), Authorization: auth, Want: invalidToken("token expired")},
		Case{Name: "introspection: answer from another issuer", Guard: global, Setup: Canned, Token: cannedToken("other-issuer"), Authorization: auth, Want: issuer},
		Case{Name: "introspection: answer for another audience", Guard: global, Setup: Canned, Token: cannedToken("other-audience"), Authorization: auth, Want: audience},
	)
	add("RFC 7159 §4",
		Case{Name: "introspection: active twice", Guard: global, Setup: Canned, Token: cannedToken("active-duplicate"), Authorization: auth, Want: introspectionUnavailable},
		Case{Name: "introspection: Active in another case", Guard: global, Setup: Canned, Token: cannedToken("active-other-case"), Authorization: auth, Want: introspectionUnavailable},
		Case{Name: "introspection: answer not an object", Guard: global, Setup: Canned, Token: cannedToken("not-an-object"), Authorization: auth, Want: introspectionUnavailable},
		Case{Name: "introspection: answer not JSON", Guard: global, Setup: Canned, Token: cannedToken("not-json"), Authorization: auth, Want: introspectionUnavailable},
	)
	add("RFC 9110 §15.6.4",
		Case{Name: "introspection: 500", Guard: global, Setup: Canned, Token: cannedToken("server-error"), Authorization: auth, Want: introspectionUnavailable},
		Case{Name: "introspection: timeout", Guard: global, Setup: Canned, Token: cannedToken("slow"), Authorization: auth, Want: introspectionUnavailable},
		Case{Name: "introspection: redirect to another host", Guard: global, Setup: Canned, Token: cannedToken("redirect"), Authorization: auth, Want: introspectionUnavailable},
	)
	add("RFC 7662 §2.3", Case{Name: "introspection: our credentials refused", Guard: global, Setup: Canned, Token: cannedToken("unauthorized"), Authorization: auth, Want: introspectionUnavailable})

	// HTTP only: routing, methods, CORS preflights, other token sources.
	add("RFC 6750 §3.1",
		Case{Name: "unrouted path is guarded", Guard: global, HTTP: &HTTP{Path: "/no/such/route"}, Want: noToken("api")},
		Case{Name: "every method is guarded", Guard: global, HTTP: &HTTP{Method: http.MethodDelete}, Want: noToken("api")},
		Case{Name: "group: public route is not guarded", Guard: group, HTTP: &HTTP{Path: PublicPath}, Want: ok(anon)},
		Case{Name: "route: public route is not guarded", Guard: route, HTTP: &HTTP{Path: PublicPath}, Want: ok(anon)},
	)
	add("RFC 6750 §2.1", Case{Name: "POST with token", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Method: http.MethodPost}, Want: ok(subAlice)})
	// Review finding 1 (issue 18): a preflight is a request without a
	// token like any other; a CORS handler in front of the guard answers it.
	add("Fetch §3.2.2 (CORS preflight)",
		Case{Name: "preflight without token is refused", Guard: group, HTTP: &HTTP{Method: http.MethodOptions, Header: preflight("GET")}, Want: noToken("api")},
		Case{Name: "preflight on a global guard is refused", Guard: global, HTTP: &HTTP{Method: http.MethodOptions, Header: preflight("DELETE")}, Want: noToken("api")},
		Case{Name: "preflight on a route guard is refused", Guard: route, HTTP: &HTTP{Method: http.MethodOptions, Header: preflight("GET")}, Want: noToken("api")},
		Case{Name: "optional: preflight is anonymous", Guard: optional, HTTP: &HTTP{Method: http.MethodOptions, Header: preflight("GET")}, Want: ok(anon)},
		Case{Name: "OPTIONS that is no preflight", Guard: group, HTTP: &HTTP{Method: http.MethodOptions, Header: http.Header{"Origin": {"https://app.example"}}}, Want: noToken("api")},
	)
	add("RFC 6750 §2.3",
		Case{Name: "query: off by default", Guard: global, Token: valid, HTTP: &HTTP{Query: "access_token={token}"}, Want: noToken("api")},
		Case{Name: "query: opt-in", Guard: Guard{Query: true}, Token: valid, HTTP: &HTTP{Query: "access_token={token}"}, Want: with(ok(subAlice), "Cache-Control", "private")},
		Case{Name: "query: refused token", Guard: Guard{Query: true}, Token: expired, HTTP: &HTTP{Query: "access_token={token}"}, Want: invalidToken("token expired")},
		Case{Name: "query: twice", Guard: Guard{Query: true}, Token: valid, HTTP: &HTTP{Query: "access_token={token}&access_token={token}"}, Want: invalidRequest("more than one access_token parameter")},
		Case{Name: "query: empty", Guard: Guard{Query: true}, HTTP: &HTTP{Query: "access_token="}, Want: malformed},
		Case{Name: "query: not a b64token", Guard: Guard{Query: true}, HTTP: &HTTP{Query: "access_token=a%2Ab"}, Want: malformed},
	)
	add("RFC 6750 §2",
		Case{Name: "query and header", Guard: Guard{Query: true}, Token: valid, Authorization: auth, HTTP: &HTTP{Query: "access_token={token}"}, Want: invalidRequest("token presented in more than one way")},
		Case{Name: "form and header", Guard: Guard{Form: true}, Token: valid, Authorization: auth, HTTP: &HTTP{Form: "access_token={token}"}, Want: invalidRequest("token presented in more than one way")},
		// The client leaks its token into URLs or bodies: it must hear of
		// it even though the API reads neither.
		Case{Name: "header and query, query source off", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Query: "access_token={token}"}, Want: invalidRequest("token presented in more than one way")},
		Case{Name: "header and a form field, form source off", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Form: "x=1&access_token={token}"}, Want: invalidRequest("token presented in more than one way")},
		Case{Name: "header and an empty access_token query parameter, query source off", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Query: "access_token="}, Want: invalidRequest("token presented in more than one way")},
		Case{Name: "header and an access_token query parameter with an escaped name, query source off", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Query: "x=1&access%5Ftoken=x"}, Want: invalidRequest("token presented in more than one way")},
		Case{Name: "header and another query parameter", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Query: "token={token}"}, Want: ok(subAlice)},
		Case{Name: "header and a query parameter named like access_token, escaped", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Query: "access%5Ftokens=x&%61ccess=y"}, Want: ok(subAlice)},
		Case{Name: "header and a form without access_token", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Form: "x=1"}, Want: ok(subAlice)},
		Case{Name: "header and access_token in a JSON body", Guard: global, Token: valid, Authorization: auth, HTTP: &HTTP{Form: "access_token={token}", Header: http.Header{"Content-Type": {"application/json"}}}, Want: ok(subAlice)},
		Case{Name: "query without header, query source off", Guard: global, Token: valid, HTTP: &HTTP{Query: "access_token={token}"}, Want: noToken("api")},
	)
	add("RFC 6750 §2.2",
		Case{Name: "form: off by default", Guard: global, Token: valid, HTTP: &HTTP{Form: "access_token={token}"}, Want: noToken("api")},
		Case{Name: "form: opt-in", Guard: Guard{Form: true}, Token: valid, HTTP: &HTTP{Form: "access_token={token}&x=1"}, Want: ok(subAlice)},
		Case{Name: "form: PUT", Guard: Guard{Form: true}, Token: valid, HTTP: &HTTP{Method: http.MethodPut, Form: "access_token={token}"}, Want: ok(subAlice)},
		Case{Name: "form: with a charset", Guard: Guard{Form: true}, Token: valid, HTTP: &HTTP{Form: "access_token={token}", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=UTF-8"}}}, Want: ok(subAlice)},
		Case{Name: "form: GET body ignored", Guard: Guard{Form: true}, Token: valid, HTTP: &HTTP{Method: http.MethodGet, Form: "access_token={token}"}, Want: noToken("api")},
		Case{Name: "form: JSON body ignored", Guard: Guard{Form: true}, Token: valid, HTTP: &HTTP{Form: "access_token={token}", Header: http.Header{"Content-Type": {"application/json"}}}, Want: noToken("api")},
		Case{Name: "form: multipart body ignored", Guard: Guard{Form: true}, Token: valid, HTTP: &HTTP{Form: "access_token={token}", Header: http.Header{"Content-Type": {"multipart/form-data; boundary=x"}}}, Want: noToken("api")},
		Case{Name: "form: twice", Guard: Guard{Form: true}, Token: valid, HTTP: &HTTP{Form: "access_token={token}&access_token={token}"}, Want: invalidRequest("more than one access_token parameter")},
		Case{Name: "form: not a b64token", Guard: Guard{Form: true}, HTTP: &HTTP{Form: "access_token=a%2Ab"}, Want: malformed},
		Case{Name: "form: refused token", Guard: Guard{Form: true}, Token: expired, HTTP: &HTTP{Form: "access_token={token}"}, Want: invalidToken("token expired")},
	)
	// Refusals rendered by the application (middleware.ErrorHandler): only
	// the body changes; the challenge, Retry-After, sources and Optional
	// stay the library's.
	problemGuard := Guard{Scope: Global, ErrorHandler: problem}
	add("RFC 9457 §3",
		Case{Name: "problem: no token", Guard: problemGuard, HTTP: &HTTP{}, Want: rendered(noToken("api"), "no access token")},
		Case{Name: "problem: valid token", Guard: problemGuard, Token: valid, Authorization: auth, HTTP: &HTTP{}, Want: ok(subAlice)},
		Case{Name: "problem: expired", Guard: problemGuard, Token: expired, Authorization: auth, HTTP: &HTTP{}, Want: rendered(invalidToken("token expired"), "token expired")},
		Case{Name: "problem: two Authorization fields", Guard: problemGuard, Token: valid, Authorization: []string{bearerTk, bearerTk}, HTTP: &HTTP{},
			Want: rendered(invalidRequest("more than one Authorization field"), "more than one Authorization field")},
		Case{Name: "problem: insufficient scope", Guard: Guard{Scope: Route, Require: bearer.AllOf("admin"), ErrorHandler: problem}, Token: valid, Authorization: auth, HTTP: &HTTP{},
			Want: rendered(insufficientScope("admin"), "insufficient scope")},
		Case{Name: "problem: authority down", Guard: problemGuard, Setup: Unreachable, Token: valid, Authorization: auth, HTTP: &HTTP{}, Want: rendered(unavailable, "authority unavailable")},
		Case{Name: "problem: optional, no token", Guard: Guard{Scope: Group, Optional: true, ErrorHandler: problem}, HTTP: &HTTP{}, Want: ok(anon)},
		Case{Name: "problem: optional, expired", Guard: Guard{Scope: Group, Optional: true, ErrorHandler: problem}, Token: expired, Authorization: auth, HTTP: &HTTP{},
			Want: rendered(invalidToken("token expired"), "token expired")},
		Case{Name: "problem: query token", Guard: Guard{Query: true, ErrorHandler: problem}, Token: expired, HTTP: &HTTP{Query: "access_token={token}"},
			Want: rendered(invalidToken("token expired"), "token expired")},
	)
	add("RFC 6750 §3",
		Case{Name: "error handler replaces the challenge", Guard: Guard{ErrorHandler: ownChallenge}, Token: expired, Authorization: auth, HTTP: &HTTP{},
			Want: with(rendered(invalidToken("token expired"), "token expired"), "WWW-Authenticate", `Bearer realm="mine"`)},
		Case{Name: "error handler writes nothing", Guard: Guard{ErrorHandler: silent}, Token: expired, Authorization: auth, HTTP: &HTTP{},
			Want: bodiless(invalidToken("token expired"))},
	)
	add("RFC 6265 §4.2",
		Case{Name: "cookie: opt-in", Guard: Guard{Cookie: "at"}, Token: valid, HTTP: &HTTP{Cookie: "at={token}"}, Want: ok(subAlice)},
		Case{Name: "cookie: malformed", Guard: Guard{Cookie: "at"}, HTTP: &HTTP{Cookie: "at=a,b"}, Want: malformed},
		Case{Name: "cookie: twice", Guard: Guard{Cookie: "at"}, Token: valid, HTTP: &HTTP{Cookie: "at={token}; at={token}"}, Want: invalidRequest("more than one token cookie")},
	)
	resourceCases(add)
	dpopCases(add)
	detailsCases(add)
	stepUpCases(add)
	return append(cases, reviewCases()...)
}

// maxTokenSize is the core's default Config.MaxTokenSize.
const maxTokenSize = 16 << 10
