package bearertest_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/loopback"
)

// algs are the algorithms the authority signs with: ML-DSA's too with Go
// 1.27 or later (mldsaAlgs).
var algs = slices.Concat([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}, mldsaAlgs)

var endpoints = []bearertest.Endpoint{bearertest.Discovery, bearertest.Metadata, bearertest.JWKS, bearertest.Introspection}

// get fetches url and returns the status, Content-Type and body.
func get(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// getJSON fetches url, requires a 200 JSON answer and decodes it.
func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	code, ctype, body := get(t, url)
	if code != http.StatusOK || ctype != "application/json" {
		t.Fatalf("GET %s: %d %q %s", url, code, ctype, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return doc
}

func status(t *testing.T, url string) int {
	t.Helper()
	code, _, _ := get(t, url)
	return code
}

func discoveryURL(a *bearertest.Authority) string {
	return a.URL + "/.well-known/openid-configuration"
}

func metadataURL(a *bearertest.Authority) string {
	return a.URL + "/.well-known/oauth-authorization-server"
}

func introspectURL(a *bearertest.Authority) string { return a.URL + "/introspect" }

// segment decodes one base64url JSON segment of a token.
func segment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// fetchKeys follows discovery to the JWKS over HTTP and indexes it by kid.
func fetchKeys(t *testing.T, a *bearertest.Authority) map[string]map[string]any {
	t.Helper()
	jwks := getJSON(t, getJSON(t, discoveryURL(a))["jwks_uri"].(string))
	keys := make(map[string]map[string]any)
	for _, k := range jwks["keys"].([]any) {
		m := k.(map[string]any)
		keys[m["kid"].(string)] = m
	}
	return keys
}

// parseJWK checks the members a published JWK must have and turns it into a
// public key with the standard library only.
func parseJWK(t *testing.T, alg string, k map[string]any) crypto.PublicKey {
	t.Helper()
	for _, name := range []string{"kid", "kty", "alg", "use"} {
		if _, ok := k[name].(string); !ok {
			t.Fatalf("%s JWK lacks %q: %v", alg, name, k)
		}
	}
	if k["alg"] != alg || k["use"] != "sig" {
		t.Fatalf("%s JWK: alg %v use %v", alg, k["alg"], k["use"])
	}
	b := func(name string) []byte {
		s, _ := k[name].(string)
		v, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(v) == 0 {
			t.Fatalf("%s JWK member %q: %q %v", alg, name, s, err)
		}
		return v
	}
	switch k["kty"] {
	case "RSA":
		n, e := b("n"), b("e")
		if n[0] == 0 || e[0] == 0 || len(n) != 256 {
			t.Fatalf("%s JWK: n or e not minimal, or not 2048 bits", alg)
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case "EC":
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if k["crv"] != curve.Params().Name {
			t.Fatalf("%s JWK crv %v", alg, k["crv"])
		}
		size := (curve.Params().BitSize + 7) / 8
		x, y := b("x"), b("y")
		if len(x) != size || len(y) != size {
			t.Fatalf("%s JWK coordinates are %d and %d bytes, want %d", alg, len(x), len(y), size)
		}
		ecdhCurve := map[string]ecdh.Curve{"ES256": ecdh.P256(), "ES384": ecdh.P384(), "ES512": ecdh.P521()}[alg]
		if _, err := ecdhCurve.NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
			t.Fatalf("%s JWK: %v", alg, err) // not a point on the curve
		}
		return &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	case "OKP":
		x := b("x")
		if k["crv"] != "Ed25519" || len(x) != ed25519.PublicKeySize {
			t.Fatalf("%s JWK: crv %v, %d bytes", alg, k["crv"], len(x))
		}
		return ed25519.PublicKey(x)
	case "AKP":
		pub, err := akpKey(alg, b("pub"))
		if err != nil {
			t.Fatalf("%s JWK: %v", alg, err)
		}
		return pub
	}
	t.Fatalf("%s JWK: kty %v", alg, k["kty"])
	return nil
}

// verify checks a compact JWS's signature with the standard library only.
func verify(alg, token string, pub crypto.PublicKey) error {
	i := strings.LastIndexByte(token, '.')
	input := []byte(token[:i])
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		return err
	}
	hash := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}[alg[2:]]
	var digest []byte
	if hash != 0 {
		h := hash.New()
		h.Write(input)
		digest = h.Sum(nil)
	}
	switch alg[:2] {
	case "RS":
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), hash, digest, sig)
	case "PS":
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES":
		pk := pub.(*ecdsa.PublicKey)
		size := (pk.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return fmt.Errorf("ECDSA signature is %d bytes, want %d", len(sig), 2*size)
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(pk, digest, r, s) {
			return errors.New("bad ECDSA signature")
		}
	case "Ed":
		if !ed25519.Verify(pub.(ed25519.PublicKey), input, sig) {
			return errors.New("bad EdDSA signature")
		}
	case "ML":
		return verifyMLDSA(pub, input, sig)
	default:
		return fmt.Errorf("alg %s", alg)
	}
	return nil
}

