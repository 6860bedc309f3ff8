//go:build go1.27

package bearertest_test

import (
	"crypto"
	"crypto/mldsa"
	"fmt"
)

// mldsaAlgs are the ML-DSA algorithms of RFC 9964, which the authority
// signs with when built with Go 1.27 or later.
var mldsaAlgs = []string{"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"}

// akpKey is the ML-DSA public key of an AKP JWK's pub, for alg.
func akpKey(alg string, pub []byte) (crypto.PublicKey, error) {
	params, ok := map[string]mldsa.Parameters{"ML-DSA-44": mldsa.MLDSA44(), "ML-DSA-65": mldsa.MLDSA65(), "ML-DSA-87": mldsa.MLDSA87()}[alg]
	if !ok {
		return nil, fmt.Errorf("alg %q of an AKP key", alg)
	}
	return mldsa.NewPublicKey(params, pub)
}

// verifyMLDSA checks a pure ML-DSA signature with an empty context (RFC
// 9964 §5).
func verifyMLDSA(pub crypto.PublicKey, input, sig []byte) error {
	return mldsa.Verify(pub.(*mldsa.PublicKey), input, sig, nil)
}
