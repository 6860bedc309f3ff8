package bearer_test

import (
	"context"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/observe"
)

// nopObserver is the cheapest Observer: what the hook itself costs when
// one is set.
type nopObserver struct{}

func (nopObserver) Validated(context.Context, observe.Validation)           {}
func (nopObserver) Refreshed(context.Context, observe.Refresh)              {}
func (nopObserver) Introspected(context.Context, observe.IntrospectionCall) {}

// BenchmarkObserver measures a cache hit without an Observer and with one
// that does nothing: the timing and the event the hook adds when set.
// (What it costs unset, against the code before it, is bench/observer.sh.)
func BenchmarkObserver(b *testing.B) {
	a := bearertest.NewAuthority()
	b.Cleanup(a.Close)
	token := a.TokenWith("ES256", nil, bearertest.Payload{"aud": "api", "scope": "api read"})
	for _, c := range []struct {
		name string
		obs  observe.Observer
	}{{"none", nil}, {"nop", nopObserver{}}} {
		b.Run(c.name, func(b *testing.B) {
			v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Observer: c.obs})
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			ctx := context.Background()
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
