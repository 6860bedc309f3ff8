package bearer

import (
	"encoding/json"
	"errors"
	"slices"
)

// mldsaNames are the JWS algorithms of RFC 9964, whether or not this build
// verifies them (mldsaAlgorithms): a token that names one is told why it
// is refused when the build cannot.
var mldsaNames = []string{"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"}

// mldsaUnavailable is the reason a token is refused whose alg is ML-DSA
// in a build without crypto/mldsa (Go 1.26 and older). It is ErrAlgorithm,
// with a description that says what is missing, since the token may be
// fine.
type mldsaUnavailable struct{}

func (mldsaUnavailable) Error() string {
	return "algorithm not supported: ML-DSA needs Go 1.27 or later"
}
func (mldsaUnavailable) Is(target error) bool { return target == ErrAlgorithm }

// refusedAlgorithm is the reason a token whose alg is not accepted is
// refused: ErrAlgorithm, said more precisely for ML-DSA in a build that
// cannot verify it.
func refusedAlgorithm(alg string) error {
	if mldsaAlgorithms == nil && slices.Contains(mldsaNames, alg) {
		return mldsaUnavailable{}
	}
	return ErrAlgorithm
}

// parseAKP reads an AKP JWK (RFC 9964 §3): alg names the algorithm and
// pub is the public key; a priv published by mistake is ignored, as
// private members of other keys are. RFC 9964 requires alg, but a key
// without one is read as keys of other types are (RFC 7517 §4.4): its
// pub's length tells the ML-DSA parameter set, the three being of
// different lengths, and the key serves that set only. Its errors are *keySkip
// values: skipAlgorithm for an algorithm this build does not verify,
// skipMalformed otherwise.
func parseAKP(raw []byte, kid, alg, use string, ops []string) (*publicKey, error) {
	if mldsaAlgorithms == nil || alg != "" && !slices.Contains(mldsaAlgorithms, alg) {
		return nil, errUnsupportedAKP
	}
	var m struct {
		Pub *string `json:"pub"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, skip(skipMalformed, err)
	}
	if m.Pub == nil {
		return nil, skip(skipMalformed, errors.New(`AKP key without "pub"`))
	}
	pub, err := b64.DecodeString(*m.Pub)
	if err != nil {
		return nil, skip(skipMalformed, errors.New(`AKP key: "pub" is not base64url`))
	}
	key, err := newAKPKey(alg, pub)
	if err != nil {
		return nil, skip(skipMalformed, err)
	}
	return newPublicKey(kid, alg, use, ops, key)
}
