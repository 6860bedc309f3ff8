//go:build !go1.27

package bearertest

import (
	"crypto"
	"errors"
)

// mldsaAlgorithms is empty: ML-DSA needs crypto/mldsa, of Go 1.27.
var mldsaAlgorithms []string

func generateMLDSAKey(string) (crypto.Signer, error) {
	return nil, errors.New("ML-DSA needs Go 1.27 or later")
}
