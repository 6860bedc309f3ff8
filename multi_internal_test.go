package bearer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// TestIssue26_1_MemoryBoundedUnderFlood: a flood of made-up tenants keeps
// no more authorities, nor issuer states, than the bounds say, while a
// real tenant's revocations stay.
func TestIssue26_1_MemoryBoundedUnderFlood(t *testing.T) {
	a := bearertest.New(t, bearertest.WithPath("/tenant-real"))
	gone := bearertest.NewAuthority()
	gone.Close()
	quiet := slog.New(slog.DiscardHandler)
	v, err := NewMulti(context.Background(), MultiConfig{
		Resolve: func(iss string) (Config, bool) {
			return Config{Audience: []string{"api"}, Logger: quiet}, iss == a.Issuer() || strings.HasPrefix(iss, gone.Issuer()+"/")
		},
		MaxResolved: 3,
		Logger:      quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Validate(context.Background(), a.Token(bearertest.Payload{"aud": "api"})); err != nil {
		t.Fatal(err)
	}
	if err := v.Revoke(context.Background(), Revocation{Issuer: a.Issuer(), Subject: "alice"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * defaultResolveBurst {
		tok := a.Token(bearertest.Payload{"aud": "api", "iss": fmt.Sprintf("%s/tenant-%d", gone.Issuer(), i)})
		if _, err := v.Validate(context.Background(), tok); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("made-up tenant %d: %v", i, err)
		}
	}
	m := v
	m.mu.Lock()
	authorities, issuers, probation := len(m.resolved.by), len(m.issuers), m.resolved.probation
	m.mu.Unlock()
	if limit := m.max + m.maxProbation(); authorities > limit || issuers > limit || probation > m.maxProbation() {
		t.Errorf("%d authorities (%d on probation), %d issuer states; want at most %d, %d on probation", authorities, probation, issuers, limit, m.maxProbation())
	}
	signedOut := a.Token(bearertest.Payload{"aud": "api", "iat": time.Now().Add(-time.Minute)})
	if _, err := v.Validate(context.Background(), signedOut); !errors.Is(err, ErrRevoked) {
		t.Errorf("the real tenant's token after the flood: %v, want revoked", err)
	}
}
