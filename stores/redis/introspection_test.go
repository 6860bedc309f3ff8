package redis

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestIntrospectionShared: a reference token asked of three replicas in
// turn is introspected once, and nothing of it but its SHA-256 is in
// Redis.
func TestIntrospectionShared(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	var replicas []*bearer.Validator
	for range 3 {
		v, _ := connectedReplica(t, a, r)
		replicas = append(replicas, v)
	}
	tok := a.ReferenceToken(claims(nil))
	a.ResetHits()
	for range 2 {
		for _, v := range replicas {
			mustValid(t, v, tok)
		}
	}
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d introspection calls for three replicas, want 1", n)
	}
	keys, err := r.do("KEYS", "*").AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		v, _ := r.do("DUMP", k).ToString()
		if strings.Contains(k, tok) || strings.Contains(v, tok) {
			t.Errorf("Redis holds the token under %q", k)
		}
	}
}

// TestIntrospectionDeleteReachesReplicas: a Delete on one replica empties
// the other's local tier too.
func TestIntrospectionDeleteReachesReplicas(t *testing.T) {
	r := startRedis(t)
	one, two := newStore(t, r), newStore(t, r)
	waitConnected(t, one)
	waitConnected(t, two)
	ctx := context.Background()
	var res bearer.Result
	if err := json.Unmarshal([]byte(`{"active":true,"sub":"alice"}`), &res); err != nil {
		t.Fatal(err)
	}
	one.Put(ctx, "k", &res, time.Minute)
	if _, ok := two.Get(ctx, "k"); !ok {
		t.Fatal("the other replica does not find the answer")
	}
	if _, ok := two.local.get("k"); !ok {
		t.Fatal("the answer is not in the other replica's local tier")
	}
	one.Delete(ctx, "k")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := two.local.get("k"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other replica's local tier kept a deleted answer")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := two.Get(ctx, "k"); ok {
		t.Error("a deleted answer is still found")
	}
}

// TestIntrospectionSlowRedis: a Redis slower than Options.Timeout is a
// miss, and the Validator asks the authority.
func TestIntrospectionSlowRedis(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	one, _ := connectedReplica(t, a, r)
	two, _ := connectedReplica(t, a, r, func(o *Options) { o.Timeout = 50 * time.Millisecond })
	tok := a.ReferenceToken(claims(nil))
	mustValid(t, one, tok)
	a.ResetHits()

	slept := r.sleep(2 * time.Second)
	mustValid(t, two, tok)
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d introspection calls while Redis is slow, want 1", n)
	}
	<-slept
}
