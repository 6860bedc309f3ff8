//go:build go1.27

package bearer

import (
	"context"
	"crypto/mldsa"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// rfc9964Example is one of RFC 9964's JOSE examples (Appendix A.1): a
// public AKP JWK and a JWS it signed, with the private seed left out.
type rfc9964Example struct {
	JWK json.RawMessage `json:"jwk"`
	JWS string          `json:"jws"`
}

func readRFC9964Example(t *testing.T, alg string) rfc9964Example {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc9964/" + alg + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var ex rfc9964Example
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestRFC9964Examples verifies the RFC's own examples, signed by the
// implementation its authors used, through the one JWS reader: the AKP
// key parses, the JWS verifies with it, and neither a changed signature
// nor a key of another parameter set verifies it.
func TestRFC9964Examples(t *testing.T) {
	keys := map[string]*publicKey{}
	for _, alg := range mldsaNames {
		k, err := parseJWK(readRFC9964Example(t, alg).JWK)
		if err != nil {
			t.Fatalf("%s: parseJWK: %v", alg, err)
		}
		keys[alg] = k
	}
	for _, alg := range mldsaNames {
		t.Run(alg, func(t *testing.T) {
			ex := readRFC9964Example(t, alg)
			if len(ex.JWS) > defaultMaxTokenSize {
				t.Fatalf("the example is %d bytes, over the default MaxTokenSize", len(ex.JWS))
			}
			verify := func(token string, k *publicKey) error {
				p := &jwsPolicy{maxSize: defaultMaxTokenSize, algs: mldsaAlgorithms, keys: staticKeySet([]*publicKey{k})}
				var j jws
				if err := j.read(token, p); err != nil {
					return err
				}
				_, err := j.verify(context.Background(), p)
				return err
			}
			if err := verify(ex.JWS, keys[alg]); err != nil {
				t.Fatalf("the RFC's example does not verify: %v", err)
			}
			dot := strings.LastIndexByte(ex.JWS, '.')
			sig, err := b64.DecodeString(ex.JWS[dot+1:])
			if err != nil {
				t.Fatal(err)
			}
			sig[100] ^= 1
			if err := verify(ex.JWS[:dot+1]+b64.EncodeToString(sig), keys[alg]); !errors.Is(err, ErrSignature) {
				t.Fatalf("a changed signature: %v, want ErrSignature", err)
			}
			for _, other := range mldsaNames {
				if other == alg {
					continue
				}
				if err := verify(ex.JWS, keys[other]); !errors.Is(err, ErrUnknownKey) {
					t.Errorf("verified with the %s key: %v, want ErrUnknownKey", other, err)
				}
			}
		})
	}
}

// TestVerifySignatureMLDSA: verifySignature accepts crypto/mldsa's own
// signatures with the key of the token's parameter set, and nothing
// changed, cut, lengthened, empty, or checked with a key of another set.
func TestVerifySignatureMLDSA(t *testing.T) {
	const input = "eyJhbGciOiJNTC1EU0EtNjUifQ.eyJzdWIiOiIxIn0"
	keys := map[string]*mldsa.PrivateKey{}
	for _, alg := range mldsaNames {
		params, _ := mldsaParameters(alg)
		k, err := mldsa.GenerateKey(params)
		if err != nil {
			t.Fatal(err)
		}
		keys[alg] = k
	}
	for _, alg := range mldsaNames {
		t.Run(alg, func(t *testing.T) {
			sig, err := keys[alg].Sign(nil, []byte(input), nil)
			if err != nil {
				t.Fatal(err)
			}
			pub := keys[alg].PublicKey()
			if err := verifySignature(alg, input, sig, pub); err != nil {
				t.Fatalf("good signature: %v", err)
			}
			tampered := append([]byte(nil), sig...)
			tampered[len(tampered)/2] ^= 1
			withContext, err := keys[alg].Sign(nil, []byte(input), &mldsa.Options{Context: "other"})
			if err != nil {
				t.Fatal(err)
			}
			for name, tc := range map[string]struct {
				alg, input string
				sig        []byte
			}{
				"input changed":            {alg, input + "x", sig},
				"signature changed":        {alg, input, tampered},
				"signature cut":            {alg, input, sig[:len(sig)-1]},
				"signature longer":         {alg, input, append(append([]byte(nil), sig...), 0)},
				"no signature":             {alg, input, nil},
				"signed with a context":    {alg, input, withContext},
				"another parameter set":    {otherMLDSA(alg), input, sig},
				"EdDSA with an ML-DSA key": {"EdDSA", input, sig},
			} {
				if verifySignature(tc.alg, tc.input, tc.sig, pub) == nil {
					t.Errorf("%s: accepted", name)
				}
			}
		})
	}
}

// otherMLDSA is an ML-DSA algorithm other than alg.
func otherMLDSA(alg string) string {
	if alg == "ML-DSA-65" {
		return "ML-DSA-87"
	}
	return "ML-DSA-65"
}
