package bearer_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// rfc9964JWK is the public AKP key of RFC 9964's example for alg
// (Appendix A.1, testdata/rfc9964).
func rfc9964JWK(t *testing.T, alg string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc9964/" + alg + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		JWK json.RawMessage `json:"jwk"`
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	return ex.JWK
}

// TestAKPKeysDoNotBreakTheSet: AKP keys (RFC 9964) in the authority's JWK
// Set, which a build before Go 1.27 cannot use, leave every other key
// working, whatever the toolchain.
func TestAKPKeysDoNotBreakTheSet(t *testing.T) {
	a := bearertest.New(t)
	a.PublishRaw(rfc9964JWK(t, "ML-DSA-44"), rfc9964JWK(t, "ML-DSA-65"), rfc9964JWK(t, "ML-DSA-87"))
	v := newValidator(t, a, bearer.Config{})
	for _, alg := range bearer.DefaultAlgorithms {
		mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
	}
}
