package redis

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestFirstSeen: an id is first seen once across replicas, until it
// expires; with Redis down, FirstSeen fails rather than guess.
func TestFirstSeen(t *testing.T) {
	r := startRedis(t)
	one, two := newStore(t, r), newStore(t, r)
	waitConnected(t, one)
	waitConnected(t, two)
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	if first, err := one.FirstSeen(ctx, "iss jti-1", exp); err != nil || !first {
		t.Fatalf("FirstSeen of a new id: %v, %v; want true", first, err)
	}
	if first, err := two.FirstSeen(ctx, "iss jti-1", exp); err != nil || first {
		t.Fatalf("FirstSeen of an id seen by another replica: %v, %v; want false", first, err)
	}
	// An expiry already past still records the id, for a moment.
	if first, err := one.FirstSeen(ctx, "iss jti-2", time.Now().Add(-time.Second)); err != nil || !first {
		t.Fatalf("FirstSeen with a past expiry: %v, %v; want true", first, err)
	}
	if n, _ := r.do("EXISTS", "test:seen:iss jti-1").AsInt64(); n != 0 {
		t.Error("the id is stored as it is, not hashed")
	}

	r.stop()
	if _, err := one.FirstSeen(ctx, "iss jti-3", exp); err == nil {
		t.Error("FirstSeen with Redis down succeeded")
	}
}

// TestLogoutWithRedisSlow: a replay check that Redis does not answer in
// time is a 503 too, and the next logout, once Redis answers, succeeds.
func TestLogoutWithRedisSlow(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	s := newStore(t, r)
	v := replica(t, a, s, func(c *bearer.Config) { c.Timeout = 300 * time.Millisecond })
	waitConnected(t, s)
	srv := httptest.NewServer(v.LogoutHandler())
	t.Cleanup(srv.Close)
	logout := func(sid string) int {
		t.Helper()
		resp, err := a.PostLogout(srv.URL, a.LogoutToken(bearertest.Payload{"aud": bearertest.DefaultClientID, "sid": sid}))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	awake := r.sleep(2 * time.Second)
	if status := logout("s-1"); status != http.StatusServiceUnavailable {
		t.Errorf("logout with Redis asleep: %d, want 503", status)
	}
	<-awake
	waitConnected(t, s)
	if status := logout("s-2"); status != http.StatusOK {
		t.Errorf("logout with Redis awake again: %d, want 200", status)
	}
}

// TestLogoutWithRedisDown: a logout token that cannot be checked for
// replay is answered 503 with Retry-After, not accepted.
func TestLogoutWithRedisDown(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	v, _ := connectedReplica(t, a, r)
	srv := httptest.NewServer(v.LogoutHandler())
	t.Cleanup(srv.Close)

	resp, err := a.PostLogout(srv.URL, a.LogoutToken(bearertest.Payload{"aud": bearertest.DefaultClientID, "sid": "s-1"}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d, want 200", resp.StatusCode)
	}
	r.stop()
	resp, err = a.PostLogout(srv.URL, a.LogoutToken(bearertest.Payload{"aud": bearertest.DefaultClientID, "sid": "s-2"}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("logout with Redis down: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
