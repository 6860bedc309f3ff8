package bearer_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"runtime"
	"runtime/metrics"
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
	return a, v, a.TokenWith(alg, nil, bearertest.Payload{"aud": "api", "scope": "api read", "sub": "248289761001"})
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
// cache off and on, in a validator that has had such tokens for a while
// (so the cache has filled up, then let go of them): the cost of a miss
// beyond the signature check, whatever the cache does with it included.
// HS256 keeps the signature cheap so that the rest is what is measured.
func BenchmarkValidateUnique(b *testing.B) {
	a := bearertest.NewAuthority()
	b.Cleanup(a.Close)
	// Five times the default cache size, cycled: every lookup misses.
	tokens := hs256Tokens(a, 5*bearer.DefaultCacheSize)
	for _, mode := range []struct {
		name string
		size int
	}{{"cold", -1}, {"warm", 0}} {
		b.Run("HS256/"+mode.name, func(b *testing.B) {
			v := hs256Validator(b, a, mode.size)
			validateEach(b, v, tokens)
			validateInTurn(b, v, tokens)
		})
	}
}

// BenchmarkValidateCycling measures cache hits spread over as many tokens
// as the default cache holds, as on a busy API with many clients: unlike
// BenchmarkValidate's one warm token, the entries are no longer all in the
// CPU's caches.
func BenchmarkValidateCycling(b *testing.B) {
	a := bearertest.NewAuthority()
	b.Cleanup(a.Close)
	tokens := hs256Tokens(a, bearer.DefaultCacheSize)
	v := hs256Validator(b, a, 0)
	validateEach(b, v, tokens)
	validateInTurn(b, v, tokens)
	if s := v.Status(); s.CacheMisses != uint64(len(tokens)) {
		b.Fatalf("%d misses after the first pass, want %d: not every lookup was a hit", s.CacheMisses, len(tokens))
	}
}

// BenchmarkCollect is one garbage collection with the cache empty and with
// it full of validated tokens: what holding them costs every cycle of a
// busy server. It also reports the heap objects and the bytes the collector
// scans per cached token, which do not depend on how busy the machine is.
func BenchmarkCollect(b *testing.B) {
	a := bearertest.NewAuthority()
	b.Cleanup(a.Close)
	for _, n := range []int{0, bearer.DefaultCacheSize} {
		b.Run(fmt.Sprintf("cached=%d", n), func(b *testing.B) {
			v := hs256Validator(b, a, 0)
			tokens := hs256Tokens(a, n)
			objects, scan := heapAfterGC()
			validateEach(b, v, tokens)
			o, s := heapAfterGC()
			for b.Loop() {
				runtime.GC()
			}
			// After the loop: b.Loop's start deletes reported metrics.
			if n > 0 {
				b.ReportMetric(float64(o-objects)/float64(n), "objects/token")
				b.ReportMetric(float64(s-scan)/float64(n), "scan-B/token")
			}
			runtime.KeepAlive(v)
			runtime.KeepAlive(tokens)
		})
	}
}

// heapAfterGC collects, then returns the live heap objects and the bytes
// the collector scans.
func heapAfterGC() (objects, scan uint64) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/objects:objects"}, {Name: "/gc/scan/heap:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// validateEach validates every token once, before the measured loop.
func validateEach(b *testing.B, v *bearer.Validator, tokens []string) {
	for _, tok := range tokens {
		if _, err := v.Validate(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

// validateInTurn is the benchmark loop: tokens validated one after another,
// from the first again after the last.
func validateInTurn(b *testing.B, v *bearer.Validator, tokens []string) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := v.Validate(ctx, tokens[i%len(tokens)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

var benchSecret = []byte("0123456789abcdef0123456789abcdef")

// hs256Tokens returns n distinct tokens from a, signed with benchSecret so
// that making them is cheap and checking them costs little beside the rest.
func hs256Tokens(a *bearertest.Authority, n int) []string {
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"at+jwt"}`))
	now := time.Now()
	tokens := make([]string, n)
	for i := range tokens {
		p, _ := json.Marshal(map[string]any{
			"iss": a.Issuer(), "aud": "api", "scope": "api read", "sub": "248289761001", "client_id": "client",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": strconv.Itoa(i),
		})
		input := header + "." + enc.EncodeToString(p)
		m := hmac.New(sha256.New, benchSecret)
		m.Write([]byte(input))
		tokens[i] = input + "." + enc.EncodeToString(m.Sum(nil))
	}
	return tokens
}

// hs256Validator is a ready Validator for a's HS256 tokens.
func hs256Validator(b *testing.B, a *bearertest.Authority, cacheSize int) *bearer.Validator {
	v, err := bearer.New(context.Background(), bearer.Config{
		Authority: a.Issuer(), Audience: []string{"api"}, CacheSize: cacheSize,
		Algorithms: []string{"HS256"}, SharedSecret: benchSecret,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	if err := v.Ready(context.Background()); err != nil {
		b.Fatal(err)
	}
	return v
}
