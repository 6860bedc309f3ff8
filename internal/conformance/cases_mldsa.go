//go:build go1.27

package conformance

// mldsaCases are RFC 9964's, in a build with crypto/mldsa (Go 1.27 and
// later): ML-DSA tokens verify with the AKP key of their own parameter
// set. The cases of the same names in cases_mldsa_go126.go are refused.
func mldsaCases(g Guard, auth []string) []Case {
	mldsa44 := headed("ML-DSA-44", nil, nil)
	return []Case{
		{Name: "ML-DSA-44", Guard: g, Token: mldsa44, Authorization: auth, Want: ok(subAlice)},
		{Name: "ML-DSA-65", Guard: g, Token: headed("ML-DSA-65", nil, nil), Authorization: auth, Want: ok(subAlice)},
		{Name: "ML-DSA-87", Guard: g, Token: headed("ML-DSA-87", nil, nil), Authorization: auth, Want: ok(subAlice)},
		{Name: "ML-DSA-65 header on an ML-DSA-44 key", Guard: g, Token: headed("ML-DSA-44", map[string]any{"alg": "ML-DSA-65"}, nil), Authorization: auth, Want: noKey},
		{Name: "ML-DSA signature one byte short", Guard: g, Token: resigned(mldsa44, func(s []byte) []byte { return s[:len(s)-1] }), Authorization: auth, Want: signature},
	}
}
