//go:build !go1.27

package bearertest_test

import (
	"crypto"
	"errors"
)

// mldsaAlgs is empty: the authority signs with ML-DSA with Go 1.27 or
// later only.
var mldsaAlgs []string

var errNoMLDSA = errors.New("ML-DSA needs Go 1.27 or later")

func akpKey(string, []byte) (crypto.PublicKey, error) { return nil, errNoMLDSA }

func verifyMLDSA(crypto.PublicKey, []byte, []byte) error { return errNoMLDSA }
