package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The cases of sender-constrained tokens: DPoP (RFC 9449) and
// certificate-bound tokens (RFC 8705). A case's proof is made per request
// (Case.Proof), since htu names the test server's address.

// The clients' DPoP keys, made once: key generation is slow.
var (
	clientKey = sync.OnceValue(func() *bearertest.DPoPKey { return bearertest.NewDPoPKey("ES256") })
	otherKey  = sync.OnceValue(func() *bearertest.DPoPKey { return bearertest.NewDPoPKey("ES256") })
)

// dpopChallenge is the DPoP challenge of the default algorithms.
const dpopChallenge = `DPoP algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA", realm="api"`

// bound mints a token with scope read bound to the client's key.
func bound(c bearertest.Payload) func(a *bearertest.Authority) string {
	return func(a *bearertest.Authority) string {
		claims := bearertest.Payload{"scope": "read", "cnf": clientKey().Confirmation()}
		for k, v := range c {
			claims[k] = v
		}
		return token(claims)(a)
	}
}

// proof makes one proof by the client's key with header and c merged over
// the good one's.
func proof(header map[string]any, c bearertest.Payload) func(*bearer.Validator, string, string, string) []string {
	return proofBy(clientKey, header, c)
}

func proofBy(key func() *bearertest.DPoPKey, header map[string]any, c bearertest.Payload) func(*bearer.Validator, string, string, string) []string {
	return func(_ *bearer.Validator, method, u, token string) []string {
		return []string{key().ProofWith(method, u, token, header, c)}
	}
}

// withNonce makes a good proof with a nonce the validator issued.
func withNonce(v *bearer.Validator, method, u, token string) []string {
	return []string{clientKey().ProofWith(method, u, token, nil, bearertest.Payload{"nonce": v.DPoPNonce()})}
}

// changeURL makes a good proof whose htu is change(u).
func changeURL(change func(u *url.URL)) func(*bearer.Validator, string, string, string) []string {
	return func(_ *bearer.Validator, method, raw, token string) []string {
		u, _ := url.Parse(raw)
		change(u)
		return []string{clientKey().ProofWith(method, raw, token, nil, bearertest.Payload{"htu": u.String()})}
	}
}

// dpopRefused is a refusal of a DPoP request: the DPoP challenge with the
// error, then Bearer's, both schemes being accepted (RFC 9449 §7.1).
func dpopRefused(status int, code, description string) Want {
	return refused(status, dpopChallenge+`, error="`+code+`", error_description="`+description+`", Bearer realm="api"`,
		`{"error":"`+code+`","error_description":"`+description+`"}`)
}

func badProof(description string) Want { return dpopRefused(401, "invalid_dpop_proof", description) }

// boundAsBearer is a DPoP-bound token presented as Bearer (RFC 9449 §7.2):
// the Bearer challenge with the error, then DPoP's.
var boundAsBearer = refused(401, `Bearer realm="api", error="invalid_token", error_description="DPoP-bound token presented as Bearer", `+dpopChallenge,
	`{"error":"invalid_token","error_description":"DPoP-bound token presented as Bearer"}`)

// withNonceHeaders is want with a DPoP nonce, exposed to browsers.
func withNonceHeaders(want Want) Want {
	want = with(want, "DPoP-Nonce", AnyValue)
	expose := "DPoP-Nonce"
	if e := want.Header["Access-Control-Expose-Headers"]; e != "" {
		expose = e + ", " + expose
	}
	return with(want, "Access-Control-Expose-Headers", expose)
}

