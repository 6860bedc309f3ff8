package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestSentinelFailover: on a Sentinel group, what replicas share works,
// and nothing is lost or wrongly accepted across a failover.
func TestSentinelFailover(t *testing.T) {
	testFailover(t, startSentinelGroup(t))
}

// TestClusterFailover: the same on a Cluster of three primaries, where
// the set and the stream of revocations live on one primary, so that its
// failover is seen by every replica reading the stream (see newKeys).
func TestClusterFailover(t *testing.T) {
	c := startCluster(t)
	k := newKeys("test")
	set, _ := c.nodes[0].do("CLUSTER", "KEYSLOT", k.revocations).AsInt64()
	stream, _ := c.nodes[0].do("CLUSTER", "KEYSLOT", k.stream).AsInt64()
	if set != stream {
		t.Errorf("the revocations' set is in slot %d, their stream in %d", set, stream)
	}
	testFailover(t, c)
}

func testFailover(t *testing.T, topo topology) {
	ctx := context.Background()
	a := bearertest.New(t)
	s1, s2 := newStore(t, topo), newStore(t, topo)
	one, two := replica(t, a, s1), replica(t, a, s2)
	waitConnected(t, s1)
	waitConnected(t, s2)
	good := a.Token(claims(nil))
	ref := a.ReferenceToken(claims(nil))

	// Revocations reach the other replica.
	before := a.Token(claims(bearertest.Payload{"sid": "before"}))
	mustValid(t, two, before)
	if err := one.Revoke(ctx, bearer.Revocation{SessionID: "before"}); err != nil {
		t.Fatal(err)
	}
	eventuallyRevoked(t, two, before)

	// An introspection answer is asked of the authority once.
	a.ResetHits()
	mustValid(t, one, ref)
	mustValid(t, two, ref)
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d introspection calls for two replicas, want 1", n)
	}
	deleteReaches(t, s1, s2, "k-before")

	// Ids seen once, on the primary that fails over.
	victim := topo.primaryOf(s1.keys.revocations)
	var ids []string
	for i := 0; len(ids) < 3; i++ {
		id := fmt.Sprintf("iss jti-%d", i)
		sum := sha256.Sum256([]byte(id))
		if topo.primaryOf(s1.keys.seen+hex.EncodeToString(sum[:])) == victim {
			ids = append(ids, id)
		}
	}
	exp := time.Now().Add(time.Hour)
	for _, id := range ids {
		if first, err := s1.FirstSeen(ctx, id, exp); err != nil || !first {
			t.Fatalf("FirstSeen(%q): %v, %v; want true", id, first, err)
		}
		if first, err := s2.FirstSeen(ctx, id, exp); err != nil || first {
			t.Fatalf("FirstSeen(%q) again: %v, %v; want false", id, first, err)
		}
	}

	during := a.Token(claims(bearertest.Payload{"sid": "during"}))
	mustValid(t, two, during)
	topo.failover(func() {
		// Made while the primary is gone: it holds here at once, and is
		// published when Redis is back.
		if err := one.Revoke(ctx, bearer.Revocation{SessionID: "during"}); err != nil && !errors.Is(err, ErrQueued) {
			t.Errorf("Revoke during the failover: %v", err)
		}
		eventuallyRevoked(t, one, during)
	})

	// Nothing lost: what was revoked before and during holds on the
	// replicas that ran through it, and on one started afterwards.
	three := replica(t, a, newStore(t, topo))
	for _, v := range []*bearer.Validator{one, two, three} {
		eventuallyRevoked(t, v, before)
		eventuallyRevoked(t, v, during)
		mustValid(t, v, good)
		mustValid(t, v, ref)
	}
	// Nothing wrongly accepted: an id seen before is not first now. Until
	// the Store is back FirstSeen fails, which refuses too.
	for _, id := range ids {
		waitLong(t, 30*time.Second, "FirstSeen to answer", func() bool {
			first, err := s2.FirstSeen(ctx, id, exp)
			if err == nil && first {
				t.Fatalf("FirstSeen(%q) after the failover: true, an id seen before", id)
			}
			return err == nil
		})
	}
	// And it all still works.
	after := a.Token(claims(bearertest.Payload{"sid": "after"}))
	mustValid(t, three, after)
	if err := two.Revoke(ctx, bearer.Revocation{SessionID: "after"}); err != nil && !errors.Is(err, ErrQueued) {
		t.Fatal(err)
	}
	for _, v := range []*bearer.Validator{one, three} {
		eventuallyRevoked(t, v, after)
	}
	deleteReaches(t, s1, s2, "k-after")
}

// deleteReaches checks that an answer put by one Store is found by the
// other, and that a Delete by the first empties the other's local tier,
// retrying while either is reconnecting.
func deleteReaches(t *testing.T, one, two *Store, key string) {
	t.Helper()
	ctx := context.Background()
	var res bearer.Result
	if err := json.Unmarshal([]byte(`{"active":true,"sub":"alice"}`), &res); err != nil {
		t.Fatal(err)
	}
	waitLong(t, 30*time.Second, "the other replica to find the answer", func() bool {
		one.Put(ctx, key, &res, time.Minute)
		two.local.remove(key)
		_, ok := two.Get(ctx, key)
		return ok
	})
	waitLong(t, 30*time.Second, "the other replica to drop a deleted answer", func() bool {
		one.Delete(ctx, key)
		_, ok := two.local.get(key)
		return !ok
	})
}
