package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// TableAlgorithms are the algorithms of BENCHMARKS.md's cost per
// algorithm (BenchmarkAlgorithms): ML-DSA's too when built with Go 1.27
// or later, whose crypto/mldsa verifies them.
var TableAlgorithms = slices.Concat([]string{"RS256", "PS256", "ES256", "ES384", "EdDSA"}, mldsaAlgorithms)

// verifyAlg is the bare check of a signature with alg over input, sig
// decoded beforehand: the hash and the standard library's verification,
// nothing else.
func verifyAlg(alg string, pub crypto.PublicKey, input string, sig []byte) error {
	hash := map[string]crypto.Hash{"RS256": crypto.SHA256, "PS256": crypto.SHA256, "ES256": crypto.SHA256, "ES384": crypto.SHA384}[alg]
	var digest []byte
	if hash != 0 {
		h := hash.New()
		h.Write([]byte(input))
		digest = h.Sum(nil)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg == "PS256" {
			return rsa.VerifyPSS(k, hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		}
		return rsa.VerifyPKCS1v15(k, hash, digest, sig)
	case *ecdsa.PublicKey:
		size := len(sig) / 2
		if !ecdsa.Verify(k, digest, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])) {
			return errors.New("bad ECDSA signature")
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(k, []byte(input), sig) {
			return errors.New("bad EdDSA signature")
		}
		return nil
	}
	if ok, err := verifyMLDSA(pub, []byte(input), sig); ok {
		return err
	}
	return fmt.Errorf("unsupported key %T", pub)
}
