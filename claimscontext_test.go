package bearer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

type parentKey struct{}

type childKey struct{}

// TestNewContextCarriesTheClaimsItWasGiven: the context a Validator's
// claims are put on carries those claims and everything of its parent,
// the parent's values, deadline and cancellation, however often
// NewContext is called with the same claims and whichever parent: the
// first call uses the node the claims have room for, the others nodes of
// their own.
func TestNewContextCarriesTheClaimsItWasGiven(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	token := a.Token(claims(nil))
	miss, hit := mustValid(t, v, token), mustValid(t, v, token)

	deadline := time.Now().Add(time.Hour)
	p1, cancel1 := context.WithDeadline(context.WithValue(context.Background(), parentKey{}, "p1"), deadline)
	p2, cancel2 := context.WithCancel(context.WithValue(context.Background(), parentKey{}, "p2"))
	defer cancel2()
	byHand := &bearer.Claims{Subject: "bob"}
	ctxs := []struct {
		ctx    context.Context
		parent string
		claims *bearer.Claims
	}{
		{bearer.NewContext(p1, hit), "p1", hit},
		{bearer.NewContext(p2, hit), "p2", hit}, // the same claims again
		{bearer.NewContext(p2, miss), "p2", miss},
		{bearer.NewContext(p1, byHand), "p1", byHand},
	}
	for i, c := range ctxs {
		if got, ok := bearer.ClaimsFromContext(c.ctx); !ok || got != c.claims {
			t.Errorf("context %d: claims %p (%v), want %p", i, got, ok, c.claims)
		}
		if p := c.ctx.Value(parentKey{}); p != c.parent {
			t.Errorf("context %d: parent's value %v, want %s", i, p, c.parent)
		}
		// A context made from it finds the claims and the parent's
		// values through it.
		child := context.WithValue(c.ctx, childKey{}, 1)
		if got, _ := bearer.ClaimsFromContext(child); got != c.claims || child.Value(parentKey{}) != c.parent {
			t.Errorf("context %d: a child finds %p and %v", i, got, child.Value(parentKey{}))
		}
	}
	if d, ok := ctxs[0].ctx.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline = %v, %v; want the parent's", d, ok)
	}
	child, cancelChild := context.WithCancel(ctxs[0].ctx)
	defer cancelChild()
	cancel1()
	for _, ctx := range []context.Context{ctxs[0].ctx, child} {
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("cancelling the parent did not end the context")
		}
		if ctx.Err() != context.Canceled {
			t.Errorf("Err = %v", ctx.Err())
		}
	}
	if ctxs[1].ctx.Err() != nil {
		t.Errorf("a context of another parent ended: %v", ctxs[1].ctx.Err())
	}
	if s := fmt.Sprint(ctxs[0].ctx); s == "" {
		t.Error("the context prints as nothing")
	}
}

// TestNewContextConcurrently: goroutines that put the same claims on
// contexts of their own at once each get a context with those claims and
// their own parent (run with -race: one of them takes the claims' node).
func TestNewContextConcurrently(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	token := a.Token(claims(nil))
	mustValid(t, v, token)
	for range 20 {
		c := mustValid(t, v, token) // a cache hit: claims of their own
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				ctx := bearer.NewContext(context.WithValue(context.Background(), parentKey{}, i), c)
				if got, ok := bearer.ClaimsFromContext(ctx); !ok || got != c || ctx.Value(parentKey{}) != i {
					t.Errorf("goroutine %d: claims %p, parent's value %v", i, got, ctx.Value(parentKey{}))
				}
			})
		}
		wg.Wait()
	}
}

// TestMapIsOneMapPerClaims: Map returns the same map on every call on the
// same Claims, also to first calls at once (run with -race), and the
// claims another request got from the cache have a map of their own.
func TestMapIsOneMapPerClaims(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	token := a.Token(claims(bearertest.Payload{"tenant": "acme"}))
	mustValid(t, v, token)
	c := mustValid(t, v, token)
	maps := make([]map[string]any, 8)
	var wg sync.WaitGroup
	for i := range maps {
		wg.Go(func() { maps[i] = c.Map() })
	}
	wg.Wait()
	maps[0]["tenant"] = "changed"
	for i, m := range append(maps, c.Map()) {
		if m["tenant"] != "changed" {
			t.Errorf("map %d is another map: tenant %v", i, m["tenant"])
		}
	}
	if other := mustValid(t, v, token).Map(); other["tenant"] != "acme" {
		t.Errorf("another request's Map: tenant %v, want acme", other["tenant"])
	}
}

// TestCacheHitAllocations: a cache hit makes one allocation, the claims'
// copy, and putting those claims on a context makes none more (issue 28:
// nothing on a hit beyond the claims' copy).
func TestCacheHitAllocations(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	token := a.Token(claims(nil))
	mustValid(t, v, token)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		c, err := v.Validate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := bearer.ClaimsFromContext(bearer.NewContext(ctx, c)); !ok {
			t.Fatal("no claims on the context")
		}
	})
	if allocs != 1 {
		t.Errorf("a hit and its context: %v allocations, want 1", allocs)
	}
}
