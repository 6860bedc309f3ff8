package bearer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// alwaysFirst is a memory of proofs that has seen nothing, so that one proof
// can be checked again and again.
type alwaysFirst struct{}

func (alwaysFirst) FirstSeen(context.Context, string, time.Time) (bool, error) { return true, nil }

// bigKeyProof is a proof whose jwk is an RSA key of bits bits (a random
// odd modulus: no one holds its private key), with good claims for token
// at uri and a signature of the key's size; and that key's thumbprint.
func bigKeyProof(bits int, uri, token string) (proof, thumbprint string) {
	n := make([]byte, bits/8)
	_, _ = rand.Read(n)
	n[0] |= 0x80
	n[len(n)-1] |= 1
	jwk := map[string]string{"kty": "RSA", "e": "AQAB", "n": b64.EncodeToString(n)}
	header, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "RS256", "jwk": jwk})
	ath := sha256.Sum256([]byte(token))
	claims, _ := json.Marshal(map[string]any{"jti": rand.Text(), "htm": "GET", "htu": uri, "iat": time.Now().Unix(), "ath": b64.EncodeToString(ath[:])})
	sig := make([]byte, len(n))
	_, _ = rand.Read(sig)
	sum := sha256.Sum256([]byte(`{"e":"AQAB","kty":"RSA","n":"` + jwk["n"] + `"}`))
	return b64.EncodeToString(header) + "." + b64.EncodeToString(claims) + "." + b64.EncodeToString(sig),
		b64.EncodeToString(sum[:])
}

// BenchmarkDPoPProof measures a proof's check, accepted and refused: a
// refused proof must cost no more than a valid one (issue 26 §5), whatever
// key it embeds. The replay memory is left out (alwaysFirst).
//
//	go test -run '^$' -bench BenchmarkDPoPProof -benchtime 200x .
func BenchmarkDPoPProof(b *testing.B) {
	const uri, token = "https://api.example/values", "the-token"
	d, err := DPoPConfig{}.settings(defaultLeeway, alwaysFirst{})
	if err != nil {
		b.Fatal(err)
	}
	key, other := bearertest.NewDPoPKey("ES256"), bearertest.NewDPoPKey("ES256")
	big, bigThumbprint := bigKeyProof(20000, uri, token)
	for _, bc := range []struct {
		name, proof, jkt string
		ok               bool
	}{
		{"valid ES256", key.Proof("GET", uri, token), key.Thumbprint(), true},
		{"refused: another key", other.Proof("GET", uri, token), key.Thumbprint(), false},
		{"refused: RSA 20000 bits, not the token's", big, key.Thumbprint(), false},
		{"refused: RSA 20000 bits, the token's", big, bigThumbprint, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := Presentation{Scheme: "DPoP", Token: token, Method: "GET", URL: uri, DPoP: []string{bc.proof}}
			cnf := confirmation{jkt: bc.jkt}
			ctx := context.Background()
			for b.Loop() {
				if err := d.checkProof(ctx, p, cnf); (err == nil) != bc.ok {
					b.Fatal(err)
				}
			}
		})
	}
}
