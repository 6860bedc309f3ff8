package bearer_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The bare signature check is the floor any validator pays; the Validate
// benchmarks beside it show what the library adds.

func benchSetup(b *testing.B, alg string, cacheSize int) (*bearertest.Authority, *bearer.Validator, string) {
	a := bearertest.NewAuthority()
	b.Cleanup(a.Close)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	if err := v.Ready(context.Background()); err != nil {
		b.Fatal(err)
	}
	return a, v, a.TokenWith(alg, nil, bearertest.Claims{"aud": "api", "scope": "api read", "sub": "248289761001"})
}

func BenchmarkBareVerify(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			a, _, tok := benchSetup(b, alg, 0)
			i := strings.LastIndexByte(tok, '.')
			sig, _ := enc.DecodeString(tok[i+1:])
			pub := a.PublicKey(alg)
			b.ReportAllocs()
			for b.Loop() {
				h := sha256.Sum256([]byte(tok[:i]))
				switch k := pub.(type) {
				case *rsa.PublicKey:
					if rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) != nil {
						b.Fatal("verify")
					}
				case *ecdsa.PublicKey:
					r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
					if !ecdsa.Verify(k, h[:], r, s) {
						b.Fatal("verify")
					}
				}
			}
		})
	}
}

// BenchmarkValidate measures a token seen for the first time (cold: the
// cache is off) and one seen again (warm: served from the cache).
func BenchmarkValidate(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		for _, mode := range []struct {
			name string
			size int
		}{{"cold", -1}, {"warm", 0}} {
			b.Run(alg+"/"+mode.name, func(b *testing.B) {
				_, v, tok := benchSetup(b, alg, mode.size)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Validate(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkValidateUnique measures tokens never seen before, with the
// cache off and on (full, so every new token also evicts one): the cost of
// a miss beyond the signature check, cache insert and garbage collection
// of a full cache included. HS256 keeps the signature cheap so that the
// rest is what is measured.
func BenchmarkValidateUnique(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a := bearertest.NewAuthority()
	b.Cleanup(a.Close)
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"at+jwt"}`))
	now := time.Now()
	// Five times the default cache size, cycled: every lookup misses.
	tokens := make([]string, 5*bearer.DefaultCacheSize)
	for i := range tokens {
		p, _ := json.Marshal(map[string]any{
			"iss": a.Issuer(), "aud": "api", "scope": "api read", "sub": "248289761001", "client_id": "client",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": strconv.Itoa(i),
		})
		input := header + "." + enc.EncodeToString(p)
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		tokens[i] = input + "." + enc.EncodeToString(m.Sum(nil))
	}
	for _, mode := range []struct {
		name string
		size int
	}{{"cold", -1}, {"warm", 0}} {
		b.Run("HS256/"+mode.name, func(b *testing.B) {
			v, err := bearer.New(context.Background(), bearer.Config{
				Authority: a.Issuer(), Audience: []string{"api"}, CacheSize: mode.size,
				Algorithms: []string{"HS256"}, SharedSecret: secret,
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { v.Close() })
			ctx := context.Background()
			if err := v.Ready(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := v.Validate(ctx, tokens[i%len(tokens)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