func TestDiscovery(t *testing.T) {
	a := bearertest.New(t)
	for _, url := range []string{discoveryURL(a), metadataURL(a)} {
		doc := getJSON(t, url)
		want := map[string]string{
			"issuer":                 a.Issuer(),
			"jwks_uri":               a.JWKSURL(),
			"introspection_endpoint": a.Issuer() + "/introspect",
			"token_endpoint":         a.Issuer() + "/token",
		}
		for name, v := range want {
			if doc[name] != v {
				t.Errorf("%s: %s = %v, want %q", url, name, doc[name], v)
			}
		}
		for _, name := range []string{"id_token_signing_alg_values_supported", "response_types_supported", "subject_types_supported", "scopes_supported"} {
			if l, ok := doc[name].([]any); !ok || len(l) == 0 {
				t.Errorf("%s: %s = %v, want a non-empty list", url, name, doc[name])
			}
		}
	}
	if a.Issuer() != a.URL || a.JWKSURL() != a.URL+"/jwks" {
		t.Errorf("Issuer %q, JWKSURL %q, URL %q", a.Issuer(), a.JWKSURL(), a.URL)
	}
	if !strings.HasPrefix(a.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q is not on 127.0.0.1", a.URL)
	}
}

func TestTokensVerifyWithFetchedJWKS(t *testing.T) {
	a := bearertest.New(t)
	keys := fetchKeys(t, a)
	if len(keys) != len(algs) {
		t.Errorf("JWKS has %d keys, want one per alg (%d)", len(keys), len(algs))
	}
	for _, alg := range algs {
		token := a.TokenWith(alg, nil, bearertest.Payload{"aud": "api"})
		h := segment(t, token, 0)
		if h["alg"] != alg || h["typ"] != "at+jwt" || h["kid"] != a.KeyID(alg) {
			t.Errorf("%s header %v", alg, h)
		}
		jwk, ok := keys[a.KeyID(alg)]
		if !ok {
			t.Errorf("%s: kid %q not published", alg, a.KeyID(alg))
			continue
		}
		pub := parseJWK(t, alg, jwk)
		if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(a.PublicKey(alg)) {
			t.Errorf("%s: published key differs from PublicKey", alg)
		}
		if err := verify(alg, token, pub); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		if c := segment(t, token, 1); c["aud"] != "api" || c["iss"] != a.Issuer() {
			t.Errorf("%s claims %v", alg, c)
		}
	}
}