func dpopCases(add func(ref string, cs ...Case)) {
	global := Guard{Scope: Global}
	dpop := []string{"DPoP {token}"}
	auth := []string{bearerTk}
	h := &HTTP{}
	good := proof(nil, nil)
	boundTk := bound(nil)
	at := func(ago time.Duration) bearertest.Payload {
		return bearertest.Payload{"iat": time.Now().Add(-ago).Unix()}
	}
	privateJWK := func() map[string]any {
		jwk := clientKey().JWK()
		jwk["d"] = "AAAA"
		return map[string]any{"jwk": jwk}
	}

	add("RFC 9449 §7.1",
		Case{Name: "DPoP: bound token with its proof", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: good, Want: ok(subAlice)},
		Case{Name: "DPoP: scheme in lower case", Guard: global, Token: boundTk, Authorization: []string{"dpop {token}"}, HTTP: h, Proof: good, Want: ok(subAlice)},
		Case{Name: "DPoP: POST with its proof", Guard: global, Token: boundTk, Authorization: dpop, HTTP: &HTTP{Method: http.MethodPost}, Proof: good, Want: ok(subAlice)},
		Case{Name: "DPoP: unbound token with a proof", Guard: global, Token: valid, Authorization: dpop, HTTP: h, Proof: good,
			Want: dpopRefused(401, "invalid_token", "token not DPoP-bound")},
		Case{Name: "DPoP: expired bound token, error in the DPoP challenge", Guard: global, Token: bound(bearertest.Payload{"iat": inSeconds(-7200), "exp": inSeconds(-3600)}),
			Authorization: dpop, HTTP: h, Proof: good, Want: dpopRefused(401, "invalid_token", "token expired")},
		Case{Name: "DPoP: bound token without the scope, 403 in the DPoP challenge", Guard: Guard{Scope: Route, Require: bearer.AnyOf("write")}, Token: boundTk,
			Authorization: dpop, HTTP: h, Proof: good, Want: refused(403, dpopChallenge+`, error="insufficient_scope", error_description="insufficient scope", scope="write", Bearer realm="api"`,
				`{"error":"insufficient_scope","error_description":"insufficient scope","scope":"write"}`)},
		Case{Name: "DPoP: malformed token", Guard: global, Token: boundTk, Authorization: []string{"DPoP {token}{"}, HTTP: h, Proof: good,
			Want: dpopRefused(401, "invalid_token", "malformed token")},
		Case{Name: "DPoP: malformed Bearer token with a proof", Guard: global, Token: valid, Authorization: []string{"Bearer {token}{"}, HTTP: h, Proof: good, Want: malformed},
		Case{Name: "DPoP: optional guard, bad proof is refused", Guard: Guard{Scope: Group, Optional: true}, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: proof(map[string]any{"typ": "JWT"}, nil), Want: badProof("DPoP proof typ is not dpop+jwt")},
	)
	add("RFC 9449 §4.3 (1)",
		Case{Name: "DPoP §4.3: no proof", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Want: badProof("not exactly one DPoP proof")},
		Case{Name: "DPoP §4.3: unbound token, no proof", Guard: global, Token: valid, Authorization: dpop, HTTP: h, Want: badProof("not exactly one DPoP proof")},
		Case{Name: "DPoP §4.3: two DPoP fields", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(v *bearer.Validator, m, u, t string) []string {
				return append(good(v, m, u, t), good(v, m, u, t)...)
			},
			Want: badProof("not exactly one DPoP proof")},
	)
	add("RFC 9449 §4.3 (2)",
		Case{Name: "DPoP §4.3: proof not a JWT", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(*bearer.Validator, string, string, string) []string { return []string{"not-a-jwt"} }, Want: badProof("malformed DPoP proof")},
		Case{Name: "DPoP §4.3: proof with two values in one field", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(v *bearer.Validator, m, u, t string) []string {
				p := good(v, m, u, t)[0]
				return []string{p + ", " + p}
			},
			Want: badProof("malformed DPoP proof")},
	)
	add("RFC 9449 §4.3 (3)",
		Case{Name: "DPoP §4.3: proof without jti", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"jti": nil}), Want: badProof("DPoP proof claims missing")},
		Case{Name: "DPoP §4.3: proof without iat", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"iat": nil}), Want: badProof("DPoP proof claims missing")},
		Case{Name: "DPoP §4.3: proof with a string iat", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"iat": "now"}), Want: badProof("malformed DPoP proof")},
	)
	add("RFC 9449 §4.3 (4)",
		Case{Name: "DPoP §4.3: proof typ JWT", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(map[string]any{"typ": "JWT"}, nil), Want: badProof("DPoP proof typ is not dpop+jwt")},
		Case{Name: "DPoP §4.3: proof without typ", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(map[string]any{"typ": nil}, nil), Want: badProof("DPoP proof typ is not dpop+jwt")},
	)
	add("RFC 9449 §4.3 (5)",
		Case{Name: "DPoP §4.3: proof alg none", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(map[string]any{"alg": "none"}, nil), Want: badProof("DPoP proof algorithm not allowed")},
		Case{Name: "DPoP §4.3: proof alg HS256", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(map[string]any{"alg": "HS256"}, nil), Want: badProof("DPoP proof algorithm not allowed")},
		Case{Name: "DPoP §4.3: proof alg ES384 with a P-256 key", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(map[string]any{"alg": "ES384"}, nil), Want: badProof("DPoP proof signature invalid")},
		Case{Name: "DPoP §4.3: proof with crit", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(map[string]any{"crit": []string{"x"}, "x": 1}, nil), Want: badProof("DPoP proof has crit")},
	)
	add("RFC 9449 §4.3 (6)",
		Case{Name: "DPoP §4.3: proof signed by another key than its jwk", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(v *bearer.Validator, m, u, t string) []string {
				return []string{otherKey().ProofWith(m, u, t, map[string]any{"jwk": clientKey().JWK()}, nil)}
			}, Want: badProof("DPoP proof signature invalid")},
		Case{Name: "DPoP §4.3: proof with a bad signature", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(v *bearer.Validator, m, u, t string) []string {
				p := good(v, m, u, t)[0]
				return []string{p[:strings.LastIndexByte(p, '.')+1] + "AAAA"}
			}, Want: badProof("DPoP proof signature invalid")},
		Case{Name: "DPoP §4.3: proof without jwk", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(map[string]any{"jwk": nil}, nil), Want: badProof("DPoP proof key unusable")},
	)
	add("RFC 9449 §4.3 (7)",
		Case{Name: "DPoP §4.3: proof jwk with the private key", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(v *bearer.Validator, m, u, t string) []string {
				return []string{clientKey().ProofWith(m, u, t, privateJWK(), nil)}
			}, Want: badProof("DPoP proof key unusable")},
	)
	add("RFC 9449 §4.3 (8)",
		Case{Name: "DPoP §4.3: htm another method", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"htm": "POST"}), Want: badProof("DPoP proof htm does not match the method")},
		Case{Name: "DPoP §4.3: htm in lower case", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"htm": "get"}), Want: badProof("DPoP proof htm does not match the method")},
	)
	add("RFC 9449 §4.3 (9)",
		Case{Name: "DPoP §4.3: htu another path", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: changeURL(func(u *url.URL) { u.Path = "/other" }), Want: badProof("DPoP proof htu does not match the URI")},
		Case{Name: "DPoP §4.3: htu another host", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: changeURL(func(u *url.URL) { u.Host = "api.example:" + u.Port() }), Want: badProof("DPoP proof htu does not match the URI")},
		Case{Name: "DPoP §4.3: htu https for an http request", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: changeURL(func(u *url.URL) { u.Scheme = "https" }), Want: badProof("DPoP proof htu does not match the URI")},
		Case{Name: "DPoP §4.3: htu with query and fragment, ignored", Guard: global, Token: boundTk, Authorization: dpop, HTTP: &HTTP{Query: "a=1"},
			Proof: changeURL(func(u *url.URL) { u.RawQuery, u.Fragment = "b=2", "f" }), Want: ok(subAlice)},
		Case{Name: "DPoP §4.3: htu normalised (RFC 3986 §6.2.2)", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: changeURL(func(u *url.URL) {
				u.Scheme, u.Path, u.RawPath = "HTTP", "/./x/../values", "/./x/../%76alues"
			}), Want: ok(subAlice)},
		Case{Name: "DPoP §4.3: forwarded fields not trusted", Guard: global, Token: boundTk, Authorization: dpop,
			HTTP:  &HTTP{Header: http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example"}}},
			Proof: changeURL(func(u *url.URL) { u.Scheme, u.Host = "https", "api.example" }), Want: badProof("DPoP proof htu does not match the URI")},
		Case{Name: "DPoP §4.3: trusted X-Forwarded fields", Guard: Guard{Scope: Global, TrustForwarded: []string{"X-Forwarded-Proto", "X-Forwarded-Host"}}, Token: boundTk, Authorization: dpop,
			HTTP:  &HTTP{Header: http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example, proxy.internal"}}},
			Proof: changeURL(func(u *url.URL) { u.Scheme, u.Host = "https", "api.example" }), Want: ok(subAlice)},
		Case{Name: "DPoP §4.3: trusted Forwarded field (RFC 7239)", Guard: Guard{Scope: Global, TrustForwarded: []string{"Forwarded"}}, Token: boundTk, Authorization: dpop,
			HTTP:  &HTTP{Header: http.Header{"Forwarded": {`for=192.0.2.1;proto=https;host="api.example", for=10.0.0.1`}}},
			Proof: changeURL(func(u *url.URL) { u.Scheme, u.Host = "https", "api.example" }), Want: ok(subAlice)},
	)
	add("RFC 9449 §4.3 (11)",
		Case{Name: "DPoP §4.3: proof iat 10 minutes old", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, at(10*time.Minute)),
			Want: badProof("DPoP proof iat outside the accepted window")},
		Case{Name: "DPoP §4.3: proof iat 10 minutes ahead", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, at(-10*time.Minute)),
			Want: badProof("DPoP proof iat outside the accepted window")},
		Case{Name: "DPoP §4.3: proof iat 30 s old", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, at(30*time.Second)), Want: ok(subAlice)},
	)
	add("RFC 9449 §11.1",
		Case{Name: "DPoP §11.1: proof replayed", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: good, Replay: true, Want: badProof("DPoP proof replayed")},
	)
	add("RFC 9449 §4.3 (12)",
		Case{Name: "DPoP §4.3: ath of another token", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"ath": "4OMzwOx7HbbN4-uOV9nCqXPhTVbOmlRdiDSAB93mYiA"}),
			Want: badProof("DPoP proof ath does not match the token")},
		Case{Name: "DPoP §4.3: proof without ath", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"ath": nil}),
			Want: badProof("DPoP proof ath does not match the token")},
	)
	add("RFC 9449 §6.1",
		Case{Name: "DPoP §6.1: proof by another key than cnf.jkt", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proofBy(otherKey, nil, nil),
			Want: badProof("DPoP proof key does not match the token")},
		Case{Name: "DPoP §6.1: cnf.jkt not a string", Guard: global, Token: token(bearertest.Payload{"scope": "read", "cnf": map[string]any{"jkt": 1}}), Authorization: dpop, HTTP: h, Proof: good,
			Want: dpopRefused(401, "invalid_token", "malformed token")},
	)
	add("RFC 9449 §6.2",
		Case{Name: "DPoP §6.2: introspected bound token with its proof", Guard: global, Setup: Introspecting, Authorization: dpop, HTTP: h, Proof: good,
			Token: func(a *bearertest.Authority) string {
				return a.ReferenceToken(bearertest.Payload{"aud": "api", "scope": "read", "cnf": clientKey().Confirmation(), "token_type": "DPoP"})
			}, Want: ok(subAlice)},
		Case{Name: "DPoP §6.2: introspected bound token, proof by another key", Guard: global, Setup: Introspecting, Authorization: dpop, HTTP: h, Proof: proofBy(otherKey, nil, nil),
			Token: func(a *bearertest.Authority) string {
				return a.ReferenceToken(bearertest.Payload{"aud": "api", "scope": "read", "cnf": clientKey().Confirmation()})
			}, Want: badProof("DPoP proof key does not match the token")},
		Case{Name: "DPoP §6.2: introspected bound token as Bearer", Guard: global, Setup: Introspecting, Authorization: auth,
			Token: func(a *bearertest.Authority) string {
				return a.ReferenceToken(bearertest.Payload{"aud": "api", "scope": "read", "cnf": clientKey().Confirmation()})
			}, Want: boundAsBearer},
	)
	add("RFC 9449 §7.2",
		Case{Name: "DPoP §7.2: bound token as Bearer", Guard: global, Token: boundTk, Authorization: auth, Want: boundAsBearer},
		Case{Name: "DPoP §7.2: bound token as Bearer, with a proof", Guard: global, Token: boundTk, Authorization: auth, HTTP: h, Proof: good,
			Want: invalidRequest("DPoP proof with a Bearer token")},
		Case{Name: "DPoP §7.2: Bearer and DPoP fields together", Guard: global, Token: boundTk, Authorization: []string{bearerTk, "DPoP {token}"}, HTTP: h, Proof: good,
			Want: invalidRequest("more than one Authorization field")},
		Case{Name: "DPoP §7.2: unbound Bearer token still accepted", Guard: global, Token: valid, Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 9449 §7.1 (DPoP required)",
		Case{Name: "DPoP required: no token", Guard: global, Setup: DPoPRequired, HTTP: h, Want: refused(401, dpopChallenge, `{"error_description":"no access token"}`)},
		Case{Name: "DPoP required: Bearer token", Guard: global, Setup: DPoPRequired, Token: valid, Authorization: auth, HTTP: h,
			Want: refused(401, dpopChallenge+`, error="invalid_token", error_description="DPoP required"`, `{"error":"invalid_token","error_description":"DPoP required"}`)},
		Case{Name: "DPoP required: bound token with its proof", Guard: global, Setup: DPoPRequired, Token: boundTk, Authorization: dpop, HTTP: h, Proof: good, Want: ok(subAlice)},
		Case{Name: "DPoP required: bad proof", Guard: global, Setup: DPoPRequired, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"htm": "PUT"}),
			Want: refused(401, dpopChallenge+`, error="invalid_dpop_proof", error_description="DPoP proof htm does not match the method"`,
				`{"error":"invalid_dpop_proof","error_description":"DPoP proof htm does not match the method"}`)},
	)
	add("RFC 9449 §7.2 (DPoP disabled)",
		Case{Name: "DPoP disabled: DPoP scheme is no token", Guard: global, Setup: DPoPDisabled, Token: boundTk, Authorization: dpop, HTTP: h, Proof: good, Want: noToken("api")},
		Case{Name: "DPoP disabled: bound token as Bearer still refused", Guard: global, Setup: DPoPDisabled, Token: boundTk, Authorization: auth, HTTP: h,
			Want: invalidToken("DPoP-bound token presented as Bearer")},
		Case{Name: "DPoP disabled: unbound Bearer token", Guard: global, Setup: DPoPDisabled, Token: valid, Authorization: auth, HTTP: h, Want: ok(subAlice)},
	)
	add("RFC 9449 §9",
		Case{Name: "DPoP §9: nonce required, proof without one", Guard: global, Setup: DPoPNonces, Token: boundTk, Authorization: dpop, HTTP: h, Proof: good,
			Want: withNonceHeaders(dpopRefused(401, "use_dpop_nonce", "DPoP nonce required"))},
		Case{Name: "DPoP §9: proof with the nonce issued", Guard: global, Setup: DPoPNonces, Token: boundTk, Authorization: dpop, HTTP: h, Proof: withNonce,
			Want: withNonceHeaders(ok(subAlice))},
		Case{Name: "DPoP §9: bound token as Bearer gets a nonce", Guard: global, Setup: DPoPNonces, Token: boundTk, Authorization: auth, HTTP: h,
			Want: withNonceHeaders(boundAsBearer)},
	)
	add("RFC 9449 §11.3",
		Case{Name: "DPoP §11.3: forged nonce", Guard: global, Setup: DPoPNonces, Token: boundTk, Authorization: dpop, HTTP: h, Proof: proof(nil, bearertest.Payload{"nonce": "AAAAAGdTsvN0aGlzLWlzLW5vdC1hLXJlYWwtbm9uY2U"}),
			Want: withNonceHeaders(dpopRefused(401, "use_dpop_nonce", "DPoP nonce stale or unknown"))},
		Case{Name: "DPoP §11.3: stale nonce", Guard: global, Setup: DPoPNonces, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(_ *bearer.Validator, m, u, t string) []string {
				return []string{clientKey().ProofWith(m, u, t, nil, bearertest.Payload{"nonce": nonceOf(DPoPNonceSecret, time.Now().Add(-10*time.Minute))})}
			}, Want: withNonceHeaders(dpopRefused(401, "use_dpop_nonce", "DPoP nonce stale or unknown"))},
		Case{Name: "DPoP §11.3: nonce of another replica", Guard: global, Setup: DPoPNonces, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(_ *bearer.Validator, m, u, t string) []string {
				return []string{clientKey().ProofWith(m, u, t, nil, bearertest.Payload{"nonce": nonceOf(DPoPNonceSecret, time.Now())})}
			}, Want: withNonceHeaders(ok(subAlice))},
		Case{Name: "DPoP §11.3: nonce of another secret", Guard: global, Setup: DPoPNonces, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: func(_ *bearer.Validator, m, u, t string) []string {
				return []string{clientKey().ProofWith(m, u, t, nil, bearertest.Payload{"nonce": otherNonce()})}
			}, Want: withNonceHeaders(dpopRefused(401, "use_dpop_nonce", "DPoP nonce stale or unknown"))},
	)
	dpopIssue26Cases(add)
	add("RFC 8705 §3",
		Case{Name: "mTLS §3: certificate-bound token without a certificate", Guard: global, Token: certBound, Authorization: auth,
			Want: invalidToken("certificate-bound token without a client certificate")},
		Case{Name: "mTLS §3: certificate from a trusted field", Guard: Guard{Scope: Global, ClientCertificateHeader: "X-Client-Cert"}, Token: certBound, Authorization: auth,
			HTTP: &HTTP{Header: http.Header{"X-Client-Cert": {url.PathEscape(clientCertPEM())}}}, Want: ok(subAlice)},
		Case{Name: "mTLS §3: another certificate in the trusted field", Guard: Guard{Scope: Global, ClientCertificateHeader: "X-Client-Cert"}, Token: certBound, Authorization: auth,
			HTTP: &HTTP{Header: http.Header{"X-Client-Cert": {url.PathEscape(otherCertPEM())}}}, Want: invalidToken("client certificate does not match the token")},
		Case{Name: "mTLS §3: certificate field not trusted", Guard: global, Token: certBound, Authorization: auth,
			HTTP: &HTTP{Header: http.Header{"X-Client-Cert": {url.PathEscape(clientCertPEM())}}}, Want: invalidToken("certificate-bound token without a client certificate")},
		Case{Name: "mTLS §3: unbound token with a certificate", Guard: Guard{Scope: Global, ClientCertificateHeader: "X-Client-Cert"}, Token: valid, Authorization: auth,
			HTTP: &HTTP{Header: http.Header{"X-Client-Cert": {url.PathEscape(clientCertPEM())}}}, Want: ok(subAlice)},
	)
}

