//go:build !go1.27

package bench

import "crypto"

// mldsaAlgorithms is empty: ML-DSA needs Go 1.27's crypto/mldsa.
var mldsaAlgorithms []string

func akpKey(string, []byte) (crypto.PublicKey, bool) { return nil, false }

func verifyMLDSA(crypto.PublicKey, []byte, []byte) (bool, error) { return false, nil }
