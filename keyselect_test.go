package bearer_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// publishedAs returns a's published keys, each passed through edit, as a
// JWK Set.
func publishedAs(t *testing.T, a *bearertest.Authority, edit func(k map[string]any)) []byte {
	t.Helper()
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(a.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		edit(k)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeysWithoutAlgChosenByTypeAndCurve: a key that names no alg verifies
// the algorithms of its type and curve only: an EC P-256 key ES256, not
// ES384; an Ed25519 key EdDSA; an RSA key RS* and PS*.
func TestKeysWithoutAlgChosenByTypeAndCurve(t *testing.T) {
	a := bearertest.New(t)
	a.SetBody(bearertest.JWKS, publishedAs(t, a, func(k map[string]any) {
		if k["kty"] != "AKP" { // ML-DSA keys must name theirs (RFC 9964)
			delete(k, "alg")
		}
	}))
	v := newValidator(t, a, bearer.Config{})
	for _, alg := range bearer.DefaultAlgorithms {
		mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
	}
	// The P-256 key's kid with ES384, the Ed25519 key's with ES256 and
	// the RSA key's with EdDSA: the key is found, and does not fit.
	for alg, signer := range map[string]string{"ES384": "ES256", "ES256": "EdDSA", "EdDSA": "RS256"} {
		tok := a.TokenWith(alg, map[string]any{"kid": a.KeyID(signer)}, claims(nil))
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	}
}

// TestDuplicateKidsToldApart: keys that share a kid (the FAPI 2.0
// Security Profile's duplicate key identifiers) are told apart by kty, crv and
// alg: each verifies the tokens of its own algorithm, two keys of one
// type and curve under one kid are both tried, and a token no key of its
// type verifies is refused, with no fetch: the kid has a key that fits.
func TestDuplicateKidsToldApart(t *testing.T) {
	a := bearertest.New(t)
	// Signed by an ES256 key that stays published beside its successor.
	before := a.TokenWith("ES256", map[string]any{"kid": "shared"}, claims(nil))
	a.RotateKey("ES256")
	a.SetBody(bearertest.JWKS, publishedAs(t, a, func(k map[string]any) {
		k["kid"] = "shared"
		// RSA keys keep alg (six of them fit RS256), ML-DSA keys too (RFC
		// 9964 requires it).
		if k["kty"] != "RSA" && k["kty"] != "AKP" {
			delete(k, "alg")
		}
	}))
	v := newValidator(t, a, bearer.Config{})
	for _, alg := range bearer.DefaultAlgorithms {
		mustValid(t, v, a.TokenWith(alg, map[string]any{"kid": "shared"}, claims(nil)))
	}
	mustValid(t, v, before)
	// A key of the right type under the kid, but not the one that signed.
	other := bearertest.New(t)
	a.ResetHits()
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		tok := other.TokenWith(alg, map[string]any{"kid": "shared"}, claims(bearertest.Payload{"iss": a.Issuer()}))
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrSignature)
	}
	if n := a.Hits(bearertest.JWKS); n != 0 {
		t.Errorf("%d fetches of the keys for a kid that is published", n)
	}
}

// TestKeyOfAnotherTypeUnderAPublishedKid: a key published under a kid the
// set already holds for a key of another type (duplicate key identifiers)
// verifies the very first token signed with it: a kid the set holds, with
// no key fit for the token's alg, is no proof that a fetch would not find
// one.
func TestKeyOfAnotherTypeUnderAPublishedKid(t *testing.T) {
	a := bearertest.New(t)
	only := func(algs ...string) func(k map[string]any) {
		return func(k map[string]any) {
			if slices.Contains(algs, k["alg"].(string)) {
				k["kid"] = "shared"
			} else {
				k["kid"] = "unpublished"
				k["kty"] = "none" // skipped
			}
		}
	}
	a.SetBody(bearertest.JWKS, publishedAs(t, a, only("RS256")))
	v := newValidator(t, a, bearer.Config{})
	mustValid(t, v, a.TokenWith("RS256", map[string]any{"kid": "shared"}, claims(nil)))

	a.SetBody(bearertest.JWKS, publishedAs(t, a, only("RS256", "ES256")))
	mustValid(t, v, a.TokenWith("ES256", map[string]any{"kid": "shared"}, claims(nil)))
}
