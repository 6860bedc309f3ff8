package bearer_test

import (
	"context"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// BenchmarkRequirementHit is a cache hit of one token judged by a route
// requirement of scopes alone, and by the same scopes with a step-up
// (acr and max age): what step-up adds to a hit (issue 30 asks at most
// 5 %). Compare with benchstat -col /req.
func BenchmarkRequirementHit(b *testing.B) {
	a, v, _ := benchSetup(b, "ES256", 0)
	tok := a.TokenWith("ES256", nil, bearertest.Payload{"aud": "api", "scope": "api read", "sub": "248289761001",
		"acr": "urn:example:mfa", "amr": []string{"pwd", "otp"}, "auth_time": time.Now().Add(-time.Minute)})
	scopes := bearer.AllOf("api", "read")
	for _, c := range []struct {
		name string
		r    bearer.Requirement
	}{
		{"scopes", scopes},
		{"stepup", bearer.AllOf(scopes, bearer.ACR("urn:example:pwd", "urn:example:mfa"), bearer.MaxAge(10*time.Minute))},
	} {
		b.Run("req="+c.name, func(b *testing.B) {
			ctx := context.Background()
			p := bearer.Presentation{Token: tok, Require: []bearer.Requirement{c.r}}
			if _, err := v.ValidatePresentation(ctx, p); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.ValidatePresentation(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
