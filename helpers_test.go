package bearer_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/loopback"
)

// newValidator returns a Validator for a with cfg's other settings, ready
// (discovery and keys fetched), closed at the end of the test.
func newValidator(t *testing.T, a *bearertest.Authority, cfg bearer.Config) *bearer.Validator {
	t.Helper()
	if cfg.Authority == "" {
		cfg.Authority = a.Issuer()
	}
	if cfg.Audience == nil && cfg.RequiredScopes.IsZero() {
		cfg.Audience = []string{"api"}
	}
	v, err := bearer.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	return v
}

// claims returns the claims of a token this API accepts by default.
func claims(extra bearertest.Payload) bearertest.Payload {
	c := bearertest.Payload{"aud": "api", "scope": "api"}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func mustValid(t *testing.T, v *bearer.Validator, token string) *bearer.Claims {
	t.Helper()
	c, err := v.Validate(context.Background(), token)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return c
}

// mustFail checks that Validate fails with kind and, if reason is not nil,
// that reason.
func mustFail(t *testing.T, v *bearer.Validator, token string, kind, reason error) *bearer.Error {
	t.Helper()
	c, err := v.Validate(context.Background(), token)
	if err == nil {
		t.Fatalf("Validate accepted the token: %+v", c)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("Validate error %v, want kind %v", err, kind)
	}
	if reason != nil && !errors.Is(err, reason) {
		t.Fatalf("Validate error %v, want reason %v", err, reason)
	}
	var e *bearer.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not *bearer.Error", err)
	}
	return e
}

// pemOf is key in PEM, as Config.StaticKeys takes it.
func pemOf(t *testing.T, key crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// refusedAddr returns a loopback address that nothing listens on, where a
// test may later start the authority that was down.
func refusedAddr(t *testing.T) string {
	t.Helper()
	addr, err := loopback.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