func TestTokenDefaults(t *testing.T) {
	a := bearertest.New(t)
	before := time.Now().Unix()
	token := a.Token(nil)
	h, c := segment(t, token, 0), segment(t, token, 1)
	if len(h) != 3 || h["alg"] != "RS256" || h["typ"] != "at+jwt" || h["kid"] != a.KeyID("RS256") {
		t.Errorf("header %v", h)
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	if c["iss"] != a.Issuer() || c["sub"] != "alice" || c["client_id"] != "client" ||
		int64(iat) < before || int64(iat) > time.Now().Unix() || exp != iat+3600 || c["jti"] == "" {
		t.Errorf("claims %v", c)
	}
	if _, ok := c["aud"]; ok {
		t.Error("aud added by default")
	}
	if _, ok := c["scope"]; ok {
		t.Error("scope added by default")
	}
	if c2 := segment(t, a.Token(nil), 1); c2["jti"] == c["jti"] {
		t.Error("jti repeated")
	}

	c = segment(t, a.Token(bearertest.Payload{"sub": "bob", "jti": nil, "exp": time.Unix(100, 0), "scp": []string{"a", "b"}}), 1)
	if c["sub"] != "bob" || c["exp"] != float64(100) || fmt.Sprint(c["scp"]) != "[a b]" {
		t.Errorf("overridden claims %v", c)
	}
	if _, ok := c["jti"]; ok {
		t.Error("jti not removed")
	}

	token = a.TokenWith("ES256", map[string]any{"typ": nil, "kid": "other", "cty": "x"}, nil)
	if h := segment(t, token, 0); len(h) != 3 || h["alg"] != "ES256" || h["kid"] != "other" || h["cty"] != "x" {
		t.Errorf("merged header %v", h)
	}
	// header["alg"] changes only the header: the signature is still ES256.
	token = a.TokenWith("ES256", map[string]any{"alg": "RS256"}, nil)
	if err := verify("ES256", token, a.PublicKey("ES256")); err != nil || segment(t, token, 0)["alg"] != "RS256" {
		t.Errorf("alg override: %v", err)
	}

	token = a.TokenWith("none", nil, nil)
	if h := segment(t, token, 0); !strings.HasSuffix(token, ".") || h["alg"] != "none" || h["kid"] != nil {
		t.Errorf("none token %q header %v", token, h)
	}
}

func TestSign(t *testing.T) {
	a := bearertest.New(t)
	header := []byte(`{"alg":"EdDSA","alg":"RS256"}`)
	payload := []byte("[\"\xff\"]")
	for _, alg := range []string{"RS256", "ES384", "EdDSA"} {
		token := a.Sign(alg, header, payload)
		parts := strings.Split(token, ".")
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		p, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if !bytes.Equal(h, header) || !bytes.Equal(p, payload) {
			t.Errorf("%s: header %q payload %q", alg, h, p)
		}
		if err := verify(alg, token, a.PublicKey(alg)); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
}

// TestSharedSecretTokens: HS256, HS384 and HS512 tokens are signed with
// SharedSecret, carry no kid, and the secret is the authority's own, never
// published.
func TestSharedSecretTokens(t *testing.T) {
	a := bearertest.New(t)
	secret := a.SharedSecret()
	if len(secret) != 32 || !bytes.Equal(secret, a.SharedSecret()) || bytes.Equal(secret, bearertest.New(t).SharedSecret()) {
		t.Fatalf("SharedSecret %x", secret)
	}
	secret[0] ^= 1 // a copy: the authority's stays as it was
	if bytes.Equal(secret, a.SharedSecret()) {
		t.Error("SharedSecret returned the authority's own slice")
	}
	hashes := map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}
	for alg, h := range hashes {
		token := a.TokenWith(alg, nil, bearertest.Payload{"aud": "api"})
		if hd := segment(t, token, 0); len(hd) != 2 || hd["alg"] != alg || hd["typ"] != "at+jwt" {
			t.Errorf("%s header %v", alg, hd)
		}
		i := strings.LastIndexByte(token, '.')
		mac := hmac.New(h, a.SharedSecret())
		mac.Write([]byte(token[:i]))
		if sig, _ := base64.RawURLEncoding.DecodeString(token[i+1:]); !hmac.Equal(sig, mac.Sum(nil)) {
			t.Errorf("%s: not signed with SharedSecret", alg)
		}
		if a.KeyID(alg) != "" || a.PublicKey(alg) != nil {
			t.Errorf("%s: kid %q, public key %v", alg, a.KeyID(alg), a.PublicKey(alg))
		}
	}
	if keys := fetchKeys(t, a); len(keys) != len(algs) {
		t.Errorf("JWKS has %d keys: the secret must not be published", len(keys))
	}
	a.RotateKey("RS256")
	if !bytes.Equal(a.SharedSecret(), a.SharedSecret()) {
		t.Error("unstable secret")
	}
}

func TestUnsupportedAlgPanics(t *testing.T) {
	a := bearertest.New(t)
	for name, f := range map[string]func(){
		"Token":        func() { a.TokenWith("HS1", nil, nil) },
		"Sign":         func() { a.Sign("RS1", nil, nil) },
		"KeyID":        func() { a.KeyID("") },
		"RotateKey":    func() { a.RotateKey("none") },
		"RotateKey HS": func() { a.RotateKey("HS256") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestRotateKeyAndUnpublish(t *testing.T) {
	a := bearertest.New(t)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		old := a.KeyID(alg)
		oldPub := a.PublicKey(alg)
		oldToken := a.TokenWith(alg, nil, nil)

		kid := a.RotateKey(alg)
		if kid == old || a.KeyID(alg) != kid {
			t.Fatalf("%s: RotateKey = %q, KeyID = %q, old %q", alg, kid, a.KeyID(alg), old)
		}
		if oldPub.(interface{ Equal(crypto.PublicKey) bool }).Equal(a.PublicKey(alg)) {
			t.Errorf("%s: rotated key has the same material", alg)
		}
		keys := fetchKeys(t, a)
		if _, ok := keys[old]; !ok {
			t.Errorf("%s: old key unpublished by rotation", alg)
		}
		token := a.TokenWith(alg, nil, nil)
		if segment(t, token, 0)["kid"] != kid {
			t.Errorf("%s: new token not signed with the new key", alg)
		}
		if err := verify(alg, token, parseJWK(t, alg, keys[kid])); err != nil {
			t.Errorf("%s new: %v", alg, err)
		}
		if err := verify(alg, oldToken, parseJWK(t, alg, keys[old])); err != nil {
			t.Errorf("%s old: %v", alg, err)
		}

		a.Unpublish(old)
		keys = fetchKeys(t, a)
		if _, ok := keys[old]; ok {
			t.Errorf("%s: Unpublish left %q", alg, old)
		}
		if _, ok := keys[kid]; !ok {
			t.Errorf("%s: Unpublish removed the current key", alg)
		}
	}
	// The rotated RS256 key no longer shares material with the other RSA algs.
	if a.PublicKey("RS256").(*rsa.PublicKey).Equal(a.PublicKey("PS256")) {
		t.Error("RS256 and PS256 still share a key after rotation")
	}

	// An unpublished current key still signs: the unknown-kid case.
	kid := a.KeyID("ES384")
	a.Unpublish(kid)
	if _, ok := fetchKeys(t, a)[kid]; ok {
		t.Error("current key still published")
	}
	if segment(t, a.TokenWith("ES384", nil, nil), 0)["kid"] != kid {
		t.Error("unpublished current key no longer signs")
	}
}

func TestPublishRaw(t *testing.T) {
	a := bearertest.New(t)
	raw := []json.RawMessage{
		json.RawMessage(`{"kid":"raw","kty":"RSA","n":"AQAB","e":"AQAB","d":"secret"}`),
		json.RawMessage(`{"kid":"raw","kty":"EC"}`),
		json.RawMessage(`[1,2]`),
		json.RawMessage(`not json`),
	}
	a.PublishRaw(raw...)
	_, _, served := get(t, a.JWKSURL())
	if !bytes.Equal(served, a.JWKS()) {
		t.Errorf("served %s, JWKS() %s", served, a.JWKS())
	}
	for _, r := range raw {
		if !bytes.Contains(served, r) {
			t.Errorf("%s not published verbatim", r)
		}
	}
	a.Unpublish("raw")
	jwks := a.JWKS()
	if bytes.Contains(jwks, []byte(`"raw"`)) || !bytes.HasSuffix(jwks, []byte(`,[1,2],not json]}`)) {
		t.Errorf("after Unpublish: %s", jwks)
	}
}

func TestFaults(t *testing.T) {
	a := bearertest.New(t)
	urls := map[bearertest.Endpoint]string{
		bearertest.Discovery:     discoveryURL(a),
		bearertest.Metadata:      metadataURL(a),
		bearertest.JWKS:          a.JWKSURL(),
		bearertest.Introspection: introspectURL(a),
	}
	normal := map[bearertest.Endpoint]int{
		bearertest.Discovery: 200, bearertest.Metadata: 200, bearertest.JWKS: 200,
		bearertest.Introspection: 405, // answers POST only
	}

	t.Run("status", func(t *testing.T) {
		for _, e := range endpoints {
			a.SetStatus(e, http.StatusTeapot)
			if code := status(t, urls[e]); code != http.StatusTeapot {
				t.Errorf("%s: %d", e, code)
			}
			a.SetStatus(e, 0)
			if code := status(t, urls[e]); code != normal[e] {
				t.Errorf("%s restored: %d", e, code)
			}
		}
	})

	t.Run("body", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), 2<<20)
		for _, e := range endpoints {
			a.SetBody(e, big)
			code, ctype, body := get(t, urls[e])
			if code != 200 || ctype != "application/json" || !bytes.Equal(body, big) {
				t.Errorf("%s: %d %q %d bytes", e, code, ctype, len(body))
			}
			a.SetBody(e, []byte{})
			if code, _, body := get(t, urls[e]); code != 200 || len(body) != 0 {
				t.Errorf("%s empty body: %d %q", e, code, body)
			}
			a.SetBody(e, nil)
			if code := status(t, urls[e]); code != normal[e] {
				t.Errorf("%s restored: %d", e, code)
			}
		}
		a.SetBody(bearertest.JWKS, []byte("garbage"))
		a.SetStatus(bearertest.JWKS, 500)
		if code := status(t, a.JWKSURL()); code != 500 {
			t.Errorf("status does not win over body: %d", code)
		}
		a.SetStatus(bearertest.JWKS, 0)
		a.SetBody(bearertest.JWKS, nil)
	})

	t.Run("delay", func(t *testing.T) {
		const d = 50 * time.Millisecond
		for _, e := range endpoints {
			a.SetDelay(e, d)
			start := time.Now()
			if code := status(t, urls[e]); code != normal[e] || time.Since(start) < d {
				t.Errorf("%s: %d after %v", e, code, time.Since(start))
			}
			a.SetDelay(e, 0)
		}

		// The delay gives way to the request's context.
		a.SetDelay(bearertest.JWKS, time.Minute)
		defer a.SetDelay(bearertest.JWKS, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.JWKSURL(), nil)
		start := time.Now()
		if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("waited %v", time.Since(start))
		}
	})

	t.Run("discovery", func(t *testing.T) {
		a.SetDiscovery(func(doc map[string]any) {
			delete(doc, "jwks_uri")
			doc["issuer"] = "https://elsewhere.example"
		})
		for _, url := range []string{urls[bearertest.Discovery], urls[bearertest.Metadata]} {
			doc := getJSON(t, url)
			if _, ok := doc["jwks_uri"]; ok || doc["issuer"] != "https://elsewhere.example" {
				t.Errorf("%s edited: %v", url, doc)
			}
		}
		a.SetDiscovery(nil)
		if doc := getJSON(t, urls[bearertest.Discovery]); doc["jwks_uri"] != a.JWKSURL() || doc["issuer"] != a.Issuer() {
			t.Errorf("restored: %v", doc)
		}
	})

	t.Run("down", func(t *testing.T) {
		a.SetStatus(bearertest.Metadata, http.StatusTeapot)
		a.SetDown(true)
		for _, e := range endpoints {
			if code := status(t, urls[e]); code != http.StatusServiceUnavailable {
				t.Errorf("%s while down: %d", e, code)
			}
		}
		a.SetDown(false)
		if code := status(t, urls[bearertest.Metadata]); code != http.StatusTeapot {
			t.Errorf("other faults lost: %d", code)
		}
		a.SetStatus(bearertest.Metadata, 0)
		for _, e := range endpoints {
			if code := status(t, urls[e]); code != normal[e] {
				t.Errorf("%s back up: %d", e, code)
			}
		}
	})

	t.Run("unknown endpoint", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("SetStatus on an unknown endpoint did not panic")
			}
		}()
		a.SetStatus("token", 500)
	})
}

