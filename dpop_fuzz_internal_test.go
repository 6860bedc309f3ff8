package bearer

import (
	"context"
	"errors"
	"testing"

	"github.com/accesstoken/bearer/bearertest"
)

// FuzzDPoPProof feeds checkProof arbitrary proofs, seeded with good and
// broken ones of every algorithm: it must never panic, must refuse with
// an *Error, and may accept only a proof by the token's key for this
// request.
func FuzzDPoPProof(f *testing.F) {
	const uri, token = "https://api.example/values", "the-token"
	keys := map[string]*bearertest.DPoPKey{}
	for _, alg := range defaultDPoPAlgorithms[:4] { // one RSA key is enough
		keys[alg] = bearertest.NewDPoPKey(alg)
		f.Add(alg, keys[alg].Proof("GET", uri, token))
		f.Add(alg, keys[alg].ProofWith("GET", uri, token, map[string]any{"typ": "JWT"}, nil))
		f.Add(alg, keys[alg].ProofWith("GET", uri, token, nil, bearertest.Payload{"htu": "https://API.example:443/./values?q#f"}))
	}
	f.Add("EdDSA", "e30.e30.")
	d, err := DPoPConfig{}.settings(defaultLeeway, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, alg, proof string) {
		key, ok := keys[alg]
		if !ok {
			return
		}
		p := Presentation{Scheme: "DPoP", Token: token, Method: "GET", URL: uri, DPoP: []string{proof}}
		err := d.checkProof(context.Background(), p, confirmation{jkt: key.Thumbprint()})
		if err == nil {
			return // a good seed, the first time (then it is a replay)
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != 401 {
			t.Fatalf("refusal %v is no 401 *Error", err)
		}
	})
}
