//go:build go1.27

package bearertest

import (
	"crypto"
	"crypto/mldsa"
)

// mldsaAlgorithms are the ML-DSA algorithms of RFC 9964, which the
// authority signs with and publishes AKP keys for, built with Go 1.27 or
// later (crypto/mldsa).
var mldsaAlgorithms = []string{"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"}

func generateMLDSAKey(alg string) (crypto.Signer, error) {
	params := map[string]mldsa.Parameters{"ML-DSA-44": mldsa.MLDSA44(), "ML-DSA-65": mldsa.MLDSA65(), "ML-DSA-87": mldsa.MLDSA87()}[alg]
	return mldsa.GenerateKey(params)
}
