package bearer_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// BenchmarkRevocationCheck measures cache hits, the path the revocation
// check weighs on most, with no revocation and with 10 000 in force that
// the tokens do not match: 5 000 back-channel logouts, each a session and
// its subject's tokens without sid. "one" repeats one token
// (BenchmarkValidate's warm path); "cycling" takes 10 000 tokens in turn
// (BenchmarkValidateCycling's), so that neither the cache's entries nor
// the revocations' are all in the CPU's caches. Compare the columns:
//
//	go test -run '^$' -bench RevocationCheck -count 10 | benchstat -col /revocations -
func BenchmarkRevocationCheck(b *testing.B) {
	a := bearertest.NewAuthority()
	b.Cleanup(a.Close)
	ctx := context.Background()
	one := []string{a.Token(claims(bearertest.Payload{"sub": "248289761001", "sid": "the-benchmark-session"}))}
	cycling := hs256Tokens(a, bearer.DefaultCacheSize)
	for _, n := range []int{0, 10000} {
		for _, tc := range []struct {
			name   string
			tokens []string
			v      func() *bearer.Validator
		}{
			{"one", one, func() *bearer.Validator { return newBenchValidator(b, a) }},
			{"cycling", cycling, func() *bearer.Validator { return hs256Validator(b, a, 0) }},
		} {
			b.Run(fmt.Sprintf("%s/revocations=%d", tc.name, n), func(b *testing.B) {
				v := tc.v()
				for i := range n / 2 {
					id := strconv.Itoa(i)
					for _, r := range []bearer.Revocation{{SessionID: "session-" + id}, {Subject: "user-" + id, WithoutSession: true}} {
						if err := v.Revoke(ctx, r); err != nil {
							b.Fatal(err)
						}
					}
				}
				validateEach(b, v, tc.tokens)
				validateInTurn(b, v, tc.tokens)
			})
		}
	}
}

func newBenchValidator(b *testing.B, a *bearertest.Authority) *bearer.Validator {
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	if err := v.Ready(context.Background()); err != nil {
		b.Fatal(err)
	}
	return v
}
