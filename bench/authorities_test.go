package bench

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// BenchmarkAuthorities measures what choosing among several authorities
// costs: n=1 is a single-authority Validator (bearer.New); n=2 and n=100
// are bearer.NewMulti with the token's authority among them (the others
// hold static keys, so they start no servers). path=miss validates in
// full every time (cache off), path=hit from the shared cache. Compare
// each n with n=1: benchstat -row /n -col /path.
func BenchmarkAuthorities(b *testing.B) {
	a := bearertest.New(b)
	other := bearertest.New(b)
	der, err := x509.MarshalPKIXPublicKey(other.PublicKey("RS256"))
	if err != nil {
		b.Fatal(err)
	}
	static := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	target := bearer.Config{Authority: a.Issuer(), Audience: []string{Audience}, RequiredScopes: bearer.AnyOf(Scope)}
	token := a.TokenWith("RS256", nil, Claims())
	ctx := context.Background()
	for _, n := range []int{1, 2, 100} {
		for _, path := range []string{"miss", "hit"} {
			b.Run(fmt.Sprintf("n=%d/path=%s", n, path), func(b *testing.B) {
				cacheSize := 0
				if path == "miss" {
					cacheSize = -1
				}
				var v *bearer.Validator
				var err error
				if n == 1 {
					cfg := target
					cfg.CacheSize = cacheSize
					v, err = bearer.New(ctx, cfg)
				} else {
					cfgs := make([]bearer.Config, 0, n)
					for i := range n - 1 {
						cfgs = append(cfgs, bearer.Config{Authority: fmt.Sprintf("https://tenant-%d.example", i), Audience: []string{Audience}, StaticKeys: static})
					}
					v, err = bearer.NewMulti(ctx, bearer.MultiConfig{Authorities: append(cfgs, target), CacheSize: cacheSize})
				}
				if err != nil {
					b.Fatal(err)
				}
				defer v.Close()
				if err := v.Ready(ctx); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Validate(ctx, token); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
