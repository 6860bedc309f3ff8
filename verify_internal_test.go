package bearer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestVerifySignature checks verifySignature against golang-jwt's
// SigningMethod, whose verification it replaces: the same signatures pass,
// and any change to the input or the signature fails.
func TestVerifySignature(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKeys := map[string]*ecdsa.PrivateKey{}
	for alg, c := range map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()} {
		ecKeys[alg], _ = ecdsa.GenerateKey(c, rand.Reader)
	}
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	secret := []byte("0123456789abcdef0123456789abcdef")

	signer := func(alg string) (priv, pub any) {
		switch alg[:2] {
		case "RS", "PS":
			return rsaKey, &rsaKey.PublicKey
		case "ES":
			return ecKeys[alg], &ecKeys[alg].PublicKey
		case "Ed":
			return edPriv, edPub
		}
		return secret, secret
	}
	const input = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0"
	// golang-jwt has no ML-DSA: TestVerifySignatureMLDSA checks it.
	for _, alg := range slices.DeleteFunc(slices.Clone(supportedAlgorithms), func(alg string) bool { return slices.Contains(mldsaNames, alg) }) {
		t.Run(alg, func(t *testing.T) {
			priv, pub := signer(alg)
			m := jwt.GetSigningMethod(alg)
			sig, err := m.Sign(input, priv)
			if err != nil {
				t.Fatal(err)
			}
			if err := verifySignature(alg, input, sig, pub); err != nil {
				t.Errorf("good signature: %v", err)
			}
			if m.Verify(input, sig, pub) != nil {
				t.Fatal("golang-jwt refuses the signature it made")
			}
			tampered := append([]byte(nil), sig...)
			tampered[len(tampered)/2] ^= 1
			for name, tc := range map[string]struct {
				input string
				sig   []byte
			}{
				"input changed":     {input + "x", sig},
				"signature changed": {input, tampered},
				"signature cut":     {input, sig[:len(sig)-1]},
				"signature longer":  {input, append(append([]byte(nil), sig...), 0)},
				"no signature":      {input, nil},
			} {
				if verifySignature(alg, tc.input, tc.sig, pub) == nil {
					t.Errorf("%s: accepted", name)
				}
				if m.Verify(tc.input, tc.sig, pub) == nil {
					t.Errorf("%s: golang-jwt accepts it, verifySignature does not", name)
				}
			}
		})
	}

	t.Run("PSS with the longest salt", func(t *testing.T) {
		d := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		if err != nil {
			t.Fatal(err)
		}
		if err := verifySignature("PS256", input, sig, &rsaKey.PublicKey); err != nil {
			t.Errorf("refused: %v", err)
		}
	})

	// A key serves only its own algorithm family and size, whatever the
	// token's header says.
	rsSig, _ := jwt.SigningMethodRS256.Sign(input, rsaKey)
	esSig, _ := jwt.SigningMethodES256.Sign(input, ecKeys["ES256"])
	edSig, _ := jwt.SigningMethodEdDSA.Sign(input, edPriv)
	hsSig, _ := jwt.SigningMethodHS256.Sign(input, secret)
	for name, tc := range map[string]struct {
		alg string
		sig []byte
		key any
	}{
		"RSA key, ES256":           {"ES256", esSig, &rsaKey.PublicKey},
		"RSA key, HS256":           {"HS256", hsSig, &rsaKey.PublicKey},
		"RSA key, EdDSA":           {"EdDSA", edSig, &rsaKey.PublicKey},
		"RSA key, RS999":           {"RS999", rsSig, &rsaKey.PublicKey},
		"RSA key, XS256":           {"XS256", rsSig, &rsaKey.PublicKey},
		"P-256 key, ES384":         {"ES384", esSig, &ecKeys["ES256"].PublicKey},
		"P-384 key, ES256":         {"ES256", esSig, &ecKeys["ES384"].PublicKey},
		"P-256 key, RS256":         {"RS256", rsSig, &ecKeys["ES256"].PublicKey},
		"P-256 key, EdDSA":         {"EdDSA", edSig, &ecKeys["ES256"].PublicKey},
		"Ed25519 key, ES256":       {"ES256", esSig, edPub},
		"short Ed25519 key":        {"EdDSA", edSig, edPub[:16]},
		"secret, RS256":            {"RS256", rsSig, secret},
		"secret, none":             {"none", nil, secret},
		"secret, EdDSA":            {"EdDSA", edSig, secret},
		"public key as the secret": {"HS256", hsSig, []byte(edPub)},
		"no key":                   {"RS256", rsSig, nil},
		"private key":              {"RS256", rsSig, rsaKey},
		"empty alg":                {"", rsSig, &rsaKey.PublicKey},
		"one-letter alg":           {"R", rsSig, &rsaKey.PublicKey},
	} {
		if verifySignature(tc.alg, input, tc.sig, tc.key) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkVerifySignature compares verifySignature with golang-jwt's
// SigningMethod on the same RS256 signature.
func BenchmarkVerifySignature(b *testing.B) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	input := "eyJhbGciOiJSUzI1NiJ9." + string(make([]byte, 600))
	sig, _ := jwt.SigningMethodRS256.Sign(input, key)
	b.Run("bearer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if verifySignature("RS256", input, sig, &key.PublicKey) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("golang-jwt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if jwt.SigningMethodRS256.Verify(input, sig, &key.PublicKey) != nil {
				b.Fatal("refused")
			}
		}
	})
}
