package bearer_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// idToken mints an ID token for the client "app", as the authority gives
// an application that signs a user in.
func idToken(a *bearertest.Authority, alg string, header map[string]any) string {
	if header == nil {
		header = map[string]any{}
	}
	if _, ok := header["typ"]; !ok {
		header["typ"] = "JWT"
	}
	return a.TokenWith(alg, header, bearertest.Payload{"aud": "app", "nonce": "n-0S6_WzA2Mj", "client_id": nil})
}

// TestKeySetVerifiesIDTokens: go-oidc verifies ID tokens with the
// Validator's keys, fetching nothing itself; a key published since the
// last fetch is fetched once, as for access tokens.
func TestKeySetVerifiesIDTokens(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	verifier := oidc.NewVerifier(a.Issuer(), v.KeySet(), &oidc.Config{ClientID: "app", SupportedSigningAlgs: []string{"RS256", "ES256", "EdDSA"}})
	ctx := context.Background()
	fetches := a.Hits(bearertest.JWKS)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		tok, err := verifier.Verify(ctx, idToken(a, alg, nil))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if tok.Subject != "alice" {
			t.Errorf("sub %q", tok.Subject)
		}
	}
	if n := a.Hits(bearertest.JWKS); n != fetches {
		t.Errorf("%d JWKS fetches, want none: the keys are the Validator's", n-fetches)
	}
	a.RotateKey("RS256")
	for range 3 {
		if _, err := verifier.Verify(ctx, idToken(a, "RS256", nil)); err != nil {
			t.Fatalf("rotated key: %v", err)
		}
	}
	if n := a.Hits(bearertest.JWKS); n != fetches+1 {
		t.Errorf("%d JWKS fetches after a rotation, want 1", n-fetches)
	}
	// The same key set serves access tokens: nothing was fetched twice.
	mustValid(t, v, a.Token(claims(nil)))
	if n := a.Hits(bearertest.JWKS); n != fetches+1 {
		t.Errorf("%d JWKS fetches, want 1", n-fetches)
	}
}

// TestKeySetRules: the key set applies the Validator's rules for a JWS,
// and its errors are *Error values.
func TestKeySetRules(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Algorithms: []string{"RS256", "ES256"}})
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	dup := a.Sign("RS256", []byte(`{"alg":"RS256","kid":"`+a.KeyID("RS256")+`"}`),
		[]byte(`{"iss":"`+a.Issuer()+`","sub":"alice","sub":"mallory","aud":"app","exp":`+exp+`}`))
	parts := strings.Split(idToken(a, "RS256", nil), ".")
	for _, tc := range []struct {
		name   string
		token  string
		reason error
	}{
		{"EdDSA not in Algorithms", idToken(a, "EdDSA", nil), bearer.ErrAlgorithm},
		{"alg none", idToken(a, "RS256", map[string]any{"alg": "none"}), bearer.ErrAlgorithm},
		{"jku", idToken(a, "RS256", map[string]any{"jku": "https://evil.example/jwks"}), bearer.ErrHeader},
		{"unknown kid", idToken(a, "RS256", map[string]any{"kid": "nope"}), bearer.ErrUnknownKey},
		{"altered payload", parts[0] + "." + strings.Split(idToken(a, "ES256", nil), ".")[1] + "." + parts[2], bearer.ErrSignature},
		{"member twice", dup, bearer.ErrMalformed},
		{"not a JWS", "abc", bearer.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload, err := v.KeySet().VerifySignature(context.Background(), tc.token)
			var e *bearer.Error
			if !errors.As(err, &e) || !errors.Is(err, bearer.ErrInvalidToken) || !errors.Is(err, tc.reason) {
				t.Errorf("VerifySignature: %v, %v; want %v", payload, err, tc.reason)
			}
		})
	}
}

// TestKeySetAuthorityDown: an authority that cannot be reached is
// ErrUnavailable, not a verdict on the token.
func TestKeySetAuthorityDown(t *testing.T) {
	a := bearertest.New(t)
	tok := idToken(a, "RS256", nil)
	a.SetDown(true)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.KeySet().VerifySignature(context.Background(), tok); !errors.Is(err, bearer.ErrUnavailable) {
		t.Errorf("VerifySignature: %v, want ErrUnavailable", err)
	}
}
