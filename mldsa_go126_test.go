//go:build !go1.27

package bearer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestMLDSATokenRefusedWithoutGo127: a build without crypto/mldsa refuses
// a token whose alg is ML-DSA as an algorithm not allowed (401), with a
// description that says why, since the token itself may be fine.
func TestMLDSATokenRefusedWithoutGo127(t *testing.T) {
	a := bearertest.New(t)
	a.PublishRaw(rfc9964JWK(t, "ML-DSA-65"))
	v := newValidator(t, a, bearer.Config{})
	for _, alg := range []string{"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"} {
		// Signed with the RS256 key: the alg is refused before any key.
		token := a.TokenWith("RS256", map[string]any{"alg": alg, "kid": "T4xl70S7MT6Zeq6r9V9fPJGVn76wfnXJ21-gyo0Gu6o"}, claims(nil))
		e := mustFail(t, v, token, bearer.ErrInvalidToken, bearer.ErrAlgorithm)
		if want := "algorithm not supported: ML-DSA needs Go 1.27 or later"; e.Description != want {
			t.Errorf("%s: description %q, want %q", alg, e.Description, want)
		}
	}
	mustValid(t, v, a.Token(claims(nil)))
}

// TestMLDSAAlgorithmsNeedGo127: New refuses an allow-list naming ML-DSA
// in a build that cannot verify it, and says what would.
func TestMLDSAAlgorithmsNeedGo127(t *testing.T) {
	_, err := bearer.New(context.Background(), bearer.Config{
		Authority: "https://as.example", Audience: []string{"api"}, Algorithms: []string{"ES256", "ML-DSA-65"},
	})
	if err == nil || !strings.Contains(err.Error(), "Go 1.27") {
		t.Fatalf("New with ML-DSA-65 on an older toolchain: %v", err)
	}
}
