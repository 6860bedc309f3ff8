package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// tamper returns token with its payload changed (sub) and its header and
// signature kept.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	p, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(p), `"sub":"248289761001"`, `"sub":"248289761002"`, 1)
	if changed == string(p) {
		t.Fatalf("tamper: no sub in %s", p)
	}
	parts[1] = b64.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

// TestContenders checks that every contender accepts the benchmark token
// and refuses bad ones, so that none is measured doing less than the
// others. Bare checks only the signature.
func TestContenders(t *testing.T) {
	a := bearertest.New(t)
	other := bearertest.New(t)
	ctx := context.Background()
	for _, alg := range Algorithms {
		t.Run(alg, func(t *testing.T) {
			token := a.TokenWith(alg, nil, Claims())
			with := func(c bearertest.Payload) string {
				claims := Claims()
				for k, v := range c {
					claims[k] = v
				}
				return a.TokenWith(alg, nil, claims)
			}
			bad := map[string]string{
				"tampered":     tamper(t, token),
				"foreign key":  other.TokenWith(alg, map[string]any{"kid": a.KeyID(alg)}, Claims()),
				"unsigned":     a.TokenWith("none", nil, Claims()),
				"expired":      with(bearertest.Payload{"iat": time.Now().Add(-3 * time.Hour), "exp": time.Now().Add(-2 * time.Hour)}),
				"no exp":       with(bearertest.Payload{"exp": nil}),
				"other aud":    with(bearertest.Payload{"aud": "other"}),
				"other iss":    with(bearertest.Payload{"iss": "https://other.example"}),
				"no api scope": with(bearertest.Payload{"scope": "read write"}),
			}
			signatureOnly := map[string]bool{"tampered": true, "foreign key": true, "unsigned": true}
			for _, name := range Names {
				t.Run(name, func(t *testing.T) {
					c, err := New(ctx, name, TargetOf(a, alg), token)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					if c.Pending != "" {
						t.Skip(c.Pending)
					}
					for i := 0; i < 3; i++ { // warm contenders answer from the cache after the first
						if err := c.Validate(ctx, token); err != nil {
							t.Fatalf("valid token refused: %v", err)
						}
					}
					for what, tok := range bad {
						if name == Bare && !signatureOnly[what] {
							continue
						}
						if c.Validate(ctx, tok) == nil {
							t.Errorf("%s token accepted", what)
						}
					}
				})
			}
		})
	}
}

// TestIntrospectionContenders checks that every introspection contender
// finds an active reference token active and an unknown one not.
func TestIntrospectionContenders(t *testing.T) {
	a := bearertest.New(t)
	ctx := context.Background()
	token := a.ReferenceToken(Claims())
	revoked := a.ReferenceToken(Claims())
	a.Revoke(revoked)
	for _, name := range IntrospectionNames {
		t.Run(name, func(t *testing.T) {
			c, err := NewIntrospection(ctx, name, EndpointOf(a), token)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := 0; i < 3; i++ {
				if err := c.Validate(ctx, token); err != nil {
					t.Fatalf("active token refused: %v", err)
				}
			}
			for _, tok := range []string{revoked, "unknown" + token[7:]} {
				if c.Validate(ctx, tok) == nil {
					t.Errorf("inactive token accepted")
				}
			}
		})
	}
}

// TestWarmHits checks that the warm contender really answers from the
// cache: one miss, then hits. It waits for the TODO hooks of cache.go.
func TestWarmHits(t *testing.T) {
	a := bearertest.New(t)
	ctx := context.Background()
	v, err := NewBearerValidator(ctx, TargetOf(a, "RS256"), true, 0)
	if err != nil {
		t.Skip(err)
	}
	defer v.Close()
	token := a.Token(Claims())
	for range 3 {
		if _, err := v.Validate(ctx, token); err != nil {
			t.Fatal(err)
		}
	}
	if s := v.Status(); s.CacheHits != 2 || s.CacheMisses != 1 {
		t.Errorf("Status = %+v; want 2 hits and 1 miss", s)
	}
}