func TestCloseCutsDelayShort(t *testing.T) {
	a := bearertest.NewAuthority()
	a.SetDelay(bearertest.JWKS, time.Minute)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(a.JWKSURL())
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for a.Hits(bearertest.JWKS) == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	a.Close()
	a.Close() // idempotent
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	<-errc
}

func TestHits(t *testing.T) {
	a := bearertest.New(t)
	for _, e := range endpoints {
		if n := a.Hits(e); n != 0 {
			t.Errorf("%s: %d hits at start", e, n)
		}
	}
	get(t, discoveryURL(a))
	get(t, a.JWKSURL())
	get(t, a.JWKSURL())
	a.SetStatus(bearertest.JWKS, 500)
	get(t, a.JWKSURL()) // counted despite the fault
	a.SetDown(true)
	get(t, metadataURL(a))
	get(t, a.URL+"/elsewhere") // no endpoint: not counted
	want := map[bearertest.Endpoint]int{bearertest.Discovery: 1, bearertest.Metadata: 1, bearertest.JWKS: 3, bearertest.Introspection: 0}
	for e, n := range want {
		if got := a.Hits(e); got != n {
			t.Errorf("%s: %d hits, want %d", e, got, n)
		}
	}
	a.ResetHits()
	for _, e := range endpoints {
		if n := a.Hits(e); n != 0 {
			t.Errorf("%s: %d hits after reset", e, n)
		}
	}
}

