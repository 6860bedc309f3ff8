package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestRevocationReachesReplicas: a revocation made on one replica is
// enforced by the others, and by one started afterwards.
func TestRevocationReachesReplicas(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	one, _ := connectedReplica(t, a, r)
	two := replica(t, a, newStore(t, r))
	tok := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	ref := a.ReferenceToken(claims(bearertest.Payload{"sub": "bob"}))
	mustValid(t, two, tok)
	mustValid(t, two, ref)
	if err := one.Revoke(context.Background(), bearer.Revocation{SessionID: "s-1"}); err != nil {
		t.Fatal(err)
	}
	if err := one.RevokeToken(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	eventuallyRevoked(t, two, tok)
	eventuallyRevoked(t, two, ref)

	three := replica(t, a, newStore(t, r))
	eventuallyRevoked(t, three, tok)
	eventuallyRevoked(t, three, ref)
}

// TestRevocationWhileRedisDown: with Redis down mid-run, requests are
// still served; a revocation holds at once where it was made, Revoke says
// it is queued, and it reaches the other replica once Redis is back.
func TestRevocationWhileRedisDown(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	one, _ := connectedReplica(t, a, r)
	two := replica(t, a, newStore(t, r))
	tok := a.Token(claims(bearertest.Payload{"sub": "carol"}))
	mustValid(t, two, tok)

	r.stop()
	ref := a.ReferenceToken(claims(nil))
	mustValid(t, one, ref) // an introspection miss goes to the authority
	mustValid(t, two, a.Token(claims(nil)))
	err := one.Revoke(context.Background(), bearer.Revocation{Subject: "carol"})
	if !errors.Is(err, ErrQueued) {
		t.Fatalf("Revoke with Redis down: %v, want ErrQueued", err)
	}
	eventuallyRevoked(t, one, tok)
	mustValid(t, two, tok) // not known there yet

	r.start()
	eventuallyRevoked(t, two, tok)
}

// TestDisconnectedReplica: a replica cut off from Redis while the others
// stay connected misses nothing: it receives what was revoked meanwhile
// when it reconnects.
func TestDisconnectedReplica(t *testing.T) {
	r := startRedis(t)
	px := startProxy(t, redisAddr(r.URL()))
	a := bearertest.New(t)
	s1, s2 := newStore(t, r), newStore(t, r, func(o *Options) { o.URL = px.URL() })
	one, two := replica(t, a, s1), replica(t, a, s2)
	waitConnected(t, s1)
	waitConnected(t, s2)
	tok := a.Token(claims(bearertest.Payload{"sid": "s-7"}))
	mustValid(t, two, tok)

	px.setCut(true)
	waitFor(t, func() bool { _, err := s2.conn(); return err != nil })
	if err := one.Revoke(context.Background(), bearer.Revocation{SessionID: "s-7"}); err != nil {
		t.Fatalf("Revoke on a connected replica: %v", err)
	}
	mustValid(t, two, tok) // cut off: it cannot know yet
	px.setCut(false)
	eventuallyRevoked(t, two, tok)
}

// TestRedisDownAtStart: a Store starts without Redis; revocations made
// meanwhile are published once it answers, to replicas started later too.
func TestRedisDownAtStart(t *testing.T) {
	r := startRedis(t)
	r.stop()
	a := bearertest.New(t)
	one := replica(t, a, newStore(t, r), func(c *bearer.Config) { c.RevocationSyncTimeout = -1 })
	if one.Status().RevocationsSynced {
		t.Error("in sync with Redis down")
	}
	tok := a.Token(claims(bearertest.Payload{"jti": "j-1"}))
	mustValid(t, one, tok)
	if err := one.Revoke(context.Background(), bearer.Revocation{TokenID: "j-1"}); !errors.Is(err, ErrQueued) {
		t.Fatalf("Revoke before Redis ever answered: %v, want ErrQueued", err)
	}
	eventuallyRevoked(t, one, tok)

	r.start()
	two := replica(t, a, newStore(t, r))
	eventuallyRevoked(t, two, tok)
}

// TestRedisRestartedEmpty: a Redis that comes back without its data is
// filled again by the replicas that knew the revocations, so a replica
// started afterwards enforces them too.
func TestRedisRestartedEmpty(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	one, _ := connectedReplica(t, a, r)
	tok := a.Token(claims(bearertest.Payload{"sid": "s-9"}))
	if err := one.Revoke(context.Background(), bearer.Revocation{SessionID: "s-9"}); err != nil {
		t.Fatal(err)
	}
	r.do("SET", "marker", "1")
	r.restart()
	if n, _ := r.do("EXISTS", "marker").AsInt64(); n != 0 {
		t.Fatal("the restarted Redis is not empty")
	}
	// The Store notices on its next command: the Validator's
	// subscription, reading the stream, fails.
	two := replica(t, a, newStore(t, r))
	eventuallyRevoked(t, two, tok)
	eventuallyRevoked(t, one, tok)
}

// TestRedisRestartedEmptyRefilledAtOnce: a Store writes the revocations
// it knows back to a Redis restarted empty in a few round trips, not two
// per revocation: found by the soak (docs/reliability.md), where three
// replicas writing back a few hundred each, one after the other, were
// back seconds after Redis, and a sign-out made then reached them late.
func TestRedisRestartedEmptyRefilledAtOnce(t *testing.T) {
	r := startRedis(t)
	px := startProxy(t, redisAddr(r.URL()))
	s := newStore(t, px)
	waitConnected(t, s)
	ctx := context.Background()
	const n = 300
	for i := range n {
		if err := s.Revoke(ctx, bearer.Revocation{SessionID: "s-" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	r.restart()
	px.writes.Store(0)
	// As the Store does when a command fails on the lost connection (the
	// subscription's read, in an API).
	s.markDown(errors.New("connection lost"))
	waitConnected(t, s)
	if got, _ := r.do("ZCARD", s.keys.revocations).AsInt64(); got != n {
		t.Fatalf("%d revocations written back, want %d", got, n)
	}
	if w := px.writes.Load(); w >= n {
		t.Errorf("%d writes to write %d revocations back: one round trip each", w, n)
	}
}

// TestReplayInChunks: a replica started late receives every revocation in
// force, however many, and many expiring in the same millisecond.
func TestReplayInChunks(t *testing.T) {
	r := startRedis(t)
	s := newStore(t, r)
	waitConnected(t, s)
	ctx := context.Background()
	const n = 2*replayChunk + 500
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	for i := range n {
		e := exp
		if i%2 == 0 {
			e = exp.Add(time.Duration(i) * time.Millisecond) // every other one on its own
		}
		if err := s.Revoke(ctx, bearer.Revocation{SessionID: "s-" + strconv.Itoa(i), Expires: e}); err != nil {
			t.Fatal(err)
		}
	}
	late := newStore(t, r)
	waitConnected(t, late)
	got := make(map[string]bool)
	c, err := late.conn()
	if err != nil {
		t.Fatal(err)
	}
	if err := late.replay(ctx, c, func(r bearer.Revocation) { got[r.SessionID] = true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Errorf("replayed %d revocations, want %d", len(got), n)
	}
}

// TestSubscribeRefused: a key of another type where the stream should be
// makes Subscribe try again after a pause, not in a loop, and it delivers
// once the key is fixed.
func TestSubscribeRefused(t *testing.T) {
	r := startRedis(t)
	r.do("SET", "test:{revocations}-stream", "not a stream")
	a := bearertest.New(t)
	s1, s2 := newStore(t, r), newStore(t, r)
	noWait := func(c *bearer.Config) { c.RevocationSyncTimeout = -1 } // the subscriptions fail
	one, two := replica(t, a, s1, noWait), replica(t, a, s2, noWait)
	waitConnected(t, s1)
	tok := a.Token(claims(bearertest.Payload{"sid": "s-5"}))
	time.Sleep(300 * time.Millisecond) // two's subscription fails meanwhile
	before, _ := r.do("INFO", "stats").ToString()
	time.Sleep(500 * time.Millisecond)
	after, _ := r.do("INFO", "stats").ToString()
	if n := commands(after) - commands(before); n > 20 {
		t.Errorf("%d commands in 0.5 s while the stream key is wrong: a loop", n)
	}
	r.do("DEL", "test:{revocations}-stream")
	if err := one.Revoke(context.Background(), bearer.Revocation{SessionID: "s-5"}); err != nil && !errors.Is(err, ErrQueued) {
		t.Fatal(err)
	}
	eventuallyRevoked(t, two, tok)
}

// commands reads total_commands_processed from INFO stats.
func commands(info string) int {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
