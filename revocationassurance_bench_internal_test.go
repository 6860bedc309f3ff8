package bearer

import (
	"log/slog"
	"testing"
	"time"
)

// BenchmarkRequireAssurance is BenchmarkRequire's step-up with its
// issuer's revocations as a Validator has them: none, and an assurance
// change of another user (the filter's path). What the first adds to
// BenchmarkRequire's stepup is what every request pays for the check.
func BenchmarkRequireAssurance(b *testing.B) {
	now := time.Now()
	c := &Claims{Subject: "alice", Scopes: []string{"api", "read"}, ACR: "urn:example:mfa", AuthTime: now.Add(-time.Minute), IssuedAt: now.Add(-time.Minute)}
	route := []Requirement{AllOf(AllOf("api", "read"), ACR("urn:example:pwd", "urn:example:mfa"), MaxAge(10*time.Minute))}
	for _, name := range []string{"none", "other"} {
		b.Run("changes="+name, func(b *testing.B) {
			x := newRevocationIndex(slog.New(slog.DiscardHandler), maxRevocations)
			if name == "other" {
				if _, err := applyRevocation(x, time.Hour, &Revocation{ACRSubject: "bob", ACR: "urn:example:pwd"}, now); err != nil {
					b.Fatal(err)
				}
			}
			a := &authority{s: &settings{leeway: time.Minute}, revocations: x}
			b.ReportAllocs()
			for b.Loop() {
				if err := a.require(c, route, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
