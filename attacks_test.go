package bearer_test

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// Each test here is one attack from RFC 8725 (JWT Best Current Practices)
// or a classic of JWT libraries; every one must end in 401 invalid_token.

var enc = base64.RawURLEncoding

func segments(tok string) []string { return strings.Split(tok, ".") }

func payloadJSON(t *testing.T, a *bearertest.Authority) []byte {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"iss": a.Issuer(), "aud": "api", "scope": "api", "sub": "mallory", "exp": time.Now().Add(time.Hour).Unix()})
	return b
}

func attackSetup(t *testing.T) (*bearertest.Authority, *bearer.Validator) {
	a := bearertest.New(t)
	return a, newValidator(t, a, bearer.Config{})
}

func TestAttackAlgNoneAnyCase(t *testing.T) {
	a, v := attackSetup(t)
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		t.Run(alg, func(t *testing.T) {
			h := enc.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"at+jwt"}`))
			p := enc.EncodeToString(payloadJSON(t, a))
			// Empty signature: not even JWS-shaped, so malformed.
			mustFail(t, v, h+"."+p+".", bearer.ErrInvalidToken, nil)
			// A junk signature: refused for the algorithm.
			mustFail(t, v, h+"."+p+".AAAA", bearer.ErrInvalidToken, bearer.ErrAlgorithm)
		})
	}
}

func TestAttackHS256KeyedWithRSAPublicKey(t *testing.T) {
	a, v := attackSetup(t)
	pub := a.PublicKey("RS256").(*rsa.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for name, secret := range map[string][]byte{"PEM": pemKey, "DER": der, "modulus": pub.N.Bytes()} {
		t.Run(name, func(t *testing.T) {
			input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"at+jwt","kid":"`+a.KeyID("RS256")+`"}`)) + "." + enc.EncodeToString(payloadJSON(t, a))
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(input))
			mustFail(t, v, input+"."+enc.EncodeToString(m.Sum(nil)), bearer.ErrInvalidToken, bearer.ErrAlgorithm)
		})
	}
}

func TestAttackEmbeddedJWK(t *testing.T) {
	a, v := attackSetup(t)
	// The attacker's own key: the authority's ES256 key is as good as any
	// for proving that the header is refused before any key is trusted.
	jwk := json.RawMessage(`{"kty":"RSA","n":"AQAB","e":"AQAB"}`)
	tok := a.TokenWith("RS256", map[string]any{"jwk": jwk}, claims(nil))
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrHeader)
}

// TestAttackRemoteKeyURLs checks jku, x5u and x5c make the library fetch
// nothing: a server standing for the attacker's URL counts requests.
func TestAttackRemoteKeyURLs(t *testing.T) {
	a, v := attackSetup(t)
	evil := bearertest.New(t)
	for _, member := range []string{"jku", "x5u"} {
		t.Run(member, func(t *testing.T) {
			tok := a.TokenWith("RS256", map[string]any{member: evil.JWKSURL()}, claims(nil))
			mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrHeader)
		})
	}
	t.Run("x5c", func(t *testing.T) {
		tok := a.TokenWith("RS256", map[string]any{"x5c": []string{"MIIB"}}, claims(nil))
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrHeader)
	})
	for _, e := range []bearertest.Endpoint{bearertest.Discovery, bearertest.Metadata, bearertest.JWKS} {
		if n := evil.Hits(e); n != 0 {
			t.Errorf("%d outbound requests to the attacker's %s", n, e)
		}
	}
}

func TestAttackCrit(t *testing.T) {
	a, v := attackSetup(t)
	tok := a.TokenWith("RS256", map[string]any{"crit": []string{"exp"}}, claims(nil))
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrHeader)
}

func TestAttackKidInjection(t *testing.T) {
	a, v := attackSetup(t)
	for _, kid := range []string{"../../../../dev/null", "' OR '1'='1", "|cat /etc/passwd", "\x00", "http://evil.example/key", strings.Repeat("k", 4000)} {
		hits := a.Hits(bearertest.JWKS)
		tok := a.TokenWith("RS256", map[string]any{"kid": kid}, claims(nil))
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
		// One refresh for the first unknown kid, none after: the window.
		if n := a.Hits(bearertest.JWKS) - hits; n > 1 {
			t.Errorf("kid %q caused %d JWKS fetches", kid[:min(len(kid), 20)], n)
		}
	}
}

func TestAttackECDSAZeroSignature(t *testing.T) {
	a, v := attackSetup(t)
	s := segments(a.TokenWith("ES256", nil, claims(nil)))
	zero := enc.EncodeToString(make([]byte, 64))
	mustFail(t, v, s[0]+"."+s[1]+"."+zero, bearer.ErrInvalidToken, bearer.ErrSignature)
}

func TestAttackECDSADERSignature(t *testing.T) {
	a, v := attackSetup(t)
	s := segments(a.TokenWith("ES256", nil, claims(nil)))
	raw, _ := enc.DecodeString(s[2])
	// Re-encode r||s as ASN.1 DER, as some libraries wrongly accept.
	der := []byte{0x30, 0x44, 0x02, 0x20}
	der = append(der, raw[:32]...)
	der = append(der, 0x02, 0x20)
	der = append(der, raw[32:]...)
	mustFail(t, v, s[0]+"."+s[1]+"."+enc.EncodeToString(der), bearer.ErrInvalidToken, bearer.ErrSignature)
}

