//go:build go1.27

package bench

import (
	"crypto"
	"crypto/mldsa"
	"encoding/json"
	"errors"
)

// mldsaAlgorithms are measured when built with Go 1.27 or later.
var mldsaAlgorithms = []string{"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"}

// akpKey reads the ML-DSA key of an AKP JWK (RFC 9964).
func akpKey(alg string, jwk []byte) (crypto.PublicKey, bool) {
	params, ok := map[string]mldsa.Parameters{"ML-DSA-44": mldsa.MLDSA44(), "ML-DSA-65": mldsa.MLDSA65(), "ML-DSA-87": mldsa.MLDSA87()}[alg]
	var m struct{ Pub string }
	if !ok || json.Unmarshal(jwk, &m) != nil {
		return nil, false
	}
	raw, err := b64.DecodeString(m.Pub)
	if err != nil {
		return nil, false
	}
	k, err := mldsa.NewPublicKey(params, raw)
	return k, err == nil
}

// verifyMLDSA is the bare crypto/mldsa verification, if pub is an ML-DSA
// key: pure ML-DSA, empty context (RFC 9964 §5).
func verifyMLDSA(pub crypto.PublicKey, input, sig []byte) (handled bool, err error) {
	k, ok := pub.(*mldsa.PublicKey)
	if !ok {
		return false, nil
	}
	if mldsa.Verify(k, input, sig, nil) != nil {
		return true, errors.New("bad ML-DSA signature")
	}
	return true, nil
}