// nonceOf makes a nonce as the DPoPNonces setup would, issued at issued
// under secret: what another replica, or another API, would issue.
func nonceOf(secret []byte, issued time.Time) string {
	b := make([]byte, 16, 32)
	binary.BigEndian.PutUint64(b, uint64(issued.Unix()))
	_, _ = rand.Read(b[8:16])
	m := hmac.New(sha256.New, secret)
	m.Write(b)
	return b64(m.Sum(b)[:32])
}

func otherNonce() string { return nonceOf([]byte("another-secret-another-secret-another"), time.Now()) }

// certBound mints a token bound to the client certificate.
func certBound(a *bearertest.Authority) string {
	return a.Token(bearertest.Payload{"aud": "api", "scope": "read", "cnf": bearertest.CertificateConfirmation(clientCert().Leaf)})
}

// The client certificates, self-signed, made once.
var (
	clientCert = sync.OnceValue(func() tls.Certificate { return selfSigned("client") })
	otherCert  = sync.OnceValue(func() tls.Certificate { return selfSigned("other") })
)

func clientCertPEM() string { return certPEM(clientCert()) }
func otherCertPEM() string  { return certPEM(otherCert()) }

// ClientCertificate is the certificate the certificate-bound tokens of
// the table are bound to, with its key, for tests over real TLS.
func ClientCertificate() tls.Certificate { return clientCert() }

