package main

import "sync"

// seen is which tokens the replicas have accepted, so that the latency
// target times only the validations a replica answers from a cache: a
// JWT from its own validated-token cache, a reference token from the
// introspection answers the replicas share in Redis. A token of a pool
// minted again at a key rotation is not cached when a replica first
// meets it: it waits for the new key (up to KeyRefreshWindow), and is a
// cold validation, timed in its class's row but not in the target's.
type seen struct {
	jwt []sync.Map // by replica: token → struct{}
	ref sync.Map
}

func newSeen(replicas int) *seen { return &seen{jwt: make([]sync.Map, replicas)} }

// cached reports whether a request of c with token, sent to replica, is
// answered from a cache.
func (s *seen) cached(c class, replica int, token string) bool {
	if !c.cached() {
		return false
	}
	_, ok := s.set(c, replica).Load(token)
	return ok
}

// accepted notes that replica accepted token, of class c.
func (s *seen) accepted(c class, replica int, token string) {
	if c.cached() {
		s.set(c, replica).Store(token, struct{}{})
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
