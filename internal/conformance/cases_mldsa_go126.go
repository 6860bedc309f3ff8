//go:build !go1.27

package conformance

import "github.com/accesstoken/bearer/bearertest"

// mldsaCases are RFC 9964's in a build without crypto/mldsa (before Go
// 1.27): whatever the token, an ML-DSA alg is refused, saying why. The
// tokens are signed with the RS256 key, as no ML-DSA key can be made.
func mldsaCases(g Guard, auth []string) []Case {
	refused := invalidToken("algorithm not supported: ML-DSA needs Go 1.27 or later")
	as := func(alg string) func(*bearertest.Authority) string {
		return headed("RS256", map[string]any{"alg": alg}, nil)
	}
	return []Case{
		{Name: "ML-DSA-44", Guard: g, Token: as("ML-DSA-44"), Authorization: auth, Want: refused},
		{Name: "ML-DSA-65", Guard: g, Token: as("ML-DSA-65"), Authorization: auth, Want: refused},
		{Name: "ML-DSA-87", Guard: g, Token: as("ML-DSA-87"), Authorization: auth, Want: refused},
		{Name: "ML-DSA-65 header on an ML-DSA-44 key", Guard: g, Token: as("ML-DSA-65"), Authorization: auth, Want: refused},
		{Name: "ML-DSA signature one byte short", Guard: g, Token: resigned(as("ML-DSA-44"), func(s []byte) []byte { return s[:len(s)-1] }), Authorization: auth, Want: refused},
	}
}
