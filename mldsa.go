//go:build go1.27

package bearer

import (
	"crypto"
	"crypto/mldsa"
	"errors"
)

// This file verifies ML-DSA (FIPS 204) signatures for JOSE as RFC 9964
// defines them, with the standard library's crypto/mldsa, which Go 1.27
// brought. mldsa_go126.go stands in for it on older toolchains.

// mldsaAlgorithms are the ML-DSA algorithms this build verifies.
var mldsaAlgorithms = mldsaNames

// errUnsupportedAKP is why an AKP key of another algorithm is skipped.
var errUnsupportedAKP = skip(skipAlgorithm, errors.New("unsupported algorithm"))

// mldsaParameters returns the parameter set alg names.
func mldsaParameters(alg string) (mldsa.Parameters, bool) {
	switch alg {
	case "ML-DSA-44":
		return mldsa.MLDSA44(), true
	case "ML-DSA-65":
		return mldsa.MLDSA65(), true
	case "ML-DSA-87":
		return mldsa.MLDSA87(), true
	}
	return mldsa.Parameters{}, false
}

// newAKPKey returns the key of an AKP JWK (RFC 9964 §3, §5): alg names
// the parameter set, or if empty the length of pub, the key's encoding,
// whose length the parameter set fixes.
func newAKPKey(alg string, pub []byte) (crypto.PublicKey, error) {
	if alg == "" {
		for _, a := range mldsaAlgorithms {
			if params, _ := mldsaParameters(a); params.PublicKeySize() == len(pub) {
				alg = a
			}
		}
		if alg == "" {
			return nil, errors.New("AKP key without alg whose pub is no ML-DSA key's length")
		}
	}
	params, ok := mldsaParameters(alg)
	if !ok {
		return nil, errUnsupportedAKP
	}
	return mldsa.NewPublicKey(params, pub)
}

// mldsaAlgorithm returns the algorithm of key if it is an ML-DSA key.
func mldsaAlgorithm(key crypto.PublicKey) (string, bool) {
	k, ok := key.(*mldsa.PublicKey)
	if !ok {
		return "", false
	}
	return k.Parameters().String(), true
}

// verifyMLDSA checks sig, an ML-DSA signature of msg with alg, with key.
// RFC 9964 §5 signs the message itself (not a hash of it, not HashML-DSA)
// with an empty context, which is crypto/mldsa's default.
func verifyMLDSA(alg string, msg, sig []byte, key crypto.PublicKey) error {
	k, ok := key.(*mldsa.PublicKey)
	if params, known := mldsaParameters(alg); !ok || !known || k.Parameters() != params {
		return errBadSignature
	}
	if mldsa.Verify(k, msg, sig, nil) != nil {
		return errBadSignature
	}
	return nil
}
