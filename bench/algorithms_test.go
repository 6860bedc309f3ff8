package bench

import (
	"context"
	"testing"

	"github.com/accesstoken/bearer/bearertest"
)

// BenchmarkAlgorithms is the cost of one validation per algorithm:
// lib=bare (the signature check alone), lib=bearer-cold (this library,
// nothing cached) and lib=bearer-warm (a cache hit), for BENCHMARKS.md's
// table. ML-DSA is measured when built with Go 1.27 or later:
//
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench Algorithms -count 6 .
func BenchmarkAlgorithms(b *testing.B) {
	a := bearertest.New(b)
	ctx := context.Background()
	for _, alg := range TableAlgorithms {
		token := a.TokenWith(alg, nil, Claims())
		b.Run("alg="+alg, func(b *testing.B) {
			for _, name := range []string{Bare, BearerCold, BearerWarm} {
				b.Run("lib="+name, func(b *testing.B) {
					c, err := New(ctx, name, TargetOf(a, alg), token)
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					b.ReportAllocs()
					b.ReportMetric(float64(len(token)), "token-bytes")
					for b.Loop() {
						if err := c.Validate(ctx, token); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