// OtherCertificate is a client certificate no token is bound to.
func OtherCertificate() tls.Certificate { return otherCert() }

// CertificateBoundToken mints a token, with aud api and scope read, bound
// to ClientCertificate.
func CertificateBoundToken(a *bearertest.Authority) string { return certBound(a) }

func selfSigned(name string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func certPEM(c tls.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}))
}

// The big RSA key of the cases: a random odd modulus of 4104 bits, which
// no one holds the private key of.
var bigRSA = sync.OnceValue(func() map[string]any {
	n := make([]byte, 4104/8)
	_, _ = rand.Read(n)
	n[0] |= 0x80
	n[len(n)-1] |= 1
	return map[string]any{"kty": "RSA", "e": "AQAB", "n": b64(n)}
})

// thumbprintOf is the RFC 7638 thumbprint of an RSA JWK.
func thumbprintOf(jwk map[string]any) string {
	sum := sha256.Sum256([]byte(`{"e":"` + jwk["e"].(string) + `","kty":"RSA","n":"` + jwk["n"].(string) + `"}`))
	return b64(sum[:])
}

// unsigned makes a proof, otherwise good, whose header embeds jwk for alg
// and whose signature no key made.
func unsigned(alg string, jwk func() map[string]any) func(*bearer.Validator, string, string, string) []string {
	return func(_ *bearer.Validator, method, u, token string) []string {
		header, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": jwk()})
		ath := sha256.Sum256([]byte(token))
		claims, _ := json.Marshal(map[string]any{"jti": rand.Text(), "htm": method, "htu": u, "iat": time.Now().Unix(), "ath": b64(ath[:])})
		sig := make([]byte, 64)
		_, _ = rand.Read(sig)
		return []string{b64(header) + "." + b64(claims) + "." + b64(sig)}
	}
}