func TestAttackTruncatedSignature(t *testing.T) {
	a, v := attackSetup(t)
	s := segments(a.Token(claims(nil)))
	mustFail(t, v, s[0]+"."+s[1]+"."+s[2][:len(s[2])-10], bearer.ErrInvalidToken, nil)
}

func TestAttackForeignSignature(t *testing.T) {
	a, v := attackSetup(t)
	other := bearertest.New(t)
	s := segments(a.Token(claims(nil)))
	f := segments(other.Token(claims(nil)))
	mustFail(t, v, s[0]+"."+s[1]+"."+f[2], bearer.ErrInvalidToken, bearer.ErrSignature)
	// A whole token from another authority, with our issuer and kid claimed.
	forged := other.TokenWith("RS256", map[string]any{"kid": a.KeyID("RS256")}, claims(bearertest.Payload{"iss": a.Issuer()}))
	mustFail(t, v, forged, bearer.ErrInvalidToken, bearer.ErrSignature)
}

func TestAttackTamperedPayload(t *testing.T) {
	a, v := attackSetup(t)
	s := segments(a.Token(claims(bearertest.Payload{"scope": "read"})))
	p := enc.EncodeToString(payloadJSON(t, a))
	mustFail(t, v, s[0]+"."+p+"."+s[2], bearer.ErrInvalidToken, bearer.ErrSignature)
}

// TestAttackSegmentCount: anything but three segments is no JWS. In Mode
// JWT that is a malformed token; in ModeAuto it would be introspected
// (see TestModeBothWithoutClientIDRefusesReferenceTokens).
func TestAttackSegmentCount(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Mode: bearer.ModeJWT})
	s := segments(a.Token(claims(nil)))
	for name, tok := range map[string]string{
		"2 segments":       s[0] + "." + s[1],
		"4 segments":       s[0] + "." + s[1] + "." + s[2] + "." + s[2],
		"5 segments (JWE)": s[0] + ".AAAA.AAAA.AAAA.AAAA",
		"empty header":     "." + s[1] + "." + s[2],
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrMalformed)
		})
	}
}

func TestAttackJSONSerialization(t *testing.T) {
	a, v := attackSetup(t)
	s := segments(a.Token(claims(nil)))
	flat := `{"payload":"` + s[1] + `","protected":"` + s[0] + `","signature":"` + s[2] + `"}`
	mustFail(t, v, flat, bearer.ErrInvalidToken, bearer.ErrMalformed)
	general := `{"payload":"` + s[1] + `","signatures":[{"protected":"` + s[0] + `","signature":"` + s[2] + `"}]}`
	mustFail(t, v, general, bearer.ErrInvalidToken, bearer.ErrMalformed)
}

func TestAttackHugeTokenRejectedFast(t *testing.T) {
	a, v := attackSetup(t)
	tok := a.Token(claims(bearertest.Payload{"pad": strings.Repeat("A", 100<<10)}))
	hits := a.Hits(bearertest.JWKS)
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrTooLarge)
	if a.Hits(bearertest.JWKS) != hits {
		t.Error("a 100 KB token caused a JWKS fetch")
	}
}

func TestAttackAlgorithmNotAllowed(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Algorithms: []string{"ES256"}})
	mustValid(t, v, a.TokenWith("ES256", nil, claims(nil)))
	mustFail(t, v, a.TokenWith("RS256", nil, claims(nil)), bearer.ErrInvalidToken, bearer.ErrAlgorithm)
}

// TestAttackAlgorithmKeyMismatch: a header that claims PS256 (or ES384)
// for a key published for RS256 (or ES256) must not verify against it.
func TestAttackAlgorithmKeyMismatch(t *testing.T) {
	a, v := attackSetup(t)
	tok := a.TokenWith("RS256", map[string]any{"alg": "PS256"}, claims(nil))
	mustFail(t, v, tok, bearer.ErrInvalidToken, nil)
	tok = a.TokenWith("ES256", map[string]any{"alg": "ES384"}, claims(nil))
	mustFail(t, v, tok, bearer.ErrInvalidToken, nil)
}

func TestAttackPayloadNotObject(t *testing.T) {
	a, v := attackSetup(t)
	h := []byte(`{"alg":"RS256","kid":"` + a.KeyID("RS256") + `"}`)
	for _, p := range []string{`[1,2]`, `"string"`, `null`, `42`, "\xff\xfe"} {
		mustFail(t, v, a.Sign("RS256", h, []byte(p)), bearer.ErrInvalidToken, bearer.ErrMalformed)
	}
	mustFail(t, v, a.Sign("RS256", []byte(`["RS256"]`), payloadJSON(t, a)), bearer.ErrInvalidToken, bearer.ErrMalformed)
}

func TestHS256WithSharedSecret(t *testing.T) {
	a := bearertest.New(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	v := newValidator(t, a, bearer.Config{Algorithms: []string{"HS256", "RS256"}, SharedSecret: secret})
	sign := func(key []byte) string {
		input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"at+jwt"}`)) + "." + enc.EncodeToString(payloadJSON(t, a))
		m := hmac.New(sha256.New, key)
		m.Write([]byte(input))
		return input + "." + enc.EncodeToString(m.Sum(nil))
	}
	mustValid(t, v, sign(secret))
	mustFail(t, v, sign([]byte("another secret of 32 bytes......")), bearer.ErrInvalidToken, bearer.ErrSignature)
	mustValid(t, v, a.Token(claims(nil)))
	_ = context.Background
}
