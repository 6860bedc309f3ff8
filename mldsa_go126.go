//go:build !go1.27

package bearer

import (
	"crypto"
	"errors"
)

// Built with a toolchain older than Go 1.27, which has no crypto/mldsa:
// AKP keys are skipped as of an unsupported algorithm, and tokens that
// name an ML-DSA algorithm are refused with errMLDSAUnavailable.

// mldsaAlgorithms are the ML-DSA algorithms this build verifies: none.
var mldsaAlgorithms []string

// errUnsupportedAKP is why every AKP key is skipped.
var errUnsupportedAKP = skip(skipAlgorithm, errors.New("unsupported algorithm: ML-DSA needs Go 1.27 or later"))

func newAKPKey(string, []byte) (crypto.PublicKey, error) { return nil, errUnsupportedAKP }

func mldsaAlgorithm(crypto.PublicKey) (string, bool) { return "", false }

func verifyMLDSA(string, []byte, []byte, crypto.PublicKey) error { return errBadSignature }
