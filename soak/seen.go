package main

import (
	"sync"
	"time"
)

// cacheDuration is how long the replicas reuse a validation, a JWT's or
// an introspection answer's: examples/api keeps Config.CacheDuration's
// default.
const cacheDuration = time.Minute

// seen is which tokens the replicas have cached, so that the latency
// target times only the validations a replica answers from a cache: a
// JWT from its own validated-token cache, a reference token from the
// introspection answers the replicas share in Redis, each for
// cacheDuration after the request that cached it. A token of a pool
// minted again at a key rotation is not cached when a replica first
// meets it: it waits for the new key (up to KeyRefreshWindow), and is a
// cold validation, timed in its class's row but not in the target's; nor
// is a reference token whose answer has expired, which is introspected
// again, slowly while introspection is slow.
type seen struct {
	jwt []sync.Map // by replica: token → when it was cached
	ref sync.Map
}

func newSeen(replicas int) *seen { return &seen{jwt: make([]sync.Map, replicas)} }

// cached reports whether a request of c with token, sent to replica at
// start, is answered from a cache.
func (s *seen) cached(c class, replica int, token string, start time.Time) bool {
	if !c.cached() {
		return false
	}
	at, ok := s.set(c, replica).Load(token)
	return ok && start.Sub(at.(time.Time)) < cacheDuration
}

// accepted notes that replica accepted token, of class c, in a request
// sent at start that a cache did not answer: the token is cached from
// then on. The cache's entry is made at the end of the validation, so
// counting from start stops counting before it expires, never after.
func (s *seen) accepted(c class, replica int, token string, start time.Time) {
	if c.cached() {
		s.set(c, replica).Store(token, start)
	}
}

// restarted forgets what replica had cached.
func (s *seen) restarted(replica int) { s.jwt[replica].Clear() }

// emptied forgets the introspection answers Redis held.
func (s *seen) emptied() { s.ref.Clear() }

func (s *seen) set(c class, replica int) *sync.Map {
	if c == goodRef {
		return &s.ref
	}
	return &s.jwt[replica]
}
