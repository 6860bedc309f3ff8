package redis

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestRevocationsPerIssuer (issue 26 §2): with one Redis shared by the
// authorities of an API and by its replicas, authority a's logout for sid
// s-1 revokes a's s-1 at once where it was posted, then at the other
// replica, and never b's s-1, at either replica.
func TestRevocationsPerIssuer(t *testing.T) {
	r := startRedis(t)
	a, b := bearertest.New(t), bearertest.New(t)
	authority := func(x *bearertest.Authority) bearer.Config {
		return bearer.Config{Authority: x.Issuer(), Audience: []string{"api"}, ClientID: bearertest.DefaultClientID,
			ClientSecret: bearertest.DefaultClientSecret, Logger: slog.New(slog.DiscardHandler)}
	}
	multi := func() *bearer.Validator {
		s := newStore(t, r)
		v, err := bearer.NewMulti(context.Background(), bearer.MultiConfig{
			Authorities:     []bearer.Config{authority(a), authority(b)},
			RevocationStore: s,
			Logger:          slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := v.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		waitConnected(t, s)
		return v
	}
	one, two := multi(), multi()
	fromA, fromB := a.Token(claims(bearertest.Payload{"sid": "s-1"})), b.Token(claims(bearertest.Payload{"sid": "s-1"}))
	for _, v := range []*bearer.Validator{one, two} {
		mustValid(t, v, fromA)
		mustValid(t, v, fromB)
	}

	srv := httptest.NewServer(one.LogoutHandler())
	t.Cleanup(srv.Close)
	resp, err := a.PostLogout(srv.URL, a.LogoutToken(bearertest.Payload{"sid": "s-1"}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if _, err := one.Validate(context.Background(), fromA); err == nil {
		t.Error("a's s-1, cached, still accepted where the logout was posted")
	}
	eventuallyRevoked(t, two, fromA)
	for _, v := range []*bearer.Validator{one, two} {
		mustValid(t, v, fromB)
	}
}