func TestWithPath(t *testing.T) {
	a := bearertest.New(t, bearertest.WithPath("/tenant1"))
	if a.Issuer() != a.URL+"/tenant1" || a.JWKSURL() != a.Issuer()+"/jwks" {
		t.Fatalf("Issuer %q JWKSURL %q", a.Issuer(), a.JWKSURL())
	}
	for _, url := range []string{
		a.Issuer() + "/.well-known/openid-configuration",
		a.URL + "/.well-known/oauth-authorization-server/tenant1", // RFC 8414 §3.1
	} {
		doc := getJSON(t, url)
		if doc["issuer"] != a.Issuer() || doc["jwks_uri"] != a.JWKSURL() || doc["introspection_endpoint"] != a.Issuer()+"/introspect" {
			t.Errorf("%s: %v", url, doc)
		}
	}
	if a.Hits(bearertest.Discovery) != 1 || a.Hits(bearertest.Metadata) != 1 {
		t.Errorf("hits %d %d", a.Hits(bearertest.Discovery), a.Hits(bearertest.Metadata))
	}
	for _, url := range []string{discoveryURL(a), metadataURL(a), a.URL + "/jwks", a.Issuer() + "/.well-known/oauth-authorization-server"} {
		if code := status(t, url); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", url, code)
		}
	}
	if c := segment(t, a.Token(nil), 1); c["iss"] != a.Issuer() {
		t.Errorf("iss %v", c["iss"])
	}

	b := bearertest.New(t, bearertest.WithPath("tenant2/"))
	if b.Issuer() != b.URL+"/tenant2" {
		t.Errorf("WithPath(\"tenant2/\"): issuer %q", b.Issuer())
	}
}

