package bearer_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The tests of issue 26 §5: DPoP cheap to refuse, impossible to flush,
// strict to read.

var b64 = base64.RawURLEncoding

// unsignedProof is a proof of header and claims, as JSON, whose signature
// no key made.
func unsignedProof(header map[string]any, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	sig := make([]byte, 64)
	_, _ = rand.Read(sig)
	return b64.EncodeToString(h) + "." + b64.EncodeToString(c) + "." + b64.EncodeToString(sig)
}

// goodClaims are the claims of a proof for a GET of apiURL with token.
func goodClaims(token string) map[string]any {
	ath := sha256.Sum256([]byte(token))
	return map[string]any{"jti": rand.Text(), "htm": "GET", "htu": apiURL, "iat": time.Now().Unix(), "ath": b64.EncodeToString(ath[:])}
}

// bigRSA is a JWK of an RSA key of bits bits that no one holds (a random
// odd modulus), and its RFC 7638 thumbprint.
func bigRSA(bits int) (map[string]any, string) {
	n := make([]byte, bits/8)
	_, _ = rand.Read(n)
	n[0] |= 0x80
	n[len(n)-1] |= 1
	jwk := map[string]any{"kty": "RSA", "e": "AQAB", "n": b64.EncodeToString(n)}
	sum := sha256.Sum256([]byte(`{"e":"AQAB","kty":"RSA","n":"` + jwk["n"].(string) + `"}`))
	return jwk, b64.EncodeToString(sum[:])
}

func wantProofRefused(t *testing.T, err error, description string) {
	t.Helper()
	e := bearer.AsError(err)
	if !errors.Is(err, bearer.ErrDPoPProof) || e.Description != description {
		t.Errorf("got %v, want invalid_dpop_proof %q", err, description)
	}
}

// TestIssue26_5_ThumbprintBeforeSignature: a proof by a key other than the
// token's is refused for its key, before its signature is checked: the
// cheap checks come first, so that a refused proof costs no more than a
// valid one (BenchmarkDPoPProof measures it).
func TestIssue26_5_ThumbprintBeforeSignature(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	key, other := bearertest.NewDPoPKey("ES256"), bearertest.NewDPoPKey("ES256")
	tok := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	big, _ := bigRSA(16384)
	for name, jwk := range map[string]map[string]any{"another EC key": other.JWK(), "an RSA key of 16384 bits": big} {
		alg := "ES256"
		if jwk["kty"] == "RSA" {
			alg = "RS256"
		}
		proof := unsignedProof(map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": jwk}, goodClaims(tok))
		_, err := v.ValidatePresentation(context.Background(), bearer.Presentation{Scheme: "DPoP", Token: tok, Method: "GET", URL: apiURL, DPoP: []string{proof}})
		want := "DPoP proof key does not match the token"
		if jwk["kty"] == "RSA" {
			want = "DPoP proof key unusable" // its size alone refuses it
		}
		t.Run(name, func(t *testing.T) { wantProofRefused(t, err, want) })
	}
}

// TestIssue26_5_RSAProofKeysCapped: an RSA proof key of more than 4096
// bits is refused unverified, even when the token is bound to it.
func TestIssue26_5_RSAProofKeysCapped(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	for _, bits := range []int{4104, 20000} {
		jwk, jkt := bigRSA(bits)
		tok := a.Token(claims(bearertest.Payload{"cnf": map[string]any{"jkt": jkt}}))
		proof := unsignedProof(map[string]any{"typ": "dpop+jwt", "alg": "RS256", "jwk": jwk}, goodClaims(tok))
		_, err := v.ValidatePresentation(context.Background(), bearer.Presentation{Scheme: "DPoP", Token: tok, Method: "GET", URL: apiURL, DPoP: []string{proof}})
		wantProofRefused(t, err, "DPoP proof key unusable")
	}
}

// TestIssue26_5_ProofNamesExact: a proof's header and claim names are
// matched exactly (RFC 7515 §4, RFC 7519 §4), as an access token's are: a
// proof that spells typ, jwk or htm in another case is refused, not read
// as if it had them.
func TestIssue26_5_ProofNamesExact(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	key := bearertest.NewDPoPKey("ES256")
	tok := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	for name, tc := range map[string]struct {
		header map[string]any
		claims bearertest.Payload
	}{
		"Typ": {header: map[string]any{"typ": nil, "Typ": "dpop+jwt"}},
		"Jwk": {header: map[string]any{"jwk": nil, "Jwk": key.JWK()}},
		"Alg": {header: map[string]any{"alg": nil, "Alg": "ES256"}},
		"Htm": {claims: bearertest.Payload{"htm": nil, "Htm": "GET"}},
		"HTU": {claims: bearertest.Payload{"htu": nil, "HTU": apiURL}},
	} {
		_, err := v.ValidatePresentation(context.Background(), dpopRequestWith(key, tok, tc.header, tc.claims))
		t.Run(name, func(t *testing.T) { wantProofRefused(t, err, "malformed DPoP proof") })
	}
	if _, err := v.ValidatePresentation(context.Background(), dpopRequest(key, tok, nil)); err != nil {
		t.Errorf("good proof: %v", err)
	}
}

func dpopRequestWith(key *bearertest.DPoPKey, token string, header map[string]any, c bearertest.Payload) bearer.Presentation {
	return bearer.Presentation{Scheme: "DPoP", Token: token, Method: "GET", URL: apiURL,
		DPoP: []string{key.ProofWith("GET", apiURL, token, header, c)}}
}

// TestIssue26_5_Origins: with DPoPConfig.Origins, htu must name one of the
// API's origins whatever host the request names, so a proof made for
// another origin is refused even with that origin in Host.
func TestIssue26_5_Origins(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{DPoP: bearer.DPoPConfig{Origins: []string{"https://api.example", "https://API.example:8443/"}}})
	key := bearertest.NewDPoPKey("ES256")
	tok := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	for _, tc := range []struct {
		htu, request string
		ok           bool
	}{
		{"https://api.example/values", "http://127.0.0.1:8080/values", true},
		{"https://api.example:443/values", "/values", true},
		{"https://api.example:8443/values", "http://10.0.0.1/values", true},
		{"http://other.example/values", "http://other.example/values", false},
		{"http://127.0.0.1:8080/values", "http://127.0.0.1:8080/values", false},
		{"https://api.example/other", "http://127.0.0.1:8080/values", false},
		{"http://api.example/values", "http://api.example/values", false},
	} {
		p := bearer.Presentation{Scheme: "DPoP", Token: tok, Method: "GET", URL: tc.request,
			DPoP: []string{key.ProofWith("GET", tc.htu, tok, nil, nil)}}
		_, err := v.ValidatePresentation(context.Background(), p)
		if tc.ok && err != nil {
			t.Errorf("htu %s, request %s: %v", tc.htu, tc.request, err)
		}
		if !tc.ok {
			wantProofRefused(t, err, "DPoP proof htu does not match the URI")
		}
	}
	for _, o := range []string{"api.example", "https://api.example/values", "https://api.example?x=1", "https://api.example#f", "ftp://api.example", "https://user@api.example", "https://"} {
		if _, err := bearer.New(context.Background(), bearer.Config{Authority: "https://login.example", Audience: []string{"api"}, DPoP: bearer.DPoPConfig{Origins: []string{o}}}); err == nil {
			t.Errorf("origin %q accepted", o)
		}
	}
}

