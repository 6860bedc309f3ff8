package bench

import (
	"context"
	"testing"

	"github.com/accesstoken/bearer/bearertest"
)

// BenchmarkValidate runs every contender on the same token, per algorithm:
// BenchmarkValidate/alg=RS256/lib=bare and so on, so that benchstat can
// lay them out with -row /lib -col /alg. Compare each with lib=bare.
func BenchmarkValidate(b *testing.B) {
	a := bearertest.New(b)
	ctx := context.Background()
	for _, alg := range Algorithms {
		token := a.TokenWith(alg, nil, Claims())
		b.Run("alg="+alg, func(b *testing.B) {
			for _, name := range Names {
				b.Run("lib="+name, func(b *testing.B) {
					c, err := New(ctx, name, TargetOf(a, alg), token)
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					if c.Pending != "" {
						b.Skip(c.Pending)
					}
					b.ReportAllocs()
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

// BenchmarkIntrospect runs the introspection contenders against
// bearertest's introspection endpoint on loopback: lib=post is the plain
// POST, lib=bearer-miss the library asking every time, lib=bearer-hit
// the library answering from its cache.
func BenchmarkIntrospect(b *testing.B) {
	a := bearertest.New(b)
	ctx := context.Background()
	token := a.ReferenceToken(Claims())
	for _, name := range IntrospectionNames {
		b.Run("lib="+name, func(b *testing.B) {
			c, err := NewIntrospection(ctx, name, EndpointOf(a), token)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Validate(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