func TestWithIssuer(t *testing.T) {
	a := bearertest.New(t, bearertest.WithIssuer("https://issuer.example"))
	if a.Issuer() != "https://issuer.example" {
		t.Fatalf("Issuer %q", a.Issuer())
	}
	doc := getJSON(t, discoveryURL(a))
	if doc["issuer"] != "https://issuer.example" || doc["jwks_uri"] != a.URL+"/jwks" {
		t.Errorf("discovery %v", doc)
	}
	if c := segment(t, a.Token(nil), 1); c["iss"] != "https://issuer.example" {
		t.Errorf("iss %v", c["iss"])
	}
	if code := status(t, a.JWKSURL()); code != 200 {
		t.Errorf("JWKS: %d", code)
	}
}

func TestWithoutOpenIDConfiguration(t *testing.T) {
	a := bearertest.New(t, bearertest.WithoutOpenIDConfiguration())
	if code := status(t, discoveryURL(a)); code != http.StatusNotFound {
		t.Errorf("openid-configuration: %d", code)
	}
	if doc := getJSON(t, metadataURL(a)); doc["issuer"] != a.Issuer() {
		t.Errorf("metadata %v", doc)
	}
	if a.Hits(bearertest.Discovery) != 1 {
		t.Errorf("discovery attempt not counted")
	}
}