// TestIssue26_5_EarlyRefusalsNameDPoP: a refusal the transport decided
// before the token was read (Presentation.Err) carries the challenges of
// the Validator's DPoP mode: DPoP alone where DPoP is required.
func TestIssue26_5_EarlyRefusalsNameDPoP(t *testing.T) {
	a := bearertest.New(t)
	early := bearer.NewError(bearer.ErrInvalidRequest, "more than one Authorization field")
	for mode, want := range map[bearer.DPoPMode]string{
		bearer.DPoPRequired: `DPoP algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA", realm="api", error="invalid_request", error_description="more than one Authorization field"`,
		bearer.DPoPAllowed:  `Bearer realm="api", error="invalid_request", error_description="more than one Authorization field"`,
	} {
		v := newValidator(t, a, bearer.Config{DPoP: bearer.DPoPConfig{Mode: mode}})
		_, err := v.ValidatePresentation(context.Background(), bearer.Presentation{Err: early})
		e := bearer.AsError(err)
		if got := e.Challenges("api"); e.Status != 400 || len(got) != 1 || got[0] != want {
			t.Errorf("mode %d: %d %q, want %q", mode, e.Status, got, want)
		}
	}
}

// TestIssue26_5_SeveralAuthoritiesBoundIntrospected: with NewMulti, a
// DPoP-bound reference token, and a bound JWT of a ModeIntrospection
// authority, pass with their proof, and are refused without it.
func TestIssue26_5_SeveralAuthoritiesBoundIntrospected(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	v := newMulti(t, bearer.MultiConfig{Authorities: []bearer.Config{
		{Authority: a.Issuer(), Audience: []string{"api"}, ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret, Logger: quiet},
		{Authority: b.Issuer(), Audience: []string{"api"}, ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret, Mode: bearer.ModeIntrospection, Logger: quiet},
	}})
	key, other := bearertest.NewDPoPKey("ES256"), bearertest.NewDPoPKey("ES256")
	for name, tok := range map[string]string{
		"reference token":          a.ReferenceToken(claims(bearertest.Payload{"cnf": key.Confirmation()})),
		"JWT of ModeIntrospection": b.Token(claims(bearertest.Payload{"cnf": key.Confirmation()})),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := v.ValidatePresentation(context.Background(), dpopRequest(key, tok, nil))
			if err != nil {
				t.Fatalf("with its proof: %v", err)
			}
			if c.Authority() == "" {
				t.Error("claims name no authority")
			}
			_, err = v.ValidatePresentation(context.Background(), dpopRequest(other, tok, nil))
			wantProofRefused(t, err, "DPoP proof key does not match the token")
			mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrBinding)
		})
	}
}