// dpopIssue26Cases are the wire rules of issue 26 §5: DPoP cheap to
// refuse, impossible to flush, strict to read.
func dpopIssue26Cases(add func(ref string, cs ...Case)) {
	global := Guard{Scope: Global}
	dpop := []string{"DPoP {token}"}
	h := &HTTP{}
	good := proof(nil, nil)
	boundTk := bound(nil)
	bigBound := token(bearertest.Payload{"scope": "read", "cnf": map[string]any{"jkt": thumbprintOf(bigRSA())}})
	requiredRefused := func(status int, code, description string) Want {
		return refused(status, dpopChallenge+`, error="`+code+`", error_description="`+description+`"`,
			`{"error":"`+code+`","error_description":"`+description+`"}`)
	}
	add("RFC 9449 §4.3 (2), RFC 7515 §4",
		Case{Name: "DPoP §4.3: proof header names Typ, not typ", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: proof(map[string]any{"typ": nil, "Typ": "dpop+jwt"}, nil), Want: badProof("malformed DPoP proof")},
		Case{Name: "DPoP §4.3: proof header names Jwk, not jwk", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: proof(map[string]any{"jwk": nil, "Jwk": clientKey().JWK()}, nil), Want: badProof("malformed DPoP proof")},
		Case{Name: "DPoP §4.3: proof claims name Htm, not htm", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: proof(nil, bearertest.Payload{"htm": nil, "Htm": "GET"}), Want: badProof("malformed DPoP proof")},
	)
	add("RFC 9449 §4.3 (6), §11.2",
		Case{Name: "DPoP §4.3: proof by another key, refused before its signature", Guard: global, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: unsigned("ES256", otherKey().JWK), Want: badProof("DPoP proof key does not match the token")},
		Case{Name: "DPoP §4.3: proof key RSA over 4096 bits, the token's", Guard: global, Token: bigBound, Authorization: dpop, HTTP: h,
			Proof: unsigned("RS256", bigRSA), Want: badProof("DPoP proof key unusable")},
	)
	add("RFC 9449 §11.1",
		Case{Name: "DPoP §11.1: replay memory full, 503", Guard: global, Setup: DPoPReplayFull, Token: boundTk, Authorization: dpop, HTTP: h, Proof: good,
			Want: unavailableAfter("1")},
	)
	add("RFC 9449 §4.3 (9), §11.1",
		Case{Name: "DPoP §4.3: htu names the public origin", Guard: global, Setup: DPoPOrigins, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: changeURL(func(u *url.URL) { u.Scheme, u.Host = "https", "api.example" }), Want: ok(subAlice)},
		Case{Name: "DPoP §4.3: htu names the request's host, not the public origin", Guard: global, Setup: DPoPOrigins, Token: boundTk, Authorization: dpop, HTTP: h,
			Proof: good, Want: badProof("DPoP proof htu does not match the URI")},
		Case{Name: "DPoP §4.3: public origin, forwarded host not looked at", Guard: Guard{Scope: Global, TrustForwarded: []string{"X-Forwarded-Proto", "X-Forwarded-Host"}}, Setup: DPoPOrigins,
			Token: boundTk, Authorization: dpop, HTTP: &HTTP{Header: http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"other.example"}}},
			Proof: changeURL(func(u *url.URL) { u.Scheme, u.Host = "https", "other.example" }), Want: badProof("DPoP proof htu does not match the URI")},
	)
	add("RFC 9449 §7.1 (DPoP required), RFC 6750 §2",
		Case{Name: "DPoP required: two Authorization fields, DPoP challenge", Guard: global, Setup: DPoPRequired, Token: boundTk, Authorization: []string{"DPoP {token}", "DPoP {token}"}, HTTP: h, Proof: good,
			Want: requiredRefused(400, "invalid_request", "more than one Authorization field")},
		Case{Name: "DPoP required: malformed Bearer token, DPoP challenge", Guard: global, Setup: DPoPRequired, Token: valid, Authorization: []string{"Bearer {token}{"}, HTTP: h,
			Want: requiredRefused(401, "invalid_token", "malformed token")},
		Case{Name: "DPoP required: token in header and query, DPoP challenge", Guard: global, Setup: DPoPRequired, Token: boundTk, Authorization: dpop, HTTP: &HTTP{Query: "access_token=x"}, Proof: good,
			Want: requiredRefused(400, "invalid_request", "token presented in more than one way")},
		Case{Name: "DPoP: token in header and query, DPoP challenge first", Guard: global, Token: boundTk, Authorization: dpop, HTTP: &HTTP{Query: "access_token=x"}, Proof: good,
			Want: dpopRefused(400, "invalid_request", "token presented in more than one way")},
	)
	add("RFC 9449 §6.2, several authorities",
		Case{Name: "DPoP §6.2: several authorities, introspected bound token with its proof", Guard: global, Setup: DPoPSeveral, Authorization: dpop, HTTP: h, Proof: good,
			Token: func(a *bearertest.Authority) string {
				return a.ReferenceToken(bearertest.Payload{"aud": "api", "scope": "read", "cnf": clientKey().Confirmation()})
			}, Want: ok(subAlice)},
		Case{Name: "DPoP §6.2: several authorities, introspected bound token, proof by another key", Guard: global, Setup: DPoPSeveral, Authorization: dpop, HTTP: h, Proof: proofBy(otherKey, nil, nil),
			Token: func(a *bearertest.Authority) string {
				return a.ReferenceToken(bearertest.Payload{"aud": "api", "scope": "read", "cnf": clientKey().Confirmation()})
			}, Want: badProof("DPoP proof key does not match the token")},
	)
}