func TestWithAddr(t *testing.T) {
	addr, err := loopback.Addr()
	if err != nil {
		t.Fatal(err)
	}
	a := bearertest.NewAuthority(bearertest.WithAddr(addr))
	url, kid := a.URL, a.KeyID("RS256")
	a.Close()
	if _, err := http.Get(a.JWKSURL()); err == nil {
		t.Fatal("closed authority still answers")
	}

	b := bearertest.New(t, bearertest.WithAddr(addr))
	if b.URL != url {
		t.Fatalf("restarted at %q, want %q", b.URL, url)
	}
	if doc := getJSON(t, discoveryURL(b)); doc["issuer"] != url {
		t.Errorf("discovery %v", doc)
	}
	if b.KeyID("RS256") == kid {
		t.Error("restarted authority reuses the old kid")
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, bad := range []string{"0.0.0.0:0", ":0", "example.com:80", "127.0.0.1", busy.Addr().String()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WithAddr(%q) did not panic", bad)
				}
			}()
			bearertest.NewAuthority(bearertest.WithAddr(bad)).Close()
		}()
	}
}

func TestMethodNotAllowed(t *testing.T) {
	a := bearertest.New(t)
	resp, err := http.Post(a.JWKSURL(), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST jwks: %d", resp.StatusCode)
	}
}

func TestConcurrentUse(t *testing.T) {
	a := bearertest.New(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				alg := algs[(i+j)%len(algs)]
				if err := verify(alg, a.TokenWith(alg, nil, nil), a.PublicKey(alg)); err != nil && !slices.Contains([]string{"ES256", "EdDSA"}, alg) {
					// ES256 and EdDSA rotate concurrently, so their key may change between the two calls.
					t.Errorf("%s: %v", alg, err)
				}
				switch j % 5 {
				case 0:
					a.RotateKey([]string{"ES256", "EdDSA"}[i%2])
				case 1:
					get(t, a.JWKSURL())
				case 2:
					a.SetDelay(bearertest.Metadata, time.Duration(j)*time.Microsecond)
					get(t, metadataURL(a))
				case 3:
					a.SetDiscovery(func(doc map[string]any) { doc["n"] = j })
					get(t, discoveryURL(a))
				case 4:
					a.Unpublish(a.KeyID("ES256"))
					_ = a.JWKS()
					a.ResetHits()
				}
				_ = a.Hits(bearertest.JWKS)
			}
		}()
	}
	wg.Wait()
}
