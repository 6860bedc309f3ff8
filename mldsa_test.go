//go:build go1.27

package bearer_test

import (
	"crypto/mldsa"
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

var mldsaAlgorithms = []string{"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"}

// TestMLDSATokensVerify: with the default configuration, tokens signed
// with each ML-DSA parameter set (RFC 9964) verify against the AKP keys of
// the authority's JWK Set, fetched over HTTP. They are large (ML-DSA-44
// 3.4 KB and more, ML-DSA-87 over 6 KB), which the default MaxTokenSize
// allows.
func TestMLDSATokensVerify(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	for _, alg := range mldsaAlgorithms {
		t.Run(alg, func(t *testing.T) {
			token := a.TokenWith(alg, nil, claims(bearertest.Payload{"sub": "pq"}))
			t.Logf("%s: %d bytes", alg, len(token))
			if c := mustValid(t, v, token); c.Subject != "pq" {
				t.Fatalf("subject %q", c.Subject)
			}
		})
	}
}

// TestMLDSAAllowList: an ML-DSA algorithm left out of Config.Algorithms is
// refused like any other algorithm not allowed.
func TestMLDSAAllowList(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Algorithms: []string{"RS256", "ML-DSA-65"}})
	mustValid(t, v, a.TokenWith("ML-DSA-65", nil, claims(nil)))
	for _, alg := range []string{"ML-DSA-44", "ML-DSA-87"} {
		e := mustFail(t, v, a.TokenWith(alg, nil, claims(nil)), bearer.ErrInvalidToken, bearer.ErrAlgorithm)
		if e.Description != "algorithm not allowed" {
			t.Errorf("%s: description %q", alg, e.Description)
		}
	}
}

// TestMLDSAParameterSetMustAgree: a key verifies only tokens whose alg is
// its own parameter set, whatever the token or the JWK claims.
func TestMLDSAParameterSetMustAgree(t *testing.T) {
	a := bearertest.New(t)
	pub44 := a.PublicKey("ML-DSA-44").(*mldsa.PublicKey)
	// The ML-DSA-44 key published again, labelled ML-DSA-65: its pub has
	// the length of another parameter set, so the key is skipped.
	a.PublishRaw(json.RawMessage(fmt.Sprintf(`{"kty":"AKP","kid":"mislabelled","alg":"ML-DSA-65","pub":%q}`, enc.EncodeToString(pub44.Bytes()))))
	v := newValidator(t, a, bearer.Config{})
	for name, header := range map[string]map[string]any{
		"token names ML-DSA-65, kid the ML-DSA-44 key": {"alg": "ML-DSA-65"},
		"token names ML-DSA-87, kid the ML-DSA-44 key": {"alg": "ML-DSA-87"},
		"token names EdDSA, kid the ML-DSA-44 key":     {"alg": "EdDSA"},
		"kid of the mislabelled key":                   {"alg": "ML-DSA-65", "kid": "mislabelled"},
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, a.TokenWith("ML-DSA-44", header, claims(nil)), bearer.ErrInvalidToken, bearer.ErrUnknownKey)
		})
	}
	mustValid(t, v, a.TokenWith("ML-DSA-44", nil, claims(nil)))
}

// TestMLDSAKeysSkippedByReason: an AKP key without pub, or whose pub is
// not a key of its parameter set, is malformed, and one of an algorithm
// this library does not verify is unsupported_algorithm: each is skipped,
// counted for the Observer, and the others serve. A key without alg
// (which RFC 9964 §3 requires) serves the parameter set of its pub's
// length, and that set only.
func TestMLDSAKeysSkippedByReason(t *testing.T) {
	a := bearertest.New(t)
	pub := a.PublicKey("ML-DSA-65").(*mldsa.PublicKey).Bytes()
	a.PublishRaw(
		json.RawMessage(fmt.Sprintf(`{"kty":"AKP","kid":"no-alg","pub":%q}`, enc.EncodeToString(pub))),
		json.RawMessage(`{"kty":"AKP","kid":"no-pub","alg":"ML-DSA-65"}`),
		json.RawMessage(`{"kty":"AKP","kid":"not-base64url","alg":"ML-DSA-65","pub":"a+b/"}`),
		json.RawMessage(fmt.Sprintf(`{"kty":"AKP","kid":"short","alg":"ML-DSA-65","pub":%q}`, enc.EncodeToString(pub[:len(pub)-1]))),
		json.RawMessage(fmt.Sprintf(`{"kty":"AKP","kid":"slh-dsa","alg":"SLH-DSA-SHA2-128s","pub":%q}`, enc.EncodeToString(pub))),
	)
	obs := &observations{}
	v := newValidator(t, a, bearer.Config{Observer: obs})
	if r := jwksRefreshes(obs); len(r) != 1 || !maps.Equal(r[0].Skipped, map[string]int{"malformed": 3, "unsupported_algorithm": 1}) {
		t.Fatalf("refreshes %+v, want 3 malformed keys and 1 of an unsupported algorithm skipped", r)
	}
	for _, kid := range []string{"no-pub", "not-base64url", "short", "slh-dsa"} {
		mustFail(t, v, a.TokenWith("ML-DSA-65", map[string]any{"kid": kid}, claims(nil)), bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	}
	mustValid(t, v, a.TokenWith("ML-DSA-65", nil, claims(nil)))
	mustValid(t, v, a.TokenWith("ML-DSA-65", map[string]any{"kid": "no-alg"}, claims(nil)))
	mustFail(t, v, a.TokenWith("ML-DSA-65", map[string]any{"kid": "no-alg", "alg": "ML-DSA-87"}, claims(nil)), bearer.ErrInvalidToken, bearer.ErrUnknownKey)
}

// TestMLDSAStaticKeys: an ML-DSA key configured as a JWK or in PEM (RFC
// 9881's SubjectPublicKeyInfo) verifies tokens of its parameter set only.
func TestMLDSAStaticKeys(t *testing.T) {
	a := bearertest.New(t)
	pub := a.PublicKey("ML-DSA-87").(*mldsa.PublicKey)
	jwk := fmt.Sprintf(`{"kty":"AKP","alg":"ML-DSA-87","kid":%q,"pub":%q}`, a.KeyID("ML-DSA-87"), enc.EncodeToString(pub.Bytes()))
	for name, keys := range map[string][]byte{"JWK": []byte(jwk), "PEM": pemOf(t, pub)} {
		t.Run(name, func(t *testing.T) {
			v := newValidator(t, a, bearer.Config{StaticKeys: keys})
			mustValid(t, v, a.TokenWith("ML-DSA-87", nil, claims(nil)))
			mustFail(t, v, a.TokenWith("ML-DSA-65", nil, claims(nil)), bearer.ErrInvalidToken, bearer.ErrUnknownKey)
			mustFail(t, v, a.TokenWith("ML-DSA-44", map[string]any{"alg": "ML-DSA-87"}, claims(nil)), bearer.ErrInvalidToken, nil)
		})
	}
}
