package redis

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// newStore returns a Store for r, closed when the test ends.
func newStore(t *testing.T, r interface{ URL() string }, edit ...func(*Options)) *Store {
	t.Helper()
	o := Options{URL: r.URL(), Prefix: "test", Logger: slog.New(slog.DiscardHandler)}
	for _, e := range edit {
		e(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitConnected waits until s has reached Redis.
func waitConnected(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !s.waitUp(ctx) {
		t.Fatal("the Store did not connect to Redis")
	}
}

// replica is one API replica: a Validator of a sharing store s, closed
// (before s) when the test ends.
func replica(t *testing.T, a *bearertest.Authority, s *Store, edit ...func(*bearer.Config)) *bearer.Validator {
	t.Helper()
	cfg := bearer.Config{
		Authority:          a.Issuer(),
		Audience:           []string{"api"},
		ClientID:           bearertest.DefaultClientID,
		ClientSecret:       bearertest.DefaultClientSecret,
		RevocationStore:    s,
		IntrospectionCache: s,
		Logger:             slog.New(slog.DiscardHandler),
	}
	for _, e := range edit {
		e(&cfg)
	}
	v, err := bearer.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return v
}

// connectedReplica is a replica with a Store of its own on r, once that
// Store has reached Redis.
func connectedReplica(t *testing.T, a *bearertest.Authority, r *redisServer, edit ...func(*Options)) (*bearer.Validator, *Store) {
	t.Helper()
	s := newStore(t, r, edit...)
	v := replica(t, a, s)
	waitConnected(t, s)
	return v, s
}

func claims(extra bearertest.Payload) bearertest.Payload {
	c := bearertest.Payload{"aud": "api"}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func mustValid(t *testing.T, v *bearer.Validator, token string) {
	t.Helper()
	if _, err := v.Validate(context.Background(), token); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

// eventuallyRevoked waits until v refuses token as revoked. The bound is
// generous: how fast it happens is measured in bench/, not asserted here.
func eventuallyRevoked(t *testing.T, v *bearer.Validator, token string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := v.Validate(context.Background(), token)
		if errors.Is(err, bearer.ErrRevoked) {
			return
		}
		if err != nil {
			t.Fatalf("Validate: %v, want ErrRevoked", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the revocation did not reach this replica")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
