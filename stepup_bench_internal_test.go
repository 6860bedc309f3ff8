package bearer

import (
	"testing"
	"time"
)

// BenchmarkRequire is the requirements stage alone, for the claims of a
// cache hit: scopes, and the same scopes with a step-up. The difference
// is what step-up adds to every request (BenchmarkRequirementHit has the
// whole hit, which this machine's noise makes hard to compare).
func BenchmarkRequire(b *testing.B) {
	now := time.Now()
	// As a token's auth_time is: without a monotonic reading.
	c := &Claims{Scopes: []string{"api", "read"}, ACR: "urn:example:mfa", AuthTime: time.Unix(now.Unix()-60, 0)}
	a := &authority{s: &settings{leeway: time.Minute}}
	scopes := AllOf("api", "read")
	for _, r := range []struct {
		name string
		r    Requirement
	}{
		{"scopes", scopes},
		{"stepup", AllOf(scopes, ACR("urn:example:pwd", "urn:example:mfa"), MaxAge(10*time.Minute))},
	} {
		b.Run("req="+r.name, func(b *testing.B) {
			route := []Requirement{r.r}
			b.ReportAllocs()
			for b.Loop() {
				if err := a.require(c, route, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
